/**
 * What an idle channel and an idle session keep outside V8's heap. A rendezvous holds one of each
 * per registered client; memory the C allocator hands out (a typed array over 64 bytes gets a
 * buffer of its own there) stays with the process after a churn of many clients, while V8's own
 * heap shrinks back. So the parts every channel and session has keep their state on V8's heap:
 * counted here in bytes of ArrayBuffers held (process.memoryUsage().arrayBuffers), not by RSS
 * or time.
 */
import { describe, expect, it } from 'vitest';
import { Channel } from '../src/secure/channel.js';
import { REPLAY_WINDOW, ReplayWindow } from '../src/secure/replay-window.js';
import { Timers } from '../src/session/timers.js';

const COUNT = 5_000;

/** Bytes of ArrayBuffers that holding `COUNT` things made by `make` takes, per thing. */
function offHeapBytesEach(make: () => unknown): number {
  const held: unknown[] = [];
  const before = process.memoryUsage().arrayBuffers;
  for (let i = 0; i < COUNT; i++) held.push(make());
  const grew = process.memoryUsage().arrayBuffers - before;
  expect(held).toHaveLength(COUNT);
  return grew / COUNT;
}

describe('an idle channel and session, outside V8 heap', () => {
  it("a channel (its replay window) holds no buffer of the C allocator's", () => {
    // A Uint32Array window was 260 bytes each, outside the heap.
    expect(offHeapBytesEach(() => new Channel(1, { host: '127.0.0.1', port: 1 }, false, 0))).toBeLessThan(16);
  });

  it("a session's timers hold no buffer of the C allocator's", () => {
    // A Float64Array of 12 deadlines was 96 bytes each, outside the heap.
    expect(offHeapBytesEach(() => new Timers())).toBeLessThan(16);
  });

  it('the replay window still tells every bit of its 32-bit blocks apart, the top bit included', () => {
    const w = new ReplayWindow();
    w.mark(REPLAY_WINDOW + 100);
    // Bit 31 of several blocks (negative as a 32-bit integer), out of order, below the highest.
    const top = [127, 159, 191, REPLAY_WINDOW + 95];
    for (const c of top) {
      expect(w.mayAccept(c)).toBe(true);
      w.mark(c);
      expect(w.mayAccept(c)).toBe(false);
    }
    // Their neighbours were not marked with them.
    for (const c of [126, 128, 158, 160, 190, 192, REPLAY_WINDOW + 94, REPLAY_WINDOW + 96])
      expect(w.mayAccept(c)).toBe(true);
  });
});

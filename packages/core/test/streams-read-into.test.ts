/**
 * readStreamInto (issue 20, the file receiver's CPU): a peer's stream read into the caller's own
 * buffer, one copy out of the stream's buffer and no array per read, with readStream's rules:
 * reading is what grows the peer's credit, the fin is seen by a read, a stream we stopped has
 * nothing readable, and a bad offset or length is the caller's error.
 */
import { describe, expect, it } from 'vitest';
import { NetchatError } from '../src/index.js';
import { pattern, StreamWriter, streamPair } from './support/stream-apps.js';
import { eventsOf } from './support/virtual-network.js';

const equal = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** a writes `size` bytes on a new stream to b; b reads nothing by itself. */
function unread(size: number, options = {}) {
  const pair = streamPair(options);
  const stream = pair.a.endpoint.openStream(pair.sa, pair.net.now);
  const data = pattern(size, 3);
  const writer = new StreamWriter(pair.net, pair.a, pair.sa, stream, data);
  return { ...pair, stream, data, writer };
}

describe('readStreamInto', () => {
  it('carries a stream many windows long through loss into one reused buffer, and sees its fin', () => {
    const window = 64 * 1024;
    const { net, a, b, sb, stream, data, writer } = unread(1_000_000, { streamWindow: window });
    net.conditions = { latency: 10, jitter: 5, loss: 0.05, duplicate: 0 };
    const into = new Uint8Array(10_000);
    const got = new Uint8Array(data.length);
    let have = 0;
    let reads = 0;
    const finished = () => eventsOf(b, 'stream_finished').some((e) => e.stream === stream);
    // Reads at shifting offsets of the same buffer, as a reader that lends part of it would.
    const drain = () => {
      for (let i = 0; i < 10_000 && !finished(); i++) {
        const at = reads % 7;
        const n = b.endpoint.readStreamInto(sb, stream, into, at, into.length, net.now);
        if (n === 0) return;
        expect(n).toBeLessThanOrEqual(into.length - at);
        got.set(into.subarray(at, at + n), have);
        have += n;
        reads++;
      }
    };
    expect(net.run(() => b.endpoint.streamInfo(sb, stream) !== undefined, net.now + 10_000)).toBe(true);
    for (let round = 0; round < 2_000 && !finished(); round++) {
      drain();
      net.runFor(20);
    }
    expect(finished()).toBe(true);
    expect(have).toBe(data.length);
    expect(equal(got, data)).toBe(true);
    // The peer could only have sent it all on the credit these reads gave: 1 MB is 15 windows.
    expect(writer.done || net.run(() => writer.done, net.now + 10_000)).toBe(true);
    expect(eventsOf(a, 'stream_finished')).toMatchObject([{ stream, direction: 'send' }]);
    // Read to its end and forgotten: a last read gives nothing, and throws nothing.
    expect(b.endpoint.readStreamInto(sb, stream, into, 0, 10, net.now)).toBe(0);
  });

  it('copies at most `max` bytes and what fits after `at`, and touches nothing else', () => {
    const { net, b, sb, stream, data } = unread(50_000);
    net.run(() => (b.endpoint.streamInfo(sb, stream)?.available ?? 0) >= 20_000, net.now + 10_000);
    const into = new Uint8Array(1_000).fill(0xee);
    expect(b.endpoint.readStreamInto(sb, stream, into, 100, 300, net.now)).toBe(300);
    expect(equal(into.subarray(100, 400), data.subarray(0, 300))).toBe(true);
    expect(into.subarray(0, 100).every((x) => x === 0xee)).toBe(true);
    expect(into.subarray(400).every((x) => x === 0xee)).toBe(true);
    // Asked for more than fits: what fits (from 900, 100 bytes), and the next read goes on from there.
    expect(b.endpoint.readStreamInto(sb, stream, into, 900, 5_000, net.now)).toBe(100);
    expect(equal(into.subarray(900), data.subarray(300, 400))).toBe(true);
    expect(b.endpoint.readStreamInto(sb, stream, into, 1_000, 5_000, net.now)).toBe(0);
    expect(b.endpoint.readStreamInto(sb, stream, into, 0, 0, net.now)).toBe(0);
    expect(equal(b.endpoint.readStream(sb, stream, 10, net.now), data.subarray(400, 410))).toBe(true);
  });

  it('reads nothing of a stream we stopped: what it held is not copied out', () => {
    const { net, b, sb, stream } = unread(500_000);
    net.run(() => (b.endpoint.streamInfo(sb, stream)?.available ?? 0) > 50_000, net.now + 10_000);
    b.endpoint.cancelStream(sb, stream, net.now, 7);
    const into = new Uint8Array(100_000).fill(0xee);
    expect(b.endpoint.readStreamInto(sb, stream, into, 0, into.length, net.now)).toBe(0);
    expect(into.every((x) => x === 0xee)).toBe(true);
  });

  it('throws INVALID_ARGUMENT for an offset outside the buffer, a bad length or our own stream', () => {
    const { net, a, b, sa, sb, stream } = unread(10_000);
    net.run(() => (b.endpoint.streamInfo(sb, stream)?.available ?? 0) > 0, net.now + 10_000);
    const into = new Uint8Array(16);
    const invalid = (call: () => unknown) => {
      try {
        call();
      } catch (error) {
        expect(error).toBeInstanceOf(NetchatError);
        return (error as NetchatError).code;
      }
      return 'no error';
    };
    for (const [at, max] of [
      [-1, 4],
      [17, 4],
      [1.5, 4],
      [0, -1],
      [0, Number.NaN],
    ] as const)
      expect(
        invalid(() => b.endpoint.readStreamInto(sb, stream, into, at, max, net.now)),
        `${at} ${max}`,
      ).toBe('INVALID_ARGUMENT');
    expect(invalid(() => a.endpoint.readStreamInto(sa, stream, into, 0, 4, net.now))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(invalid(() => b.endpoint.readStreamInto(sb, 98, into, 0, 4, net.now))).toBe('NO_SUCH_STREAM');
    // Nothing was taken by the bad calls.
    expect(b.endpoint.readStreamInto(sb, stream, into, 0, 16, net.now)).toBe(16);
  });
});

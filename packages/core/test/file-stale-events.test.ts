/**
 * Stream events that reach the file engine after their session ended (a program whose event loop
 * fell behind: stopped with SIGSTOP and resumed, or starved; NetchatPeer tells a batch of events
 * after the engine call that made it, so a `stream_readable` can come after the endpoint already
 * forgot the session). Nothing throws, nothing is kept for the dead session, and the transfer
 * ends interrupted when the `closed` comes.
 */
import { describe, expect, it } from 'vitest';
import type { NetchatEvent } from '../src/index.js';
import { filePair } from './support/file-peers.js';
import { randomData } from './support/partial-files.js';
import { eventsOf } from './support/virtual-network.js';

describe('stream events after their session ended', () => {
  it("the sender, behind, hears the peer's control stream readable after the peer quit: no throw, the transfer interrupted", () => {
    const { net, sa, sb, a, b, alice, bob } = filePair();
    const transfer = alice.offer(sa, { 'big.bin': randomData(3_000_000, 1) });
    expect(net.run(() => bob.of('file_offer').length > 0, net.now + 10_000)).toBe(true);
    bob.accept(bob.of('file_offer')[0]?.transfer ?? -1);
    expect(net.run(() => alice.of('file_progress').length > 0, net.now + 30_000)).toBe(true);
    // Bob's control stream, as alice's endpoint saw it open.
    const theirs = eventsOf(a, 'stream_opened').find((e) => e.session === sa)?.stream;
    expect(theirs).toBeDefined();
    alice.held = [];
    b.endpoint.close(sb, net.now);
    expect(
      net.run(
        () => a.endpoint.session(sa) === undefined || a.endpoint.session(sa)?.state !== 'open',
        net.now + 10_000,
      ),
    ).toBe(true);
    // Late events for the gone session, then what was held (the `closed` among them).
    const base = { session: sa, peer: b.address };
    const stale: NetchatEvent[] = [
      { ...base, type: 'stream_readable', stream: theirs as number },
      { ...base, type: 'stream_writable', stream: 0 },
      { ...base, type: 'streams_available', count: 1 },
      { ...base, type: 'stream_opened', stream: 99 },
      { ...base, type: 'stream_finished', stream: 0, direction: 'send' },
    ];
    for (const event of stale) expect(() => alice.engine.handle(event, net.now)).not.toThrow();
    alice.release();
    expect(alice.of('file_failed').filter((e) => e.transfer === transfer)).toMatchObject([
      { reason: 'interrupted' },
    ]);
    expect(alice.engine.list().find((t) => t.id === transfer)?.state).toBe('interrupted');
    expect(alice.engine.stats.protocolErrors).toBe(0);
  });
});

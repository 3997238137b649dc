/**
 * A close lingers for the streams opened with `lingers` (PROTOCOL.md, Closing): what was written
 * on them reaches the peer before the disconnect does, through loss, and a peer that takes none
 * of it holds the close at most STREAM_LINGER_MS. Other streams are cancelled by a close at once,
 * as before. The files protocol's control stream lingers: a decline written just before a close
 * is told to the peer as a decline, not as a chat that ended.
 */
import { describe, expect, it } from 'vitest';
import { STREAM_LINGER_MS } from '../src/streams/stream-set.js';
import { filePair } from './support/file-peers.js';
import { randomData } from './support/partial-files.js';
import { StreamReader, streamPair } from './support/stream-apps.js';
import { eventsOf } from './support/virtual-network.js';

/**
 * A pair where a wrote 3,000 bytes on a stream its close lingers for, and b takes the packets but
 * never acknowledges them (it still answers heartbeats and text, and sends its own packets).
 */
function unacknowledgedLingeringStream(seed: number, dataSeed: number) {
  const pair = streamPair({}, seed);
  const { net, a, b, sa } = pair;
  net.conditions = { latency: 10, jitter: 0, loss: 0, duplicate: 0 };
  const stream = a.endpoint.openStream(sa, net.now, { lingers: true });
  a.endpoint.writeStream(sa, stream, randomData(3_000, dataSeed), net.now);
  net.filter = (from, _to, _data, message) =>
    !(from.port === b.address.port && message?.type === 'stream_ack');
  return { ...pair, stream };
}

describe('a close and the streams it lingers for', () => {
  for (const loss of [0, 0.2])
    it(`a decline written just before a close reaches the peer as a decline (${loss * 100} % loss)`, () => {
      for (const seed of [1, 2, 3]) {
        const pair = filePair({}, seed);
        const { net, sa, sb, alice, bob } = pair;
        net.conditions = { latency: 1, jitter: 0, loss, duplicate: 0 };
        const transfer = alice.offer(sa, { 'no.bin': randomData(10_000) });
        expect(net.run(() => bob.of('file_offer').length > 0, net.now + 10_000)).toBe(true);
        bob.decline(bob.of('file_offer')[0]?.transfer ?? -1);
        pair.b.endpoint.close(sb, net.now);
        expect(
          net.run(() => eventsOf(pair.a, 'closed').length > 0, net.now + 30_000),
          `seed ${seed}`,
        ).toBe(true);
        // Told as a decline, never as an interrupted transfer offered again at the next chat.
        expect(alice.of('file_declined'), `seed ${seed}`).toMatchObject([
          { transfer, reason: 'declined', by: 'peer' },
        ]);
        expect(alice.of('file_failed'), `seed ${seed}`).toEqual([]);
        expect(eventsOf(pair.a, 'closed')[0]?.reason).toBe('peer_closed');
      }
    });

  it('every byte written on a lingering stream before the close is read by the peer before it hears of the close', () => {
    const { net, a, b, sa, sb } = streamPair({}, 4);
    net.conditions = { latency: 10, jitter: 5, loss: 0.1, duplicate: 0.05 };
    const reader = new StreamReader(net, b, sb);
    const stream = a.endpoint.openStream(sa, net.now, { lingers: true });
    const data = randomData(20_000, 9);
    expect(a.endpoint.writeStream(sa, stream, data, net.now)).toBe(data.length);
    a.endpoint.close(sa, net.now);
    expect(net.run(() => eventsOf(b, 'closed').length > 0, net.now + 30_000)).toBe(true);
    expect(Buffer.from(reader.bytes(stream)).equals(Buffer.from(data))).toBe(true);
    expect(net.run(() => a.endpoint.session(sa) === undefined, net.now + 10_000)).toBe(true);
  });

  it('a stream without `lingers` is cancelled by a close at once, and the close does not wait for it', () => {
    const { net, a, b, sa, sb } = streamPair({}, 5);
    net.conditions = { latency: 10, jitter: 0, loss: 0, duplicate: 0 };
    const reader = new StreamReader(net, b, sb);
    const stream = a.endpoint.openStream(sa, net.now);
    // Held back from the wire by the pacer and window: most of it never goes.
    a.endpoint.writeStream(sa, stream, randomData(4_000_000, 3), net.now);
    const closedAt = net.now;
    a.endpoint.close(sa, net.now);
    expect(net.run(() => eventsOf(b, 'closed').length > 0, net.now + 30_000)).toBe(true);
    // The disconnect went at once: it arrived after one trip, not after the data.
    expect(eventsOf(b, 'closed')[0]?.at).toBeLessThan(closedAt + 100);
    expect(reader.bytesRead).toBeLessThan(4_000_000);
    expect(eventsOf(a, 'stream_cancelled')).toMatchObject([{ stream, reason: 'session_ended', by: 'local' }]);
  });

  it('a peer that acknowledges none of a lingering stream holds the close at most STREAM_LINGER_MS', () => {
    const { net, a, b, sa } = unacknowledgedLingeringStream(6, 4);
    const closedAt = net.now;
    a.endpoint.close(sa, net.now);
    expect(a.endpoint.session(sa)?.state).toBe('lingering');
    expect(net.run(() => eventsOf(b, 'closed').length > 0, net.now + 60_000)).toBe(true);
    const heard = (eventsOf(b, 'closed')[0]?.at ?? 0) - closedAt;
    expect(heard).toBeGreaterThanOrEqual(STREAM_LINGER_MS);
    expect(heard).toBeLessThan(STREAM_LINGER_MS + 1_000);
    expect(eventsOf(b, 'closed')[0]?.reason).toBe('peer_closed');
  });

  it('a stop from the peer for a lingering stream ends the wait for it at once', () => {
    // b acknowledges none of it: only its stop can end a's wait before STREAM_LINGER_MS.
    const { net, a, b, sa, sb, stream } = unacknowledgedLingeringStream(8, 6);
    expect(net.run(() => eventsOf(b, 'stream_opened').length > 0, net.now + 5_000)).toBe(true);
    a.endpoint.close(sa, net.now);
    expect(a.endpoint.session(sa)?.state).toBe('lingering');
    const stoppedAt = net.now;
    b.endpoint.cancelStream(sb, stream, net.now, 7);
    expect(net.run(() => eventsOf(b, 'closed').length > 0, net.now + 30_000)).toBe(true);
    expect((eventsOf(b, 'closed')[0]?.at ?? 0) - stoppedAt).toBeLessThan(200);
    expect(eventsOf(b, 'closed')[0]?.reason).toBe('peer_closed');
    // a's application hears why its stream ended: the peer's stop, with its code.
    expect(eventsOf(a, 'stream_cancelled')).toMatchObject([
      { stream, by: 'peer', reason: 'cancelled', code: 7 },
    ]);
  });

  it("a peer's stream opened and reset after our close is acknowledged, not opened: the application closed the session", () => {
    // b acknowledges none of a's stream, so a lingers; b's own packets still go.
    const { net, a, b, sa, sb } = unacknowledgedLingeringStream(9, 7);
    expect(net.run(() => eventsOf(b, 'stream_opened').length > 0, net.now + 5_000)).toBe(true);
    a.endpoint.close(sa, net.now);
    expect(a.endpoint.session(sa)?.state).toBe('lingering');
    const closedAt = net.now;
    // b has not heard of the close: it opens a stream of its own and resets it at once.
    const late = b.endpoint.openStream(sb, net.now);
    b.endpoint.cancelStream(sb, late, net.now, 3);
    net.runFor(1_000);
    expect(a.endpoint.session(sa)?.state).toBe('lingering');
    // a's application closed the session: it hears of no stream after that.
    expect(eventsOf(a, 'stream_opened').filter((e) => e.at >= closedAt)).toEqual([]);
    expect(eventsOf(a, 'stream_cancelled').filter((e) => e.stream === late)).toEqual([]);
    // The reset was acknowledged: b sent it once, not again and again.
    const resets = b.sent.filter((d) => d.at >= closedAt && d.message?.type === 'stream_reset');
    expect(resets).toHaveLength(1);
  });

  it('a lingering stream whose bytes were all acknowledged before the close holds nothing', () => {
    const { net, a, b, sa, sb } = streamPair({}, 7);
    net.conditions = { latency: 10, jitter: 0, loss: 0, duplicate: 0 };
    const reader = new StreamReader(net, b, sb);
    const stream = a.endpoint.openStream(sa, net.now, { lingers: true });
    a.endpoint.writeStream(sa, stream, randomData(500, 5), net.now);
    expect(
      net.run(
        () => reader.bytesRead === 500 && a.endpoint.streamInfo(sa, stream)?.buffered === 0,
        net.now + 5_000,
      ),
    ).toBe(true);
    a.endpoint.close(sa, net.now);
    expect(a.endpoint.session(sa)?.state).toBe('closing');
  });
});

/**
 * Streams through two real endpoints on the virtual network (issue 19): bytes arrive whole and
 * in order through loss, duplication, reordering, a cut link and a peer that moves; flow control
 * bounds what a slow reader holds; either side cancels; chat goes first.
 */
import { describe, expect, it } from 'vitest';
import { NetchatError } from '../src/index.js';
import { shapePath } from './support/shaped-links.js';
import { listen, pattern, StreamReader, StreamWriter, streamPair } from './support/stream-apps.js';
import { eventsOf } from './support/virtual-network.js';

const equal = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** a writes `size` bytes to b on a new stream; returns the writer and reader. */
function transfer(pair: ReturnType<typeof streamPair>, size: number, seed = 1) {
  const { net, a, b, sa, sb } = pair;
  const reader = new StreamReader(net, b, sb);
  const stream = a.endpoint.openStream(sa, net.now);
  const data = pattern(size, seed);
  const writer = new StreamWriter(net, a, sa, stream, data);
  const complete = () => writer.done && reader.finished.has(stream);
  return { reader, writer, stream, data, complete };
}

describe('a stream', () => {
  it('carries a megabyte in order, and finishes on both sides', () => {
    const pair = streamPair();
    const { reader, writer, stream, data, complete } = transfer(pair, 1_000_000);
    expect(pair.net.run(complete, pair.net.now + 60_000)).toBe(true);
    expect(equal(reader.bytes(stream), data)).toBe(true);
    expect(writer.done).toBe(true);
    expect(eventsOf(pair.b, 'stream_opened').map((e) => e.stream)).toEqual([stream]);
    expect(eventsOf(pair.a, 'stream_finished')).toMatchObject([{ stream, direction: 'send' }]);
    expect(eventsOf(pair.b, 'stream_finished')).toMatchObject([{ stream, direction: 'receive' }]);
  });

  it('arrives whole through 10 % loss, duplication and reordering each way', () => {
    for (const seed of [1, 2, 3]) {
      const pair = streamPair({}, seed);
      pair.net.conditions = { latency: 10, jitter: 15, loss: 0.1, duplicate: 0.1 };
      const { reader, stream, data, complete } = transfer(pair, 300_000, seed);
      expect(pair.net.run(complete, pair.net.now + 120_000), `seed ${seed}`).toBe(true);
      expect(equal(reader.bytes(stream), data)).toBe(true);
      expect(pair.a.endpoint.pathInfo(pair.b.address)?.lostPackets).toBeGreaterThan(0);
    }
  });

  it('goes on after the link is cut for 5 s mid-transfer', () => {
    const pair = streamPair({ heartbeatInterval: 10_000 });
    const { net } = pair;
    const { reader, stream, data, complete } = transfer(pair, 2_000_000);
    net.run(() => reader.bytesRead > 500_000, net.now + 60_000);
    const cutAt = net.now;
    net.filter = () => net.now > cutAt + 5_000;
    net.runFor(5_000);
    const during = reader.bytesRead;
    expect(during).toBeLessThan(2_000_000);
    expect(net.run(complete, net.now + 120_000)).toBe(true);
    expect(equal(reader.bytes(stream), data)).toBe(true);
    expect(pair.a.endpoint.session(pair.sa)?.state).toBe('open');
  });

  it('follows its peer to a new address mid-transfer (roaming)', () => {
    const pair = streamPair();
    const { net, a, b } = pair;
    const { reader, stream, data, complete } = transfer(pair, 2_000_000);
    net.run(() => reader.bytesRead > 500_000, net.now + 60_000);
    const moved = net.rebind(a, 4444);
    expect(net.run(complete, net.now + 60_000)).toBe(true);
    expect(equal(reader.bytes(stream), data)).toBe(true);
    expect(b.endpoint.session(pair.sb)?.peer).toEqual(moved);
    expect(b.endpoint.secureStats.pathMoves).toBe(1);
  });

  it('runs several at once, each whole, interleaved round robin', () => {
    const pair = streamPair();
    const { net, a, b, sa, sb } = pair;
    const reader = new StreamReader(net, b, sb);
    const writers = [1, 2, 3].map((seed) => {
      const stream = a.endpoint.openStream(sa, net.now);
      return new StreamWriter(net, a, sa, stream, pattern(400_000, seed));
    });
    net.run(() => writers.every((w) => reader.finished.has(w.stream)), net.now + 60_000);
    for (const [i, w] of writers.entries())
      expect(equal(reader.bytes(w.stream), pattern(400_000, i + 1))).toBe(true);
    // Round robin: once all three have bytes waiting, their data packets take turns on the wire.
    const order = a.sent
      .filter((d) => d.message?.type === 'stream_data')
      .map((d) => (d.message as { stream: number }).stream);
    const middle = order.slice(60, 150);
    for (const stream of [0, 2, 4]) expect(middle.filter((s) => s === stream)).toHaveLength(30);
  });

  it('can be empty: opened and finished at once', () => {
    const { net, a, b, sa, sb } = streamPair();
    const reader = new StreamReader(net, b, sb);
    const stream = a.endpoint.openStream(sa, net.now);
    a.endpoint.finishStream(sa, stream, net.now);
    net.run(() => reader.finished.has(stream), net.now + 5_000);
    expect(reader.bytes(stream).length).toBe(0);
    net.run(() => eventsOf(a, 'stream_finished').length > 0, net.now + 5_000);
    expect(eventsOf(a, 'stream_finished')).toMatchObject([{ stream, direction: 'send' }]);
  });

  it('has ids by opener: even from the side that asked, odd from the other, both ways at once', () => {
    const pair = streamPair();
    const { net, a, b, sa, sb } = pair;
    const readerB = new StreamReader(net, b, sb);
    const readerA = new StreamReader(net, a, sa);
    const ab = a.endpoint.openStream(sa, net.now);
    const ba = b.endpoint.openStream(sb, net.now);
    expect([ab, ba]).toEqual([0, 1]);
    new StreamWriter(net, a, sa, ab, pattern(200_000, 1));
    new StreamWriter(net, b, sb, ba, pattern(200_000, 2));
    net.run(() => readerB.finished.has(ab) && readerA.finished.has(ba), net.now + 30_000);
    expect(equal(readerB.bytes(ab), pattern(200_000, 1))).toBe(true);
    expect(equal(readerA.bytes(ba), pattern(200_000, 2))).toBe(true);
  });
});

describe('flow control', () => {
  it('holds a slow reader to its window: the writer is told to wait, memory stays bounded', () => {
    const window = 256 * 1024;
    const pair = streamPair({ streamWindow: window });
    const { net, a, b, sa, sb } = pair;
    const { reader, writer, stream, data, complete } = transfer(pair, 20_000_000);
    reader.paused = true;
    net.runFor(10_000);
    // Nothing was read: the writer got no further than the credit, and the reader holds one window.
    expect(writer.written).toBeLessThanOrEqual(window);
    expect(b.endpoint.streamInfo(sb, stream)?.available).toBe(window);
    expect(heldBytes(b, sb)).toBeLessThanOrEqual(window);
    expect(heldBytes(a, sa)).toBeLessThanOrEqual(window);
    // A trickle of reads: every read lets the writer go on by as much, never more.
    for (let i = 0; i < 20; i++) {
      reader.drain(stream, 64 * 1024);
      net.runFor(200);
      expect(heldBytes(b, sb)).toBeLessThanOrEqual(window);
      expect(writer.written - reader.bytesRead).toBeLessThanOrEqual(window);
    }
    reader.paused = false;
    reader.drain(stream);
    expect(net.run(complete, net.now + 120_000)).toBe(true);
    expect(equal(reader.bytes(stream), data)).toBe(true);
    expect(eventsOf(a, 'stream_writable').length).toBeGreaterThan(0);
  });

  it('grows the window when the reader keeps up with a long fat path', () => {
    const pair = streamPair();
    shapePath(pair.net, pair.a.address.host, pair.b.address.host, { bitsPerSecond: 100e6, rtt: 50 });
    const { reader, stream, complete } = transfer(pair, 30_000_000);
    expect(pair.net.run(complete, pair.net.now + 60_000)).toBe(true);
    const info = pair.b.endpoint.streamInfo(pair.sb, stream);
    expect(info).toBeUndefined(); // finished and forgotten
    // 30 MB on 100 Mbit/s take 2.4 s at full speed: a window stuck at 256 KiB would take 24 s.
    expect(pair.net.now).toBeLessThan(6_000);
    expect(reader.bytesRead).toBe(30_000_000);
  });
});

function heldBytes(node: { endpoint: { session(id: number): unknown } }, session: number): number {
  const s = (
    node.endpoint as unknown as { get(id: number): { session: { streams?: { heldBytes: number } } } }
  ).get(session);
  return s.session.streams?.heldBytes ?? 0;
}

describe('cancelling', () => {
  it('by the writer: the reader is told (with the code), and the stream is gone on both sides', () => {
    const pair = streamPair();
    const { net, a, b, sa, sb } = pair;
    const { reader, writer, stream } = transfer(pair, 5_000_000);
    net.run(() => reader.bytesRead > 100_000, net.now + 10_000);
    a.endpoint.cancelStream(sa, stream, net.now, 42);
    net.run(() => reader.cancelled.has(stream), net.now + 5_000);
    expect(reader.cancelled.get(stream)).toMatchObject({ by: 'peer', reason: 'cancelled', code: 42 });
    expect(eventsOf(a, 'stream_cancelled')).toMatchObject([
      { stream, by: 'local', direction: 'send', code: 42 },
    ]);
    expect(() => a.endpoint.writeStream(sa, stream, new Uint8Array(10), net.now)).toThrow(NetchatError);
    net.runFor(2_000);
    expect(b.endpoint.streamInfo(sb, stream)).toBeUndefined();
    expect(a.endpoint.streamInfo(sa, stream)).toBeUndefined();
    expect(writer.done).toBe(false);
    // Its slot is free again: the peer's limit rose.
    expect(a.endpoint.openStream(sa, net.now)).toBe(2);
  });

  it('by the reader: the writer is asked to stop, told, and sends no more of it', () => {
    const pair = streamPair();
    const { net, a, b, sa, sb } = pair;
    const { reader, writer, stream } = transfer(pair, 5_000_000);
    net.run(() => reader.bytesRead > 100_000, net.now + 10_000);
    b.endpoint.cancelStream(sb, stream, net.now, 7);
    net.run(() => writer.cancelled !== undefined, net.now + 5_000);
    expect(writer.cancelled).toMatchObject({ by: 'peer', reason: 'cancelled', code: 7, direction: 'send' });
    net.runFor(1_000);
    const sent = a.sent.filter((d) => d.message?.type === 'stream_data').length;
    net.runFor(2_000);
    expect(a.sent.filter((d) => d.message?.type === 'stream_data').length).toBe(sent);
    expect(b.endpoint.streamInfo(sb, stream)).toBeUndefined();
    expect(a.endpoint.streamInfo(sa, stream)).toBeUndefined();
  });

  it('by the reader: what it held unread is gone, a read after the cancel gives nothing', () => {
    const pair = streamPair();
    const { net, b, sb } = pair;
    const { reader, stream } = transfer(pair, 5_000_000);
    reader.paused = true;
    net.run(() => (b.endpoint.streamInfo(sb, stream)?.available ?? 0) > 50_000, net.now + 10_000);
    b.endpoint.cancelStream(sb, stream, net.now, 7);
    // The bytes held before the cancel were given back with the buffer: none may be read (they
    // would be whatever the freed memory holds now, not the peer's data).
    expect(b.endpoint.readStream(sb, stream, 1_000_000, net.now).length).toBe(0);
    expect(b.endpoint.streamInfo(sb, stream)?.available ?? 0).toBe(0);
  });

  it('of every stream when the session closes, on both sides', () => {
    const pair = streamPair();
    const { net, a, b, sa } = pair;
    const { reader, stream } = transfer(pair, 5_000_000);
    net.run(() => reader.bytesRead > 100_000, net.now + 10_000);
    a.endpoint.close(sa, net.now);
    net.run(() => eventsOf(b, 'closed').length > 0, net.now + 10_000);
    expect(eventsOf(a, 'stream_cancelled')).toMatchObject([{ stream, by: 'local', reason: 'session_ended' }]);
    expect(eventsOf(b, 'stream_cancelled')).toMatchObject([{ stream, by: 'peer', reason: 'session_ended' }]);
  });
});

describe('chat first', () => {
  it('a line written while bulk data waits to be sent leaves before it', () => {
    const { net, a, sa } = streamPair();
    const stream = a.endpoint.openStream(sa, net.now);
    // Fill the window: what the path may send now is queued in the endpoint, not yet polled.
    a.endpoint.writeStream(sa, stream, pattern(1_000_000), net.now);
    a.endpoint.send(sa, 'urgent', net.now);
    const first = a.endpoint.pollTransmit();
    expect(first?.message?.type).toBe('text');
    let bulk = 0;
    for (let t = a.endpoint.pollTransmit(); t; t = a.endpoint.pollTransmit()) {
      // The path's first probe of a larger datagram size goes in the bulk data's place.
      expect(['stream_data', 'pmtu_probe']).toContain(t.message?.type);
      bulk++;
    }
    // The first window's worth (less the chat reserve) was waiting behind it.
    expect(bulk).toBeGreaterThanOrEqual(5);
  });

  it('a line goes at once, whatever the window says', () => {
    // NewReno fills its window (BBR is mostly held by its pacer instead).
    const pair = streamPair({ congestionController: 'newreno' });
    const { net, a, b, sa } = pair;
    shapePath(net, a.address.host, b.address.host, { bitsPerSecond: 10e6, rtt: 50 });
    transfer(pair, 50_000_000);
    net.runFor(2_000);
    let full = 0;
    for (let i = 0; i < 2_000 && full < 20; i++) {
      net.runFor(0.7);
      const info = a.endpoint.pathInfo(b.address);
      if (!info || info.bytesInFlight + 1200 <= info.window) continue;
      // The window is full (bulk data must wait for an acknowledgement): the line does not.
      a.endpoint.send(sa, `line ${full}`, net.now);
      expect(a.endpoint.pollTransmit()?.message?.type).toBe('text');
      full++;
    }
    expect(full).toBe(20);
  });

  it('a chat line sent mid-transfer on a full bottleneck arrives within the round trip + 25 ms', () => {
    const pair = streamPair();
    const { net, a, b, sa } = pair;
    shapePath(net, a.address.host, b.address.host, { bitsPerSecond: 10e6, rtt: 50 });
    transfer(pair, 50_000_000);
    const sentAt = new Map<string, number>();
    const delays: number[] = [];
    listen(net, (node, e) => {
      if (node === b && e.type === 'message') delays.push(net.now - (sentAt.get(e.text) as number));
    });
    net.runFor(2_000);
    for (let i = 0; i < 30; i++) {
      const text = `line ${i}`;
      sentAt.set(text, net.now);
      a.endpoint.send(sa, text, net.now);
      net.runFor(137);
    }
    net.runFor(500);
    expect(delays).toHaveLength(30);
    const sorted = [...delays].sort((x, y) => x - y);
    // One way: half the 50 ms round trip, plus the queue and the text's own serialisation.
    expect(sorted[Math.floor(0.95 * sorted.length)]).toBeLessThan(50 + 25);
  });
});

describe('two sessions on one channel', () => {
  it('share the path fairly: within 20 % of each other', () => {
    const pair = streamPair();
    const { net, a, b, sa, sb } = pair;
    shapePath(net, a.address.host, b.address.host, { bitsPerSecond: 10e6, rtt: 50 });
    const sa2 = a.endpoint.connect(b.address, net.now);
    net.run(() => eventsOf(b, 'request').length > 1, net.now + 5_000);
    const sb2 = eventsOf(b, 'request')[1]?.session as number;
    b.endpoint.accept(sb2, net.now);
    net.run(() => a.endpoint.session(sa2)?.state === 'open', net.now + 5_000);
    const readers = [new StreamReader(net, b, sb), new StreamReader(net, b, sb2)];
    for (const [i, s] of [sa, sa2].entries()) {
      const stream = a.endpoint.openStream(s, net.now);
      new StreamWriter(net, a, s, stream, pattern(50_000_000, i + 1));
    }
    net.runFor(2_000);
    const start = readers.map((r) => r.bytesRead);
    net.runFor(5_000);
    const [one, two] = readers.map((r, i) => r.bytesRead - (start[i] as number)) as [number, number];
    expect(Math.min(one, two) / Math.max(one, two)).toBeGreaterThan(0.8);
    // Together they fill the bottleneck (10 Mbit/s less the headers: 1139 of 1228 bytes a datagram).
    expect(((one + two) * 8) / 5 / 10e6).toBeGreaterThan(0.85);
  });
});

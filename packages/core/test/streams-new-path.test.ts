/**
 * A peer that moves to another host mid-transfer (RFC 9000 §9.4; PROTOCOL.md, Congestion control
 * and pacing, A new path): the path starts over (round trip, controller) and fills the new link
 * at once, whether the new link is faster or slower and whether the old one still delivers what
 * was in flight. A port change alone keeps the path as it was. On shaped links (virtual time).
 */
import { describe, expect, it } from 'vitest';
import type { Address } from '../src/index.js';
import { SendStream } from '../src/streams/send-stream.js';
import { pathLink, ShapedLinks } from '../src/testing/shaped-links.js';
import { pattern, StreamReader, StreamWriter, streamPair } from './support/stream-apps.js';

interface Link {
  mbps: number;
  rtt: number;
}
const MOVED: Address = { host: '10.9.9.9', port: 5555 };

/**
 * b sends bulk to a over `before`; after 3 s, a's datagrams come from MOVED, over `after`.
 * `oldPathDies`: what b still sends to a's old address is lost. Returns the bytes a read in each
 * 250 ms after the move, and b's path to a.
 */
function moveMidTransfer(
  before: Link,
  after: Link,
  options: { oldPathDies?: boolean; portOnly?: boolean } = {},
) {
  const { net, a, b, sa, sb } = streamPair({ heartbeatInterval: 10_000 });
  const links = new ShapedLinks();
  const link = (l: Link) => pathLink({ bitsPerSecond: l.mbps * 1e6, rtt: l.rtt });
  const to = options.portOnly ? a.address.host : MOVED.host;
  links.route(b.address.host, a.address.host, link(before));
  links.route(a.address.host, b.address.host, link(before));
  if (!options.portOnly) {
    links.route(b.address.host, to, link(after));
    links.route(to, b.address.host, link(after));
  }
  links.install(net);
  const reader = new StreamReader(net, a, sa);
  const stream = b.endpoint.openStream(sb, net.now);
  new StreamWriter(net, b, sb, stream, pattern(400_000_000, 1));
  net.runFor(3_000);
  const windowBefore = b.endpoint.pathInfo(a.address)?.window ?? 0;
  const moved = net.rebind(a, MOVED.port, to);
  if (options.oldPathDies) net.unplace(a.address);
  const read: number[] = [];
  for (let i = 0; i < 16; i++) {
    const start = reader.bytesRead;
    net.runFor(250);
    read.push(reader.bytesRead - start);
  }
  return { read, windowBefore, path: b.endpoint.pathInfo(moved), moved, b, sb };
}

const equal = (x: Uint8Array, y: Uint8Array) => Buffer.from(x).equals(Buffer.from(y));

/** Mbit/s over the 250 ms slices [from, to). */
const rate = (read: number[], from: number, to: number) =>
  (read.slice(from, to).reduce((x, y) => x + y, 0) * 8) / ((to - from) * 0.25) / 1e6;

describe('a peer that moves to another host mid-transfer', () => {
  it('onto a faster link: the new link is full within half a second (the old path still delivering)', () => {
    const { read, path, b, sb, moved } = moveMidTransfer({ mbps: 2, rtt: 60 }, { mbps: 100, rtt: 20 });
    expect(b.endpoint.session(sb)?.peer).toEqual(moved);
    // The goodput ceiling is about 93 Mbit/s (headers). Without the reset: 4.7 to 35 Mbit/s here.
    expect(rate(read, 2, 6)).toBeGreaterThan(80);
    expect(path?.rtt).toBeLessThan(30);
  });

  it('onto a slower link, the old one gone: the new link is full from the first second', () => {
    const { read, path } = moveMidTransfer(
      { mbps: 100, rtt: 20 },
      { mbps: 2, rtt: 60 },
      { oldPathDies: true },
    );
    // Without the reset: 0 to 1.1 Mbit/s for 4 s (the old path's min_rtt and bandwidth). Sending
    // the lost bytes again in the order they were lost: nothing for 2 s, then all at once.
    expect(Math.min(...read.slice(2).map((_, i) => rate(read, i + 2, i + 3)))).toBeGreaterThan(1.2);
    expect(rate(read, 10, 16)).toBeGreaterThan(1.7);
    expect(path?.rtt).toBeGreaterThan(55);
  });

  it('onto a slower link, the old one still delivering: no stall, the new link full', () => {
    const { read } = moveMidTransfer({ mbps: 100, rtt: 20 }, { mbps: 2, rtt: 60 });
    // Without the reset: about 1.1 Mbit/s here.
    expect(rate(read, 4, 16)).toBeGreaterThan(1.6);
    expect(rate(read, 10, 16)).toBeGreaterThan(1.7);
  });

  it('by a port alone (a NAT that rebound): the path keeps its window and round trip', () => {
    const { read, windowBefore, b, moved } = moveMidTransfer(
      { mbps: 20, rtt: 40 },
      { mbps: 20, rtt: 40 },
      { portOnly: true },
    );
    const path = b.endpoint.pathInfo(moved);
    expect(windowBefore).toBeGreaterThan(100_000);
    expect(path?.window).toBeGreaterThan(100_000); // not back to the initial 12,000
    expect(path?.rtt).toBeGreaterThan(35);
    expect(rate(read, 1, 16)).toBeGreaterThan(17);
  });
});

describe('the tail of a transfer, all of it in flight on the old path when it dies', () => {
  it('arrives within 0.8 s of the move: the new path times out from the challenge round trip, not from 1 s', () => {
    const { net, a, b, sa, sb } = streamPair({ heartbeatInterval: 10_000 });
    const links = new ShapedLinks();
    const link = () => pathLink({ bitsPerSecond: 10e6, rtt: 60 });
    links.route(b.address.host, a.address.host, link());
    links.route(a.address.host, b.address.host, link());
    links.route(b.address.host, MOVED.host, link());
    links.route(MOVED.host, b.address.host, link());
    links.install(net);
    const reader = new StreamReader(net, a, sa);
    const warm = b.endpoint.openStream(sb, net.now);
    new StreamWriter(net, b, sb, warm, pattern(2_000_000, 1));
    expect(net.run(() => reader.finished.has(warm), net.now + 30_000)).toBe(true);
    const tail = b.endpoint.openStream(sb, net.now);
    new StreamWriter(net, b, sb, tail, pattern(60_000, 2));
    net.runFor(30);
    expect(b.endpoint.pathInfo(a.address)?.bytesInFlight).toBeGreaterThan(50_000);
    const moved = net.rebind(a, MOVED.port, MOVED.host);
    net.unplace(a.address);
    const at = net.now;
    expect(net.run(() => reader.finished.has(tail), net.now + 30_000)).toBe(true);
    expect(equal(reader.bytes(tail), pattern(60_000, 2))).toBe(true);
    // From no sample (PTO 1 s) it took 1.35 s; the old path's own estimate, 0.52 s.
    expect(net.now - at).toBeLessThan(800);
    expect(b.endpoint.session(sb)?.peer).toEqual(moved);
  });
});

describe("a stream's lost bytes", () => {
  it('go again lowest offset first, merged, whatever order they were lost in', () => {
    const stream = new SendStream(0, 1 << 20);
    stream.write(new Uint8Array(10_000), 1 << 20);
    const chunk = { offset: 0, length: 0, fin: false };
    for (let i = 0; i < 10; i++) stream.next(1000, chunk);
    // As after a probe timeout: the oldest bytes went again in the newest packet, lost last.
    stream.onLost(3000, 1000, false);
    stream.onLost(5000, 2000, false);
    stream.onLost(0, 1000, false);
    stream.onLost(5500, 1000, false); // inside a range already lost
    stream.onLost(1000, 1000, false); // touches [0, 1000)
    stream.onAcked(5000, 500, false); // acknowledged since it was lost: skipped
    const sent: [number, number][] = [];
    for (let i = 0; i < 10 && stream.sendable; i++) {
      stream.next(1500, chunk);
      sent.push([chunk.offset, chunk.length]);
    }
    expect(sent).toEqual([
      [0, 1500],
      [1500, 500],
      [3000, 1000],
      [5500, 1500],
    ]);
  });
});

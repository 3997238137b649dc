/**
 * The attacker's test for the secure layer: the worst a stranger can send an endpoint, short of
 * holding a key it trusts. Garbage of every length from 0 to 1500 bytes (random, and behind each
 * packet type's valid header), every truncation and extension of every handshake message, and a
 * flood of inits from tens of thousands of forged sources. Nothing may throw, every datagram is
 * counted, what the endpoint holds stays bounded (`secureSizes`), it never sends more bytes to a
 * forged source than it got from it, and the chat it already has goes on. On virtual time.
 */
import { describe, expect, it } from 'vitest';
import { encodePacket, type Endpoint } from '../src/index.js';
import { DEFAULT_SECURE_OPTIONS } from '../src/secure/secure-transport.js';
import { seededBytes } from './support/random.js';
import { eventsOf, type Node, openPair, VirtualNetwork } from './support/virtual-network.js';

const MAX_LENGTH = 1500;
const PACKET_TYPES = [0, 1, 2, 3, 4, 5, 6, 7, 255];

/** Every datagram the secure layer drops or answers is counted in one of these (or it is a session message). */
function accounted(endpoint: Endpoint): number {
  const s = endpoint.secureStats;
  return (
    s.malformedPackets +
    s.forged +
    s.replayed +
    s.unknownChannel +
    s.badHandshakes +
    s.initsDropped +
    s.handshakesRateLimited +
    s.handshakesRefused +
    s.cookiesSent
  );
}

/** The pair still chats both ways. */
function stillChats(net: VirtualNetwork, a: Node, b: Node, sa: number, sb: number, text: string): void {
  a.endpoint.send(sa, text, net.now);
  b.endpoint.send(sb, `re: ${text}`, net.now);
  net.runFor(500);
  expect(eventsOf(b, 'message').at(-1)?.text).toBe(text);
  expect(eventsOf(a, 'message').at(-1)?.text).toBe(`re: ${text}`);
}

describe('garbage from a stranger', () => {
  it('of every length 0 to 1500, random and behind every packet header: dropped, counted, harmless', () => {
    const net = new VirtualNetwork(11);
    const { a, b, sa, sb } = openPair(net);
    // Random bytes taken from one seeded pool at moving offsets (fresh ones per datagram cost seconds).
    const pool = seededBytes(11)(1 << 16);
    let offset = 0;
    const random = (length: number) => {
      offset = (offset + 7919) % (pool.length - MAX_LENGTH);
      return pool.slice(offset, offset + length);
    };
    const stranger = { host: '10.66.0.1', port: 6666 };
    const before = accounted(b.endpoint);
    const inBefore = b.endpoint.stats.datagramsIn;
    let sent = 0;
    let bytesIn = 0;
    for (let length = 0; length <= MAX_LENGTH; length++) {
      const variants = [random(length)];
      for (const type of PACKET_TYPES) {
        const bytes = random(length);
        bytes.set([0x4e, 0x43, 0x02, type].slice(0, length));
        variants.push(bytes);
      }
      for (const bytes of variants) {
        expect(() => b.endpoint.handleDatagram(bytes, stranger, net.now)).not.toThrow();
        sent++;
        bytesIn += length;
      }
    }
    net.collect();
    expect(b.endpoint.stats.datagramsIn - inBefore).toBe(sent);
    // Each was dropped and counted, or (a random init of exactly 108 bytes) answered: as many as came.
    expect(accounted(b.endpoint) - before + b.endpoint.secureSizes.pending).toBeGreaterThanOrEqual(sent - 2);
    expect(b.endpoint.secureSizes.channels).toBe(1);
    expect(b.endpoint.secureSizes.pending).toBeLessThanOrEqual(PACKET_TYPES.length + 1);
    const toStranger = b.sent.filter((s) => s.to.host === stranger.host);
    expect(toStranger.reduce((n, s) => n + s.data.length, 0)).toBeLessThanOrEqual(bytesIn);
    expect(eventsOf(b, 'request')).toHaveLength(1); // a's, from before
    stillChats(net, a, b, sa, sb, 'after 15,000 datagrams of garbage');
  });
});

describe('truncated and extended handshake messages', () => {
  it('every prefix and every one-byte extension of each handshake message, mid-handshake: counted, and the handshake completes', () => {
    const net = new VirtualNetwork(12);
    const a = net.add('10.0.0.1', 1111);
    const b = net.add('10.0.0.2', 2222);
    const captured: { to: Node; from: Node; bytes: Uint8Array }[] = [];
    // Each handshake message is captured and mangled on its way, then let through intact.
    net.filter = (from, _to, data) => {
      if (data[3] !== undefined && data[3] <= 4 && captured.every((c) => c.bytes[3] !== data[3])) {
        const [sender, receiver] = from.port === 1111 ? [a, b] : [b, a];
        captured.push({ to: receiver, from: sender, bytes: data });
        for (let cut = 0; cut < data.length; cut++) {
          expect(() =>
            receiver.endpoint.handleDatagram(data.subarray(0, cut), sender.address, net.now),
          ).not.toThrow();
        }
        for (const extra of [0, 0xff]) {
          const longer = new Uint8Array([...data, extra]);
          expect(() => receiver.endpoint.handleDatagram(longer, sender.address, net.now)).not.toThrow();
        }
      }
      return true;
    };
    const session = a.endpoint.connect(b.address, net.now);
    net.run(() => eventsOf(b, 'request').length > 0, 10_000);
    expect(captured.map((c) => c.bytes[3])).toEqual([1, 3, 4]); // init, response, final (no load: no cookie)
    b.endpoint.accept(eventsOf(b, 'request')[0]?.session ?? -1, net.now);
    net.run(() => eventsOf(a, 'accepted').length > 0, 10_000);
    for (const node of [a, b]) {
      expect(node.endpoint.secureStats.malformedPackets).toBeGreaterThan(50);
      expect(node.endpoint.secureSizes.channels).toBe(1);
    }
    expect(b.endpoint.secureSizes.pending).toBe(0);
    expect(a.endpoint.session(session)?.state).toBe('open');
  });

  it('a cookie reply truncated or extended, under load: counted, and the initiator still gets in', () => {
    const net = new VirtualNetwork(13);
    const b = net.add('10.0.0.2', 2222, {});
    // b under load: many half-done handshakes from elsewhere.
    const init = (i: number) =>
      encodePacket({
        type: 'handshake_init',
        senderIndex: i + 1,
        cookie: new Uint8Array(16),
        noise: seededBytes(i)(32),
      });
    for (let i = 0; i < DEFAULT_SECURE_OPTIONS.loadPendingHandshakes; i++)
      net.inject(b, { host: '10.77.0.1', port: 1000 + i }, init(i));
    const a = net.add('10.0.0.1', 1111);
    let mangled = 0;
    net.filter = (from, _to, data) => {
      if (from.port === 2222 && data[3] === 2 && mangled === 0) {
        for (let cut = 0; cut < data.length; cut++)
          a.endpoint.handleDatagram(data.subarray(0, cut), from, net.now);
        a.endpoint.handleDatagram(new Uint8Array([...data, 0]), from, net.now);
        mangled = data.length + 1;
      }
      return true;
    };
    a.endpoint.connect(b.address, net.now);
    net.run(() => eventsOf(b, 'request').length > 0, 10_000);
    expect(mangled).toBe(25);
    expect(a.endpoint.secureStats.malformedPackets).toBe(25);
    expect(b.endpoint.secureStats.cookiesSent).toBeGreaterThan(0);
  });
});

describe('a flood of inits from forged sources', () => {
  it('60,000 ports of one host and 20,000 hosts: bounded memory, no amplification, a real peer still gets in', () => {
    const net = new VirtualNetwork(14);
    const b = net.add('10.0.0.2', 2222);
    const noise = seededBytes(14);
    const sources = [
      ...Array.from({ length: 60_000 }, (_, i) => ({ host: '10.66.6.6', port: 1024 + i })),
      ...Array.from({ length: 20_000 }, (_, i) => ({
        host: `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`,
        port: 4444,
      })),
    ];
    const forged = (host: string) => host.startsWith('10.66.') || host.startsWith('10.10');
    let bytesIn = 0;
    let maxPending = 0;
    let maxLimited = 0;
    let friend: Node | undefined;
    // 8,000 a second (one every 125 µs) for 10 s; a real peer asks after 5 s.
    for (const [i, from] of sources.entries()) {
      const packet = encodePacket({
        type: 'handshake_init',
        senderIndex: i + 1,
        cookie: new Uint8Array(16),
        noise: noise(32),
      });
      bytesIn += packet.length;
      net.inject(b, from, packet);
      if (i % 8 === 7) net.run(() => false, net.now + 1);
      if (i === 40_000) {
        friend = net.add('10.0.0.1', 1111);
        friend.endpoint.connect(b.address, net.now);
      }
      maxPending = Math.max(maxPending, b.endpoint.secureSizes.pending);
      maxLimited = Math.max(maxLimited, b.endpoint.secureSizes.rateLimitedAddresses);
    }
    expect(maxPending).toBeLessThanOrEqual(DEFAULT_SECURE_OPTIONS.maxPendingHandshakes);
    expect(maxLimited).toBeLessThanOrEqual(3 * 100_000);
    const toForged = b.sent.filter((s) => forged(s.to.host));
    expect(toForged.reduce((n, s) => n + s.data.length, 0)).toBeLessThanOrEqual(bytesIn);
    expect(b.endpoint.stats.datagramsIn).toBeGreaterThanOrEqual(sources.length);
    net.run(() => eventsOf(b, 'request').length > 0, net.now + 10_000);
    expect(eventsOf(b, 'request').map((e) => e.peer)).toEqual([friend?.address]);
    b.endpoint.accept(eventsOf(b, 'request')[0]?.session ?? -1, net.now);
    // Once the flood stops the half-done handshakes expire, and the limits forget the sources at
    // the next init that finds the responder not under load.
    net.runFor(60_000);
    expect(b.endpoint.secureSizes).toMatchObject({ channels: 1, pending: 0 });
    expect(b.endpoint.secureSizes.rateLimitedAddresses).toBeGreaterThan(1_000);
    net.add('10.0.0.3', 3333).endpoint.connect(b.address, net.now);
    net.run(() => eventsOf(b, 'request').length > 1, net.now + 1_000);
    expect(b.endpoint.secureSizes.rateLimitedAddresses).toBe(0);
  });
});

/**
 * Large datagrams for stream data (PROTOCOL.md, Datagram size) through two real endpoints on the
 * virtual network: found and used where both take them, never sent to a peer that does not, a
 * path that carries less is searched and a black hole falls back to 1200; and what a stranger can
 * do with oversized packets.
 */
import { describe, expect, it } from 'vitest';
import type { EndpointOptionsInput } from '../src/index.js';
import { MAX_DATAGRAM_BYTES, MAX_LARGE_DATAGRAM_BYTES } from '../src/wire/header.js';
import { MAX_LARGE_STREAM_PAYLOAD_BYTES } from '../src/wire/stream-messages.js';
import { filePair } from './support/file-peers.js';
import { randomData } from './support/partial-files.js';
import { rawSession } from './support/raw-peer.js';
import { chat, RendezvousLab } from './support/rendezvous-lab.js';
import { pattern, StreamReader, StreamWriter } from './support/stream-apps.js';
import { eventsOf, type Node, VirtualNetwork } from './support/virtual-network.js';

const equal = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** a (options `a`) and b (options `b`) chat, each knowing the other's features. */
function pair(a: EndpointOptionsInput, b: EndpointOptionsInput, seed = 1) {
  const net = new VirtualNetwork(seed);
  const na = net.add('127.0.0.1', 1111, { streams: true, largeDatagrams: true, ...a });
  const nb = net.add('127.0.0.2', 2222, { streams: true, largeDatagrams: true, ...b });
  const sa = na.endpoint.connect(nb.address, net.now);
  net.run(() => eventsOf(nb, 'request').length > 0, net.now + 10_000);
  const sb = eventsOf(nb, 'request')[0]?.session ?? -1;
  nb.endpoint.accept(sb, net.now);
  net.run(
    () =>
      na.endpoint.session(sa)?.peerFeatures !== undefined && nb.endpoint.session(sb)?.peerFeatures !== undefined,
    net.now + 5_000,
  );
  return { net, a: na, b: nb, sa, sb };
}

/** a writes `size` bytes to b on a new stream and the network runs until both are done. */
function transfer(p: ReturnType<typeof pair>, size: number, until = 120_000) {
  const reader = new StreamReader(p.net, p.b, p.sb);
  const stream = p.a.endpoint.openStream(p.sa, p.net.now);
  const data = pattern(size, 3);
  const writer = new StreamWriter(p.net, p.a, p.sa, stream, data);
  const complete = () => writer.done && reader.finished.has(stream);
  const done = p.net.run(complete, p.net.now + until);
  return { done, whole: done && equal(reader.bytes(stream), data) };
}

const sizes = (node: Node) => node.sent.map((s) => s.data.length);
const largest = (node: Node) => Math.max(...sizes(node));
const typesOver1200 = (node: Node) =>
  new Set(node.sent.filter((s) => s.data.length > MAX_DATAGRAM_BYTES).map((s) => s.message?.type));

describe('large datagrams', () => {
  it('where both peers take them: one probe of 1452 bytes, then stream data fills 1452-byte packets', () => {
    const p = pair({}, {});
    expect(p.a.endpoint.session(p.sa)?.peerFeatures?.largeDatagrams).toBe(true);
    const { whole } = transfer(p, 1_000_000);
    expect(whole).toBe(true);
    expect(p.a.endpoint.pathInfo(p.b.address)?.datagramSize).toBe(MAX_LARGE_DATAGRAM_BYTES);
    const probes = p.a.sent.filter((s) => s.message?.type === 'pmtu_probe');
    expect(probes.map((s) => s.data.length)).toEqual([MAX_LARGE_DATAGRAM_BYTES]);
    expect(largest(p.a)).toBe(MAX_LARGE_DATAGRAM_BYTES);
    // Only stream data and the probe are ever larger than 1200; most of the bytes go in full ones.
    expect(typesOver1200(p.a)).toEqual(new Set(['stream_data', 'pmtu_probe']));
    const full = p.a.sent.filter(
      (s) => s.message?.type === 'stream_data' && s.message.payload.length === MAX_LARGE_STREAM_PAYLOAD_BYTES,
    );
    expect(full.length).toBeGreaterThan(1_000_000 / MAX_LARGE_STREAM_PAYLOAD_BYTES - 20);
    // b sent no stream data: all its packets (acks, credit) stay within 1200.
    expect(largest(p.b)).toBeLessThanOrEqual(MAX_DATAGRAM_BYTES);
  });

  for (const [who, a, b] of [
    ['the receiver', {}, { largeDatagrams: false }],
    ['the sender', { largeDatagrams: false }, {}],
  ] as const)
    it(`where ${who} does not take them (an older peer): nothing over 1200 bytes, no probe`, () => {
      const p = pair(a, b);
      const { whole } = transfer(p, 300_000);
      expect(whole).toBe(true);
      expect(largest(p.a)).toBeLessThanOrEqual(MAX_DATAGRAM_BYTES);
      expect(largest(p.b)).toBeLessThanOrEqual(MAX_DATAGRAM_BYTES);
      expect(p.a.sent.some((s) => s.message?.type === 'pmtu_probe')).toBe(false);
      expect(p.a.endpoint.pathInfo(p.b.address)?.datagramSize).toBe(MAX_DATAGRAM_BYTES);
    });

  it('on a path that carries 1300 bytes: the search ends just under it, lost probes are no congestion', () => {
    const p = pair({}, {});
    p.net.filter = (_from, _to, data) => data.length <= 1300;
    const { whole } = transfer(p, 2_000_000);
    expect(whole).toBe(true);
    const info = p.a.endpoint.pathInfo(p.b.address);
    expect(info?.datagramSize).toBeLessThanOrEqual(1300);
    expect(info?.datagramSize).toBeGreaterThan(1300 - 16);
    // Only probes were lost (the network drops nothing else): no stream data went again.
    const dataOver = p.a.sent.filter((s) => s.message?.type === 'stream_data' && s.data.length > 1300);
    expect(dataOver).toEqual([]);
    const sentBytes = p.a.sent
      .filter((s) => s.message?.type === 'stream_data')
      .reduce((n, s) => n + (s.message?.type === 'stream_data' ? s.message.payload.length : 0), 0);
    expect(sentBytes).toBe(2_000_000);
  });

  it('a black hole mid-transfer (large packets stop getting through): back to 1200, the stream arrives whole', () => {
    const p = pair({}, {});
    let blackHole = false;
    p.net.filter = (_from, _to, data) => !blackHole || data.length <= MAX_DATAGRAM_BYTES;
    const reader = new StreamReader(p.net, p.b, p.sb);
    const stream = p.a.endpoint.openStream(p.sa, p.net.now);
    const data = pattern(4_000_000, 5);
    const writer = new StreamWriter(p.net, p.a, p.sa, stream, data);
    p.net.run(() => reader.bytesRead > 1_000_000, p.net.now + 60_000);
    expect(p.a.endpoint.pathInfo(p.b.address)?.datagramSize).toBe(MAX_LARGE_DATAGRAM_BYTES);
    blackHole = true;
    const cutAt = p.net.now;
    expect(p.net.run(() => writer.done && reader.finished.has(stream), p.net.now + 120_000)).toBe(true);
    expect(equal(reader.bytes(stream), data)).toBe(true);
    expect(p.a.endpoint.pathInfo(p.b.address)?.datagramSize).toBe(MAX_DATAGRAM_BYTES);
    // After the fall-back, what still went large were probes only (the search tries again).
    const lateData = p.a.sent.filter(
      (s) => s.at > cutAt + 5_000 && s.message?.type === 'stream_data' && s.data.length > MAX_DATAGRAM_BYTES,
    );
    expect(lateData).toEqual([]);
    expect(p.a.endpoint.session(p.sa)?.state).toBe('open');
  });
});

describe('large datagrams under a file transfer', () => {
  it("the sender's last progress is every byte, though the verdict overtakes the last acknowledgement", () => {
    const { net, sa, alice, bob } = filePair({ largeDatagrams: true });
    net.conditions = { latency: 25, jitter: 0, loss: 0, duplicate: 0 };
    const data = randomData(3_000_000, 5);
    alice.offer(sa, { 'p.bin': data });
    expect(net.run(() => bob.of('file_offer').length > 0, net.now + 10_000)).toBe(true);
    bob.accept(bob.of('file_offer')[0]?.transfer ?? -1);
    const done = () => bob.of('file_done').length > 0 && alice.of('file_done').length > 0;
    expect(net.run(done, net.now + 60_000)).toBe(true);
    expect(alice.of('file_progress').at(-1)).toMatchObject({ bytes: data.length, size: data.length });
  });
});

describe('large datagrams on a path that changes', () => {
  it('follow the peer to a new address: the search starts over there, and finds 1452 again', () => {
    const p = pair({}, {});
    const reader = new StreamReader(p.net, p.b, p.sb);
    const stream = p.a.endpoint.openStream(p.sa, p.net.now);
    const data = pattern(3_000_000, 7);
    const writer = new StreamWriter(p.net, p.a, p.sa, stream, data);
    p.net.run(() => reader.bytesRead > 500_000, p.net.now + 60_000);
    const probesBefore = p.a.sent.filter((s) => s.message?.type === 'pmtu_probe').length;
    const moved = p.net.rebind(p.b, 4444);
    expect(p.net.run(() => writer.done && reader.finished.has(stream), p.net.now + 60_000)).toBe(true);
    expect(equal(reader.bytes(stream), data)).toBe(true);
    const probesAfter = p.a.sent.filter((s) => s.message?.type === 'pmtu_probe' && s.to.port === moved.port);
    expect(probesBefore).toBe(1);
    expect(probesAfter.length).toBeGreaterThanOrEqual(1);
    expect(p.a.endpoint.pathInfo(moved)?.datagramSize).toBe(MAX_LARGE_DATAGRAM_BYTES);
  });

  it('never go through the relay (it carries 1200 bytes): a relayed stream stays within 1200, unprobed', () => {
    const options = { streams: true, largeDatagrams: true };
    const lab = new RendezvousLab(options, { relayBytesPerSecond: 1_000_000, relayBurstBytes: 200_000 });
    const a = lab.home('port-randomising', 'anyone', [], options);
    const b = lab.home('port-randomising', 'anyone', [], options);
    expect(lab.run(() => lab.registered(a, b))).toBe(true);
    const result = chat(lab, a, b);
    expect(result.accepted?.peer.host).toBe('relay');
    const session = result.session as number;
    const sb = eventsOf(b.node, 'request').at(-1)?.session ?? -1;
    lab.net.run(
      () => a.node.endpoint.session(session)?.peerFeatures?.largeDatagrams === true,
      lab.net.now + 10_000,
    );
    const reader = new StreamReader(lab.net, b.node, sb);
    const stream = a.node.endpoint.openStream(session, lab.net.now);
    const data = pattern(200_000, 9);
    const writer = new StreamWriter(lab.net, a.node, session, stream, data);
    expect(lab.net.run(() => writer.done && reader.finished.has(stream), lab.net.now + 60_000)).toBe(true);
    expect(equal(reader.bytes(stream), data)).toBe(true);
    expect(a.node.sent.some((s) => s.message?.type === 'pmtu_probe')).toBe(false);
    // What a sent through the relay: relay packets of at most 1232 bytes (a 1200-byte packet inside).
    expect(Math.max(...a.node.sent.map((s) => s.data.length))).toBeLessThanOrEqual(1232);
    expect(a.node.endpoint.pathInfo(result.accepted?.peer as never)?.datagramSize).toBe(MAX_DATAGRAM_BYTES);
    // A packet too large for a relay packet (one built for a direct path the channel just left)
    // is dropped and counted by the relay client, never thrown out of the send.
    const relayed = result.accepted?.peer as never;
    expect(a.client.wrap(relayed, new Uint8Array(MAX_DATAGRAM_BYTES))).toBeDefined();
    expect(a.client.wrap(relayed, new Uint8Array(MAX_LARGE_DATAGRAM_BYTES))).toBeUndefined();
    expect(a.client.stats.relayTooLarge).toBe(1);
  });
});

describe('large datagrams from a stranger', () => {
  it('an endpoint that takes none drops a 1452-byte packet (counted) and the chat goes on', () => {
    const { net, b, raw, session, sb, fragment } = rawSession({ streams: true, largeDatagrams: false });
    const before = b.endpoint.secureStats.malformedPackets;
    raw.send({ type: 'pmtu_probe', session, packet: 0, padding: new Uint8Array(1404) });
    net.runFor(20);
    expect(b.endpoint.secureStats.malformedPackets).toBe(before + 1);
    raw.send(fragment(0, 0, 1, 'still here'));
    net.runFor(20);
    expect(eventsOf(b, 'message').map((e) => e.text)).toEqual(['still here']);
    expect(b.endpoint.session(sb)?.state).toBe('open');
  });

  it('an endpoint that takes them still holds every other message to its own bound', () => {
    const { net, b, raw, session, sb } = rawSession({ streams: true, largeDatagrams: true });
    // A text fragment of 1300 bytes (over text's 1142) in a large packet: malformed like any.
    const fragment = (payload: Uint8Array) =>
      Uint8Array.from([0x4e, 0x43, 0x02, 0x01, 0, 0, 0, session, ...new Array(16).fill(0), 0, 1, ...payload]);
    const before = b.endpoint.stats.malformed;
    raw.sendRaw(fragment(new Uint8Array(1300).fill(0x61)));
    net.runFor(20);
    expect(b.endpoint.stats.malformed).toBe(before + 1);
    expect(eventsOf(b, 'message')).toEqual([]);
    // The same fragment within its bound is taken: the large packet was not the problem.
    raw.sendRaw(fragment(new Uint8Array(1142).fill(0x61)));
    net.runFor(20);
    expect(eventsOf(b, 'message').map((e) => e.text.length)).toEqual([1142]);
    expect(b.endpoint.session(sb)?.state).toBe('open');
  });

  it('an endpoint that takes none answers no probe: a flood of them is counted and dropped', () => {
    const { net, b, raw, session, sb } = rawSession({ streams: true, largeDatagrams: false });
    const answersBefore = raw.received.length;
    const errorsBefore = b.endpoint.stats.protocolErrors;
    for (let i = 0; i < 1_000; i++) raw.send({ type: 'pmtu_probe', session, packet: i, padding: new Uint8Array(0) });
    net.runFor(50);
    expect(b.endpoint.stats.protocolErrors).toBe(errorsBefore + 1_000);
    // No stream_ack (code 12) went back: nothing was taken.
    expect(raw.received.slice(answersBefore).filter((m) => m[3] === 12)).toEqual([]);
    expect(b.endpoint.session(sb)?.state).toBe('open');
  });
});

/**
 * Streams through the real engine on simulated paths (issue 19): two or three Endpoints on the
 * virtual network, real crypto, the bottleneck a drop-tail link on virtual time
 * (src/testing/shaped-links.ts). Bulk writers write as fast as their streams take bytes;
 * readers read everything as it arrives; the figures are what the readers got, in order.
 */
import type { Endpoint, NetchatEvent, SessionId, StreamId } from '../src/index.js';
import { pathLink, ShapedLinks, seededRandom } from '../src/testing/index.js';
import { eventsOf, type Node, type NodeEndpoint, VirtualNetwork } from '../test/support/virtual-network.js';

export interface PathCase {
  readonly name: string;
  readonly bitsPerSecond: number;
  /** Round-trip propagation delay, ms. */
  readonly rtt: number;
  /** Simulated seconds; figures are taken from MEASURE_FROM_MS on. */
  readonly seconds: number;
}

export const MEASURE_FROM_MS = 2_000;
/** IPv4 and UDP headers: what a datagram costs on the bottleneck beyond its own bytes. */
const IP_UDP_BYTES = 28;
/** A full stream_data datagram's bytes that are not stream bytes (1200 carries 1139). */
const DATA_OVERHEAD_BYTES = 61;
/** Bottleneck bytes per stream byte of full datagrams of `size` (1228/1139 at 1200, 1480/1391 at 1452). */
export const wirePerPayload = (size: number) => (size + IP_UDP_BYTES) / (size - DATA_OVERHEAD_BYTES);
/** The payload of a full datagram of 1200 bytes (the Mathis comparison's MSS). */
export const PAYLOAD_BYTES = 1200 - DATA_OVERHEAD_BYTES;
const BUCKET_MS = 100;
const CHUNK = new Uint8Array(256 * 1024).fill(0x5a);

/** Reads every stream of a node as it becomes readable, counting bytes per session in 100 ms buckets. */
class Counter {
  readonly buckets = new Map<SessionId, number[]>();

  take(session: SessionId, bytes: number, now: number): void {
    const list = this.buckets.get(session) ?? [];
    const bucket = Math.floor(now / BUCKET_MS);
    while (list.length <= bucket) list.push(0);
    list[bucket] = (list[bucket] as number) + bytes;
    this.buckets.set(session, list);
  }

  /** Bytes per second the session read in [from, to) ms. */
  rate(session: SessionId, from: number, to: number): number {
    const list = this.buckets.get(session) ?? [];
    let sum = 0;
    for (let b = Math.floor(from / BUCKET_MS); b < Math.floor(to / BUCKET_MS); b++) sum += list[b] ?? 0;
    return (sum * 1000) / (to - from);
  }
}

export interface Flow {
  readonly sender: Node;
  readonly session: SessionId;
  /** The receiver's id of the same session. */
  readonly peerSession: SessionId;
  stream: StreamId;
}

/**
 * A receiver behind one bottleneck and `peers` senders (each with `sessionsEach` sessions), the
 * bottleneck's buffer one bandwidth-delay product, `loss` random loss on the data direction.
 */
export function build(path: PathCase, peers: number, sessionsEach: number, loss = 0, seed = 1) {
  const net = new VirtualNetwork(seed);
  net.recordSent = false;
  net.conditions = { latency: path.rtt / 2, jitter: 0, loss: 0, duplicate: 0 };
  // Large datagrams, as by default; NETCHAT_SIM_SMALL=1: every datagram within 1200 bytes (A/B).
  const largeDatagrams = process.env.NETCHAT_SIM_SMALL !== '1';
  const options = { streams: true, heartbeatInterval: 5_000, largeDatagrams };
  // Stream packets undescribed, as in a real peer (an object per packet otherwise).
  const quiet = { describeStreamPackets: false };
  // The endpoints' randomness (session ids, BBR's starting phase) from the seed too: seed 1 as before.
  const base = (seed - 1) * 10_000;
  const receiver = net.add('10.0.0.9', 9000, options, base + 9000, quiet);
  const senders = Array.from({ length: peers }, (_, i) =>
    net.add(`10.0.0.${i + 1}`, 1000 + i, options, base + 1000 + i, quiet),
  );
  const flows: Flow[] = [];
  for (const sender of senders) {
    for (let i = 0; i < sessionsEach; i++) {
      const session = sender.endpoint.connect(receiver.address, net.now);
      const requests = eventsOf(receiver, 'request').length;
      net.run(() => eventsOf(receiver, 'request').length > requests, net.now + 5_000);
      const peerSession = eventsOf(receiver, 'request')[requests]?.session as number;
      receiver.endpoint.accept(peerSession, net.now);
      net.run(() => sender.endpoint.session(session)?.state === 'open', net.now + 5_000);
      flows.push({ sender, session, peerSession, stream: -1 });
    }
  }
  net.runFor(50);
  net.recordEvents = false;
  // The bottleneck: everything to the receiver through one link, everything from it through another.
  const links = new ShapedLinks();
  const forward = links.route(undefined, receiver.address.host, pathLink(path, loss, seed));
  links.route(receiver.address.host, undefined, pathLink(path, 0, seed + 1));
  links.install(net);
  const counter = new Counter();
  const writers = new Map<string, Flow>();
  net.onEvent = (node, event) => react(net, node, event, counter, writers);
  const start = net.now;
  for (const flow of flows) {
    flow.stream = flow.sender.endpoint.openStream(flow.session, net.now);
    writers.set(`${flow.sender.address.port}/${flow.session}/${flow.stream}`, flow);
    pumpWriter(flow.sender.endpoint, flow, net.now);
  }
  net.collect();
  return { net, receiver, senders, flows, counter, forward, start };
}

function pumpWriter(endpoint: Endpoint, flow: Flow, now: number): void {
  for (let i = 0; i < 1_000; i++)
    if (endpoint.writeStream(flow.session, flow.stream, CHUNK, now) < CHUNK.length) return;
}

function react(
  net: VirtualNetwork,
  node: Node<NodeEndpoint>,
  event: NetchatEvent,
  counter: Counter,
  writers: Map<string, Flow>,
): void {
  const endpoint = node.endpoint as Endpoint;
  if (event.type === 'stream_readable') {
    for (let i = 0; i < 10_000; i++) {
      const bytes = endpoint.readStream(event.session, event.stream, 1 << 20, net.now);
      if (bytes.length === 0) return;
      counter.take(event.session, bytes.length, net.now);
    }
  } else if (event.type === 'stream_writable') {
    const flow = writers.get(`${node.address.port}/${event.session}/${event.stream}`);
    if (flow) pumpWriter(endpoint, flow, net.now);
  }
}

export interface SingleFlowResult {
  goodputBps: number;
  /** The stream's first transmissions' share of the bottleneck's time (headers counted). */
  share: number;
  /** Goodput over the bottleneck's bit rate (headers not counted: at most 1139/1228 = 0.93). */
  goodputRatio: number;
  chatP95Ms: number;
  chatMaxMs: number;
  chatLines: number;
  lossRate: number;
  retransmissions: number;
}

/** One bulk stream, and a chat line every 100-200 ms from 2 s on: its one-way delay. */
export function singleFlow(path: PathCase): SingleFlowResult {
  const { net, receiver, flows, counter, forward, start } = build(path, 1, 1);
  const flow = flows[0] as Flow;
  const sentAt = new Map<string, number>();
  const delays: number[] = [];
  const previous = net.onEvent;
  net.onEvent = (node, event) => {
    previous?.(node, event);
    if (node === receiver && event.type === 'message')
      delays.push(net.now - (sentAt.get(event.text) as number));
  };
  const random = seededRandom(7);
  const end = start + path.seconds * 1000;
  let next = start + MEASURE_FROM_MS;
  let line = 0;
  while (net.now < end) {
    net.run(() => false, Math.min(next, end));
    if (net.now >= next && net.now < end) {
      const text = `chat line ${line++}`;
      sentAt.set(text, net.now);
      flow.sender.endpoint.send(flow.session, text, net.now);
      net.collect();
      next = net.now + 100 + 100 * random();
    }
  }
  net.run(() => delays.length === line, net.now + 2_000);
  const goodput = counter.rate(flow.peerSession, start + MEASURE_FROM_MS, end);
  const capacity = path.bitsPerSecond / 8;
  const sorted = [...delays].sort((a, b) => a - b);
  const info = flow.sender.endpoint.pathInfo(receiver.address);
  return {
    goodputBps: goodput * 8,
    share: (goodput * wirePerPayload(info?.datagramSize ?? 1200)) / capacity,
    goodputRatio: goodput / capacity,
    chatP95Ms: sorted[Math.floor(0.95 * (sorted.length - 1))] ?? Number.NaN,
    chatMaxMs: sorted.at(-1) ?? Number.NaN,
    chatLines: delays.length,
    lossRate: forward.stats.droppedFull / Math.max(1, forward.stats.sent),
    retransmissions: info?.lostPackets ?? 0,
  };
}

/** Two bulk streams: two sessions on one channel (peers 1), or two peers behind one bottleneck (peers 2). */
export function twoFlows(
  path: PathCase,
  peers: 1 | 2,
  seed = 1,
): { rates: number[]; ratio: number; share: number } {
  const { net, flows, counter, start, receiver } = build(path, peers, peers === 1 ? 2 : 1, 0, seed);
  const end = start + path.seconds * 1000;
  net.run(() => false, end);
  const rates = flows.map((f) => counter.rate(f.peerSession, start + MEASURE_FROM_MS, end));
  // Each flow's bottleneck bytes by the datagram size its path ended at.
  const wire = flows.map((f, i) => {
    const size = f.sender.endpoint.pathInfo(receiver.address)?.datagramSize ?? 1200;
    return (rates[i] as number) * wirePerPayload(size);
  });
  return {
    rates: rates.map((r) => r * 8),
    ratio: Math.min(...rates) / Math.max(...rates),
    share: wire.reduce((a, b) => a + b, 0) / (path.bitsPerSecond / 8),
  };
}

/** One bulk stream with random loss `p` on the data direction, beside TCP's rate by Mathis et al. */
export function lossyFlow(
  path: PathCase,
  p: number,
): { goodputBps: number; mathisBps: number; ratio: number } {
  const { net, flows, counter, start } = build(path, 1, 1, p);
  const end = start + path.seconds * 1000;
  net.run(() => false, end);
  const goodput = counter.rate((flows[0] as Flow).peerSession, start + MEASURE_FROM_MS, end);
  // MSS / RTT × 1.22 / √p, with the MSS a datagram's stream bytes.
  const mathis = ((PAYLOAD_BYTES / (path.rtt / 1000)) * 1.22) / Math.sqrt(p);
  return { goodputBps: goodput * 8, mathisBps: mathis * 8, ratio: goodput / mathis };
}

/**
 * `pnpm bench files` on the transport issue's simulated paths: a file through the real file
 * engine (files/, with its storage in memory: test/support/file-peers.ts) and the real streams,
 * on virtual time, through a drop-tail bottleneck of one bandwidth-delay product
 * (test/support/shaped-links.ts), beside one bulk stream on the same path (transport-sim.ts's
 * singleFlow, the same run). A chat line goes every 100-200 ms while the file does; its one-way
 * delay is measured, the figure from 2 s on as for the stream (the lines of the first 2 s, when
 * slow start fills the buffer, are reported apart).
 *
 * The file is sized to take about the path's simulated seconds; its rate is the bytes the
 * receiver wrote from 2 s on (slow start done, as for the bulk stream) over the time to the file
 * verified.
 */
import { randomFillSync } from 'node:crypto';
import type { SessionId } from '../src/index.js';
import { FilePeer } from '../test/support/file-peers.js';
import { seededRandom } from '../test/support/random.js';
import { pathLink, ShapedLinks } from '../test/support/shaped-links.js';
import { listen } from '../test/support/stream-apps.js';
import { VirtualNetwork } from '../test/support/virtual-network.js';
import { MEASURE_FROM_MS, type PathCase } from './transport-sim.js';

export interface FileOnPathResult {
  bytes: number;
  verified: boolean;
  /** Virtual seconds from the offer to the sender's verdict. */
  seconds: number;
  /** Bytes per second the receiver wrote from 2 s on to the file verified. */
  goodputBps: number;
  chatLines: number;
  chatP95Ms: number;
  chatMaxMs: number;
  /** The longest delay of a line sent in the first 2 s (slow start filling the buffer). */
  startUpChatMaxMs: number;
}

/** Sends one file of about `path.seconds` × the bit rate over `path`, chat lines beside it. */
export function fileOnPath(path: PathCase, seed = 1): FileOnPathResult {
  const net = new VirtualNetwork(seed);
  net.recordSent = false;
  net.conditions = { latency: path.rtt / 2, jitter: 0, loss: 0, duplicate: 0 };
  const options = { streams: true, files: true, heartbeatInterval: 5_000 };
  const quiet = { describeStreamPackets: false };
  const senderNode = net.add('10.0.0.1', 1000, options, 1000, quiet);
  const receiverNode = net.add('10.0.0.9', 9000, options, 9000, quiet);
  const session = senderNode.endpoint.connect(receiverNode.address, net.now);
  net.run(() => receiverNode.events.some((e) => e.type === 'request'), net.now + 5_000);
  const request = receiverNode.events.find((e) => e.type === 'request');
  receiverNode.endpoint.accept(request?.session as SessionId, net.now);
  net.run(() => senderNode.endpoint.session(session)?.peerFeatures !== undefined, net.now + 5_000);
  net.runFor(50);
  net.recordEvents = false;
  const links = new ShapedLinks();
  links.route(undefined, receiverNode.address.host, pathLink(path, 0, seed));
  links.route(receiverNode.address.host, undefined, pathLink(path, 0, seed + 1));
  links.install(net);

  const sender = new FilePeer(net, senderNode);
  const receiver = new FilePeer(net, receiverNode);
  const sentAt = new Map<string, number>();
  /** One-way delays of lines sent from 2 s on (as transport-sim.ts counts them), and of those before. */
  const delays: number[] = [];
  const startUpDelays: number[] = [];
  let start = net.now;
  listen(net, (node, event) => {
    if (node !== receiverNode || event.type !== 'message') return;
    const at = sentAt.get(event.text) as number;
    (at >= start + MEASURE_FROM_MS ? delays : startUpDelays).push(net.now - at);
  });
  const bytes = Math.round(((path.bitsPerSecond / 8) * path.seconds * 0.85) / 1024) * 1024;
  const data = randomFillSync(new Uint8Array(bytes));
  start = net.now;
  const transfer = sender.offer(session, { 'file.bin': data });
  net.run(() => receiver.of('file_offer').length > 0, net.now + 5_000);
  receiver.accept(receiver.of('file_offer')[0]?.transfer as number);
  const done = () => sender.of('file_done').some((e) => e.transfer === transfer);
  const random = seededRandom(7);
  let next = start + 100;
  let line = 0;
  let writtenAtMeasure: number | undefined;
  const limit = start + path.seconds * 4_000;
  while (!done() && net.now < limit) {
    net.run(done, writtenAtMeasure === undefined ? Math.min(next, start + MEASURE_FROM_MS) : next);
    if (writtenAtMeasure === undefined && net.now >= start + MEASURE_FROM_MS)
      writtenAtMeasure = receiver.storage.counts.bytesWritten;
    if (net.now >= next && !done()) {
      const text = `chat line ${line++}`;
      sentAt.set(text, net.now);
      senderNode.endpoint.send(session, text, net.now);
      net.collect();
      next = net.now + 100 + 100 * random();
    }
  }
  const end = net.now;
  net.run(() => delays.length + startUpDelays.length === line, net.now + 2_000);
  const verdict = sender.of('file_done').find((e) => e.transfer === transfer);
  const placed = receiver.storage.placed.get('file.bin');
  const sorted = [...delays].sort((a, b) => a - b);
  const measured = bytes - (writtenAtMeasure ?? 0);
  return {
    bytes,
    verified: verdict?.verified === 1 && placed !== undefined && Buffer.compare(placed, data) === 0,
    seconds: (end - start) / 1000,
    goodputBps: ((measured * 1000) / Math.max(1, end - start - MEASURE_FROM_MS)) * 8,
    chatLines: delays.length,
    chatP95Ms: sorted[Math.floor(0.95 * (sorted.length - 1))] ?? Number.NaN,
    chatMaxMs: sorted.at(-1) ?? Number.NaN,
    startUpChatMaxMs: Math.max(...startUpDelays),
  };
}

/**
 * A packet-level path on virtual time: a forward link (the bottleneck, data) and a reverse link
 * (acknowledgements), each a `Link`, shared by one or more bulk flows (a `BulkSender` and an
 * `AckingReceiver` each). `run` jumps from one event to the next (a datagram arriving, a sender's
 * timer, a receiver's delayed ACK, a queue sample), so a minute at 100 Mbit/s takes seconds and
 * is the same every run.
 *
 * It also samples the bottleneck's queueing delay at random moments: the extra delay a chat
 * datagram sent then would have waited behind the bulk data.
 */
import { type AckDatagram, AckingReceiver, type DataDatagram } from './acking-receiver.js';
import { BulkSender, type ControllerFactory } from './bulk-sender.js';
import { Link } from './link.js';
import { seededRandom } from './random.js';

export interface PathOptions {
  /** Bottleneck rate in bits per second (both directions). */
  bitsPerSecond: number;
  /** Round-trip propagation delay (ms): half each way. */
  rtt: number;
  /** Drop-tail buffer in bandwidth-delay products (default 1), or in bytes. */
  bufferBdp?: number;
  bufferBytes?: number;
  /** The receivers' ACK policy: every `ackEvery` packets (default 2), or after `maxAckDelay` ms (10). */
  ackEvery?: number;
  maxAckDelay?: number;
  /** Random loss of the forward (data) direction, 0 to 1. */
  loss?: number;
  seed?: number;
  /** Queue samples from this time on (ms; default 2000), about every `sampleEvery` ms (default 10). */
  sampleFrom?: number;
  sampleEvery?: number;
}

export interface FlowOptions {
  controller: ControllerFactory;
  /** When it starts (ms; default 0). */
  start?: number;
  /** Bytes to send (default: endless). */
  limit?: number;
}

type Datagram = DataDatagram | AckDatagram;

export class PathSimulator {
  now = 0;
  readonly forward: Link<Datagram>;
  readonly reverse: Link<Datagram>;
  readonly senders: BulkSender[] = [];
  readonly receivers: AckingReceiver[] = [];
  /** Queueing delay (ms) at the bottleneck at random moments. */
  readonly queueDelays: number[] = [];
  /** Bytes per second and bandwidth-delay product (bytes) of the bottleneck. */
  readonly bandwidth: number;
  readonly bdp: number;
  events = 0;
  private nextSample: number;
  private readonly random: () => number;
  private readonly sampleEvery: number;

  constructor(
    readonly path: PathOptions,
    flows: readonly FlowOptions[],
  ) {
    this.bandwidth = path.bitsPerSecond / 8;
    this.bdp = (this.bandwidth * path.rtt) / 1000;
    const buffer = path.bufferBytes ?? this.bdp * (path.bufferBdp ?? 1);
    const seed = path.seed ?? 1;
    const link = (loss: number, linkSeed: number) =>
      new Link<Datagram>({ bandwidth: this.bandwidth, delay: path.rtt / 2, buffer, loss, seed: linkSeed });
    this.forward = link(path.loss ?? 0, seed);
    this.reverse = link(0, seed + 1);
    flows.forEach((flow, index) => {
      const options = { flow: index, start: flow.start ?? 0, limit: flow.limit ?? Number.POSITIVE_INFINITY };
      this.senders.push(new BulkSender(options, flow.controller, this.forward));
      this.receivers.push(new AckingReceiver(index, this.reverse, path.maxAckDelay, path.ackEvery));
    });
    this.random = seededRandom(seed + 2);
    this.sampleEvery = path.sampleEvery ?? 10;
    this.nextSample = path.sampleFrom ?? 2000;
  }

  /** Runs until virtual time `until` (ms), or at most `maxEvents` events (then it throws). */
  run(until: number, maxEvents = 1e9): void {
    const { forward, reverse, senders, receivers } = this;
    for (;;) {
      let at = Math.min(forward.nextArrival(), reverse.nextArrival(), this.nextSample);
      for (const sender of senders) at = Math.min(at, sender.nextEvent());
      for (const receiver of receivers) at = Math.min(at, receiver.ackDeadline);
      if (at > until) break;
      if (++this.events > maxEvents) throw new Error(`path simulator: more than ${maxEvents} events`);
      this.now = at;
      this.step(at);
    }
    this.now = until;
  }

  /** Unique payload bytes per second flow `flow` received in [from, to) ms. */
  goodput(flow: number, from: number, to: number): number {
    return ((this.receivers[flow] as AckingReceiver).bytesBetween(from, to) * 1000) / (to - from);
  }

  private step(now: number): void {
    for (let datagram = this.forward.receive(now); datagram; datagram = this.forward.receive(now)) {
      (this.receivers[datagram.flow] as AckingReceiver).onData(now, datagram as DataDatagram);
      (this.senders[datagram.flow] as BulkSender).recycle(datagram as DataDatagram);
    }
    for (let datagram = this.reverse.receive(now); datagram; datagram = this.reverse.receive(now)) {
      (this.senders[datagram.flow] as BulkSender).onAck(now, datagram as AckDatagram);
      (this.receivers[datagram.flow] as AckingReceiver).recycle(datagram as AckDatagram);
    }
    for (const receiver of this.receivers) if (receiver.ackDeadline <= now) receiver.onTimer(now);
    for (const sender of this.senders) if (sender.nextEvent() <= now) sender.onTimer(now);
    if (this.nextSample <= now) {
      this.queueDelays.push(this.forward.queueDelay(now));
      this.nextSample = now + 2 * this.sampleEvery * this.random();
    }
  }
}

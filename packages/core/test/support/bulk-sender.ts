/**
 * The sending end of a simulated bulk flow: 1200-byte datagrams of an endless stream (or of
 * `limit` bytes), under the congestion modules as the engine will use them: loss detection and
 * its controller say how much may be in flight, the pacer when the next datagram may leave, lost
 * chunks go again (in new packets, QUIC style) before new ones, and a probe timeout sends probes
 * whatever the window. Its timer, like Node's, fires no sooner than `timerGranularity` ms after
 * it is set.
 */
import type { CongestionController, RttSource } from '../../src/congestion/controller.js';
import { MAX_DATAGRAM_SIZE } from '../../src/congestion/controller.js';
import { LossDetection } from '../../src/congestion/loss-detection.js';
import { Pacer } from '../../src/congestion/pacer.js';
import { RttEstimator } from '../../src/session/rtt-estimator.js';
import type { AckDatagram, DataDatagram } from './acking-receiver.js';
import type { Link } from './link.js';

export type ControllerFactory = (rtt: RttSource) => CongestionController;

export interface SenderOptions {
  flow: number;
  /** When it starts sending (ms). */
  start: number;
  /** Bytes of stream to send; Infinity for bulk. */
  limit?: number;
  timerGranularity?: number;
}

export class BulkSender {
  readonly rtt = new RttEstimator(1, 60_000);
  readonly controller: CongestionController;
  readonly loss: LossDetection;
  readonly pacer = new Pacer();
  private nextChunk = 0;
  private readonly retransmit: number[] = [];
  private retransmitHead = 0;
  private pacerWake = Number.POSITIVE_INFINITY;
  private started = false;
  private readonly limitChunks: number;
  private readonly granularity: number;
  datagramsSent = 0;
  retransmissions = 0;
  probes = 0;
  invalidAcks = 0;
  /** Datagrams the receiver is done with, for reuse. */
  private readonly spare: DataDatagram[] = [];

  constructor(
    private readonly options: SenderOptions,
    controller: ControllerFactory,
    private readonly forward: Link<AckDatagram | DataDatagram>,
  ) {
    this.controller = controller(this.rtt);
    this.loss = new LossDetection(this.rtt, this.controller);
    this.limitChunks = Math.ceil((options.limit ?? Number.POSITIVE_INFINITY) / MAX_DATAGRAM_SIZE);
    this.granularity = options.timerGranularity ?? 1;
  }

  /** The next time it has something to do. */
  nextEvent(): number {
    if (!this.started) return this.options.start;
    return Math.min(this.pacerWake, this.loss.deadline ?? Number.POSITIVE_INFINITY);
  }

  onTimer(now: number): void {
    this.started = true;
    const deadline = this.loss.deadline;
    if (deadline !== undefined && now >= deadline) {
      const what = this.loss.onTimeout(now);
      if (what === 'lost') this.requeueLost();
      // A probe with nothing new to send carries the oldest chunk still in flight.
      if (what === 'probe' && !this.hasData() && this.loss.sent.base < this.loss.sent.next)
        this.retransmit.push(this.loss.sent.tag(this.loss.sent.base));
    }
    if (now >= this.pacerWake) this.pacerWake = Number.POSITIVE_INFINITY;
    this.send(now);
  }

  onAck(now: number, ack: AckDatagram): void {
    const result = this.loss.onAckReceived(now, ack.ranges, ack.count, ack.ackDelay);
    if (result < 0) this.invalidAcks++;
    this.requeueLost();
    this.send(now);
  }

  /** Takes back a datagram the receiver has read. */
  recycle(datagram: DataDatagram): void {
    this.spare.push(datagram);
  }

  private requeueLost(): void {
    for (const chunk of this.loss.lostTags) this.retransmit.push(chunk);
  }

  private hasData(): boolean {
    return this.retransmitHead < this.retransmit.length || this.nextChunk < this.limitChunks;
  }

  private send(now: number): void {
    const loss = this.loss;
    while (this.hasData()) {
      const probe = loss.probesDue > 0;
      if (!probe) {
        const window = this.controller.window();
        if (loss.bytesInFlight + MAX_DATAGRAM_SIZE > window) return; // an ack will wake it
        const at = this.pacer.nextSendTime(
          now,
          MAX_DATAGRAM_SIZE,
          window,
          this.rtt.srtt,
          this.controller.pacingRate(),
        );
        if (at > now) {
          this.pacerWake = Math.max(at, now + this.granularity);
          return;
        }
      } else this.probes++;
      let chunk: number;
      if (this.retransmitHead < this.retransmit.length) {
        chunk = this.retransmit[this.retransmitHead++] as number;
        this.retransmissions++;
        if (this.retransmitHead === this.retransmit.length) this.retransmit.length = this.retransmitHead = 0;
      } else chunk = this.nextChunk++;
      const pn = loss.onPacketSent(now, MAX_DATAGRAM_SIZE, chunk);
      this.pacer.onSent(MAX_DATAGRAM_SIZE);
      this.datagramsSent++;
      const datagram = this.spare.pop() ?? { flow: this.options.flow, pn, chunk, bytes: MAX_DATAGRAM_SIZE };
      datagram.pn = pn;
      datagram.chunk = chunk;
      this.forward.send(now, MAX_DATAGRAM_SIZE, datagram);
    }
    // Out of data with room in the window: what is sent from here on is application-limited.
    if (loss.bytesInFlight + MAX_DATAGRAM_SIZE <= this.controller.window()) loss.onApplicationLimited();
  }
}

/**
 * Loss detection for one packet-number space, as RFC 9002 §6 and its Appendix A pseudocode
 * (the names follow it): acknowledgements with ranges, the packet threshold and the time
 * threshold, the probe timeout with exponential backoff, and persistent congestion (§7.6). It
 * keeps the sent packets, feeds the RTT source one sample per acknowledgement, estimates the
 * delivery rate, and tells the congestion controller what was sent, acknowledged and lost.
 *
 * Cost per acknowledgement: the packets it newly acknowledges plus at most kPacketThreshold
 * others (everything below largest_acked - kPacketThreshold + 1 is resolved by the end of each
 * call, so nothing is scanned twice); no allocation.
 */
import { emptied } from '../session/reliable-sender.js';
import { MAX_ACK_DELAY_MS } from '../session/rtt-estimator.js';
import type { AckedPacket, AckSummary, CongestionController, RttSource } from './controller.js';
import { DeliveryRate } from './delivery-rate.js';
import { ACK_ELICITING, ACKED, APP_LIMITED, IN_FLIGHT, LOST, PROBE, SentPackets } from './sent-packets.js';

/** kPacketThreshold: a packet this many below an acknowledged one is lost (RFC 9002 §6.1.1). */
export const PACKET_THRESHOLD = 3;
/** kTimeThreshold: a packet sent this many round trips before an acknowledged one is lost (§6.1.2). */
export const TIME_THRESHOLD = 9 / 8;
/** kGranularity (ms): the smallest loss delay (§6.1.2). */
export const GRANULARITY = 1;
/** kInitialRtt (ms), before any sample (§6.2.2). */
export const INITIAL_RTT = 333;
/** kPersistentCongestionThreshold (§7.6.1). */
export const PERSISTENT_CONGESTION_THRESHOLD = 3;
/** The PTO doubles at most this many times (2^16 PTOs is longer than any session lives). */
export const MAX_PTO_BACKOFF = 16;
/** Probe packets a PTO asks for (§6.2.4: one or two; two, so one lost probe does not cost another PTO). */
export const PROBES_PER_PTO = 2;

/** What `onTimeout` did. */
export type LossTimeout = 'none' | 'lost' | 'probe';

export class LossDetection {
  readonly sent = new SentPackets();
  rate = new DeliveryRate();
  /** Packet numbers the last call newly acknowledged, ascending, and their tags. Reused. */
  readonly acked: number[] = [];
  readonly ackedTags: number[] = [];
  /** Packet numbers the last call declared lost, ascending, and their tags. Reused. */
  readonly lost: number[] = [];
  readonly lostTags: number[] = [];
  /** largest_acked_packet, -1 before any. */
  largestAcked = -1;
  /** latest_rtt (ms), 0 before any sample. */
  latestRtt = 0;
  /** min_rtt (ms, over raw samples, §5.2), Infinity before any. */
  minRtt = Number.POSITIVE_INFINITY;
  /** pto_count. */
  ptoCount = 0;
  /** Ack-eliciting probes owed since the last PTO: send them even if the window is full (§7.5). */
  probesDue = 0;
  private timeOfLastAckEliciting = Number.NEGATIVE_INFINITY;
  /** loss_time: when the earliest packet not yet lost becomes lost by the time threshold. */
  private lossTime = Number.POSITIVE_INFINITY;
  private firstRttSampleAt = Number.POSITIVE_INFINITY;
  private timer: number | undefined;
  private readonly packet: AckedPacket = { sentAt: 0, bytes: 0, appLimited: false };
  private readonly summary: AckSummary = {
    latestRtt: Number.NaN,
    ackDelay: 0,
    ackedBytes: 0,
    lostBytes: 0,
    priorInFlight: 0,
    bytesInFlight: 0,
    delivered: 0,
    priorDelivered: -1,
    deliveryRate: 0,
    rateAppLimited: false,
  };

  constructor(
    private readonly rtt: RttSource,
    private controller: CongestionController,
    private readonly maxAckDelay = MAX_ACK_DELAY_MS,
  ) {}

  get bytesInFlight(): number {
    return this.sent.bytesInFlight;
  }

  /** loss_detection_timer: when `onTimeout` has something to do, or undefined. */
  get deadline(): number | undefined {
    return this.timer;
  }

  /**
   * The sender has nothing more to send and the window has room: the packets sent from now on
   * do not show what the path can carry, and do not grow the window (RFC 9002 §7.8).
   */
  onApplicationLimited(): void {
    this.rate.onAppLimited(this.sent.bytesInFlight);
  }

  /**
   * OnPacketSent: records a packet and returns its packet number. A `probe` (a PMTU probe) is in
   * flight and ack-eliciting like any packet, but its loss is no congestion event (RFC 9000 §14.4).
   */
  onPacketSent(
    now: number,
    bytes: number,
    tag = 0,
    ackEliciting = true,
    inFlight = true,
    probe = false,
  ): number {
    const priorInFlight = this.sent.bytesInFlight;
    const appLimited = this.rate.appLimited;
    const flags =
      (inFlight ? IN_FLIGHT : 0) |
      (ackEliciting ? ACK_ELICITING : 0) |
      (appLimited ? APP_LIMITED : 0) |
      (probe ? PROBE : 0);
    const pn = this.sent.add(now, bytes, flags, tag);
    if (inFlight) {
      if (ackEliciting) this.timeOfLastAckEliciting = now;
      this.rate.onPacketSent(this.sent, pn, now, priorInFlight);
      this.controller.onPacketSent(now, bytes, priorInFlight, appLimited);
      this.setTimer();
    }
    if (ackEliciting && this.probesDue > 0) this.probesDue--;
    return pn;
  }

  /**
   * OnAckReceived. `ranges` holds `rangeCount` pairs (smallest, largest), highest first and
   * disjoint, as QUIC's ACK frame; `ackDelay` is the peer's (ms). Returns how many packets it
   * newly acknowledged, or -1 if it is invalid (it names a packet never sent, or its ranges are
   * out of order): then nothing changed, and the caller drops and counts it.
   */
  onAckReceived(now: number, ranges: ArrayLike<number>, rangeCount: number, ackDelay: number): number {
    if (!validRanges(ranges, rangeCount, this.sent.next)) return -1;
    const sent = this.sent;
    const acked = emptied(this.acked);
    const ackedTags = emptied(this.ackedTags);
    emptied(this.lost);
    emptied(this.lostTags);
    const largest = ranges[1] as number;
    if (largest > this.largestAcked) this.largestAcked = largest;
    const summary = this.summary;
    summary.priorInFlight = sent.bytesInFlight;
    // DetectAndRemoveAckedPackets, lowest range first so `acked` is ascending.
    const largestNewlyAcked = sent.isOutstanding(largest);
    let ackElicitingAcked = false;
    let ackedBytes = 0;
    this.rate.beginAck();
    for (let i = rangeCount - 1; i >= 0; i--) {
      const high = Math.min(ranges[2 * i + 1] as number, sent.next - 1);
      for (let pn = Math.max(ranges[2 * i] as number, sent.base); pn <= high; pn++) {
        if (!sent.isOutstanding(pn)) continue;
        const flags = sent.flags(pn);
        if (flags & ACK_ELICITING) ackElicitingAcked = true;
        if (flags & IN_FLIGHT) {
          ackedBytes += sent.bytes(pn);
          this.rate.onPacketAcked(sent, pn, now);
        }
        sent.resolve(pn, ACKED);
        acked.push(pn);
        ackedTags.push(sent.tag(pn));
      }
    }
    if (acked.length === 0) return 0;
    summary.latestRtt = Number.NaN;
    summary.ackDelay = 0;
    // No sample from a packet out of flight: one sent on a path the peer has left (newPath).
    if (largestNewlyAcked && ackElicitingAcked && sent.flags(largest) & IN_FLIGHT) {
      this.latestRtt = now - sent.sentAt(largest);
      if (this.latestRtt < this.minRtt) this.minRtt = this.latestRtt;
      if (this.firstRttSampleAt === Number.POSITIVE_INFINITY) this.firstRttSampleAt = now;
      summary.latestRtt = this.latestRtt;
      summary.ackDelay = Math.min(Math.max(0, ackDelay), this.maxAckDelay);
      this.rtt.sample(this.latestRtt, summary.ackDelay);
    }
    summary.lostBytes = this.detectAndRemoveLostPackets(now, true);
    // OnPacketsAcked after the losses, as Appendix A orders it: a reduction this ack caused
    // already covers the packets it acknowledges.
    const packet = this.packet;
    for (const pn of acked) {
      if ((sent.flags(pn) & IN_FLIGHT) === 0) continue;
      packet.sentAt = sent.sentAt(pn);
      packet.bytes = sent.bytes(pn);
      packet.appLimited = (sent.flags(pn) & APP_LIMITED) !== 0;
      this.controller.onAck(now, packet);
    }
    summary.ackedBytes = ackedBytes;
    summary.bytesInFlight = sent.bytesInFlight;
    this.rate.endAck(summary, this.minRtt);
    this.controller.onAckEnd(now, summary);
    this.ptoCount = 0;
    sent.trim();
    this.setTimer();
    return acked.length;
  }

  /**
   * OnLossDetectionTimeout, when `now` reached `deadline`: either packets are now lost by the
   * time threshold ('lost': retransmit what `lost` names), or a probe timeout ('probe': send
   * `probesDue` ack-eliciting packets, new data or a retransmission, whatever the window).
   */
  onTimeout(now: number): LossTimeout {
    if (this.timer === undefined || now < this.timer) return 'none';
    emptied(this.acked);
    emptied(this.ackedTags);
    emptied(this.lost);
    emptied(this.lostTags);
    if (this.lossTime !== Number.POSITIVE_INFINITY) {
      this.detectAndRemoveLostPackets(now, false);
      this.sent.trim();
      this.setTimer();
      return 'lost';
    }
    this.ptoCount++;
    this.probesDue = PROBES_PER_PTO;
    this.setTimer();
    return 'probe';
  }

  /**
   * The peer is now reached over another path (RFC 9000 §9.4): what is in flight was sent on the
   * old one and tells nothing of the new, so `controller`, new, takes over and the round-trip
   * and delivery-rate state starts over. The packets still outstanding leave the bytes in flight
   * (quinn does the same) but stay held: an acknowledgement settles them, and once packets sent
   * on the new path are acknowledged past them they are lost as any other (their frames sent
   * again), with no congestion event. Packet numbers go on.
   */
  newPath(controller: CongestionController): void {
    const sent = this.sent;
    for (let pn = sent.base; pn < sent.next; pn++) if (sent.isOutstanding(pn)) sent.leaveFlight(pn);
    this.controller = controller;
    this.rate = new DeliveryRate();
    this.latestRtt = 0;
    this.minRtt = Number.POSITIVE_INFINITY;
    this.firstRttSampleAt = Number.POSITIVE_INFINITY;
    this.ptoCount = 0;
    this.probesDue = 0;
    this.setTimer();
  }

  /** The PTO before backoff (§6.2.1), in ms. */
  get pto(): number {
    return this.rtt.rto;
  }

  /**
   * DetectAndRemoveLostPackets (§6.1) over the packets below largest_acked; returns the bytes in
   * flight it declared lost, and tells the controller (OnPacketsLost). Persistent congestion is
   * judged only when an acknowledgement revealed the losses (`byAck`), as quinn does.
   */
  private detectAndRemoveLostPackets(now: number, byAck: boolean): number {
    const sent = this.sent;
    this.lossTime = Number.POSITIVE_INFINITY;
    const rtt = Math.max(this.latestRtt, this.rtt.srtt ?? INITIAL_RTT);
    const lossDelay = Math.max(TIME_THRESHOLD * rtt, GRANULARITY);
    const congestionPeriod = this.pto * PERSISTENT_CONGESTION_THRESHOLD;
    let lostBytes = 0;
    let newestLostSentAt = Number.NEGATIVE_INFINITY;
    let runStart = Number.NaN;
    let persistent = false;
    for (let pn = sent.base; pn < this.largestAcked; pn++) {
      const flags = sent.flags(pn);
      if (flags & LOST) continue; // lost earlier: neither breaks nor starts a run
      if (flags & ACKED) {
        runStart = Number.NaN; // an acknowledged packet between two lost ones
        continue;
      }
      const sentAt = sent.sentAt(pn);
      // time_sent <= now - loss_delay, computed as loss_time is, so the timer that fires at
      // loss_time always finds the packet lost (now - loss_delay may round below time_sent).
      const lossAt = sentAt + lossDelay;
      if (lossAt > now && this.largestAcked < pn + PACKET_THRESHOLD) {
        this.lossTime = Math.min(this.lossTime, lossAt);
        runStart = Number.NaN;
        continue;
      }
      sent.resolve(pn, LOST);
      this.lost.push(pn);
      this.lostTags.push(sent.tag(pn));
      // A lost probe is neither congestion nor part of a run of losses (§7.6 counts only those).
      if ((flags & IN_FLIGHT) === 0 || flags & PROBE) continue;
      lostBytes += sent.bytes(pn);
      if (sentAt > newestLostSentAt) newestLostSentAt = sentAt;
      if (!byAck || (flags & ACK_ELICITING) === 0) continue;
      if (Number.isNaN(runStart)) {
        // Only packets sent after the first RTT sample count (§7.6.2).
        if (sentAt > this.firstRttSampleAt) runStart = sentAt;
      } else if (sentAt - runStart > congestionPeriod) persistent = true;
    }
    if (lostBytes > 0) this.controller.onCongestionEvent(now, newestLostSentAt, persistent, lostBytes);
    return lostBytes;
  }

  /** SetLossDetectionTimer (§6.2 / A.8), for one space with no handshake. */
  private setTimer(): void {
    if (this.lossTime !== Number.POSITIVE_INFINITY) {
      this.timer = this.lossTime;
      return;
    }
    if (this.sent.ackElicitingInFlight === 0) {
      this.timer = undefined;
      return;
    }
    this.timer = this.timeOfLastAckEliciting + this.pto * 2 ** Math.min(this.ptoCount, MAX_PTO_BACKOFF);
  }
}

/** Highest range first, each smallest ≤ largest, disjoint and descending, all below `next`. */
function validRanges(ranges: ArrayLike<number>, count: number, next: number): boolean {
  if (count < 1 || ranges.length < 2 * count) return false;
  let ceiling = next;
  for (let i = 0; i < count; i++) {
    const smallest = ranges[2 * i] as number;
    const largest = ranges[2 * i + 1] as number;
    if (!Number.isSafeInteger(smallest) || !Number.isSafeInteger(largest)) return false;
    if (smallest < 0 || smallest > largest || largest >= ceiling) return false;
    ceiling = smallest;
  }
  return true;
}

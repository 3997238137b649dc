/**
 * BBR version 1 (draft-cardwell-iccrg-bbr-congestion-control-00; libudx's udx_bbr.c and quinn's
 * congestion/bbr were read to learn): a model of the path instead of a reaction to loss. It
 * estimates the bottleneck bandwidth (the windowed maximum of delivery-rate samples over 10
 * round trips) and the round-trip propagation time (the minimum RTT over 10 s), paces at about
 * that bandwidth and keeps about two bandwidth-delay products in flight, so the bottleneck queue
 * stays short (a chat line does not wait behind a full buffer) while the link stays busy.
 *
 * States, as the draft: Startup (pacing gain 2/ln 2 until the bandwidth stops growing by 25 %
 * for 3 rounds), Drain (the inverse gain, until in flight ≤ one BDP), ProbeBW (gains 1.25, 0.75,
 * then six rounds of 1, starting at a random phase), ProbeRTT (every 10 s without a new minimum:
 * at most 4 datagrams in flight for 200 ms and a round, to measure the propagation time again).
 * Loss: packet conservation for the first round of a recovery period, the window restored after.
 *
 * In bytes and ms, rates in bytes/s. Beyond draft-00, as Linux's bbr and libudx do: the window
 * also holds the recent ack aggregation (`extra_acked`: acks that arrive in bursts, as delayed
 * acks and an event loop's batching make them, must not starve the link), and pacing is 1 %
 * under the estimate so the model's own queue drains. Beyond draft-00, from BBRv2/v3
 * (draft-ietf-ccwg-bbr): a round that loses too much bounds what is in flight (inflight_hi) and,
 * until the next probe, the bandwidth the model uses (bw_lo).
 */
import {
  type AckedPacket,
  type AckSummary,
  type CongestionController,
  INITIAL_WINDOW,
  MAX_DATAGRAM_SIZE,
} from './controller.js';
import { AckAggregation } from './ack-aggregation.js';
import {
  BTL_BW_FILTER_ROUNDS,
  FULL_BW_GROWTH,
  FULL_BW_ROUNDS,
  HIGH_GAIN,
  LOSS_BETA,
  LOSS_MIN_BYTES,
  LOSS_THRESHOLD,
  MIN_PIPE_CWND,
  PACING_GAIN_CYCLE,
  PACING_MARGIN,
  PROBE_BW_CWND_GAIN,
  PROBE_QUEUE_MS,
  PROBE_RTT_DURATION_MS,
  RTPROP_FILTER_MS,
  STARTUP_LOSS_MIN_BYTES,
} from './bbr-parameters.js';
import { burstCapacity } from './pacer.js';
import { WindowedMax } from './windowed-max.js';

export type BbrMode = 'startup' | 'drain' | 'probe_bw' | 'probe_rtt';

export interface BbrOptions {
  /** Picks ProbeBW's starting phase; a uniformly random unsigned 32-bit integer. */
  randomU32?: () => number;
}

export class Bbr implements CongestionController {
  readonly name = 'bbr';
  private state: BbrMode = 'startup';
  private cwnd = INITIAL_WINDOW;
  private pacing: number | undefined;
  private paceGain = HIGH_GAIN;
  private windowGain = HIGH_GAIN;
  private readonly btlBwFilter = new WindowedMax(BTL_BW_FILTER_ROUNDS);
  /** BBR.rtprop (ms) and when it was last measured. */
  private rtProp = Number.POSITIVE_INFINITY;
  private rtPropStamp = 0;
  private rtPropExpired = false;
  private roundCount = 0;
  private nextRoundDelivered = 0;
  private roundStart = false;
  private filledPipe = false;
  private fullBw = 0;
  private fullBwCount = 0;
  private cycleIndex = 0;
  private cycleStamp = 0;
  private probeRttDoneStamp = 0;
  private probeRttRoundDone = false;
  /** Rate samples are treated as application-limited until `delivered` passes this (ProbeRTT's). */
  private ignoreSamplesUntil = 0;
  private priorCwnd = 0;
  private idleRestart = false;
  private inRecovery = false;
  private recoveryStart = Number.NEGATIVE_INFINITY;
  private enteringRecovery = false;
  private packetConservation = false;
  private lostBytes = 0;
  /** BBRv2's inflight_hi (Infinity until a round loses too much) and how much the next round adds. */
  private inflightHi = Number.POSITIVE_INFINITY;
  private probeUpIncrement = MAX_DATAGRAM_SIZE;
  /**
   * The largest datagram sent (bytes; 1452 once a path proved it carries large ones). A round
   * whose peak in flight came within one of these of inflight_hi was limited by the bound: the
   * next datagram did not fit. Judged against 1200 instead, a flow of 1452-byte datagrams whose
   * window left 1201-1451 bytes unused never raised its bound again, and two such flows kept the
   * split their first loss gave them (0.66 of each other on 100 Mbit/s, 50 ms). The loss
   * minimums and the bound's raises count datagrams of this size too (BBRv2 counts packets):
   * in 1200-byte units a 1452-byte flow left Startup on fewer lost datagrams and raised its
   * bound by less than a datagram a round.
   */
  private largestSent = MAX_DATAGRAM_SIZE;
  private roundAcked = 0;
  /**
   * BBRv3's bw_lo: after a round that lost too much outside a probe, the bandwidth the model paces
   * at and sizes the window from is at most this (Infinity otherwise), until the next probe. Without
   * it a flow paced at the 10-round maximum of its own delivery rate kept pacing there after
   * another flow took part of the link: the loss bound cut both flows' windows by the same
   * fraction, the larger one kept its larger rate, and two peers at 1 Gbit/s, 10 ms kept a split
   * of 0.67 for seconds.
   */
  private bwLo = Number.POSITIVE_INFINITY;
  /** The largest delivery-rate sample of the round so far (BBRv3's bw_latest). */
  private roundMaxRate = 0;
  private roundLost = 0;
  private roundMaxInFlight = 0;
  private readonly aggregation = new AckAggregation();
  private readonly randomU32: () => number;

  constructor(options: BbrOptions = {}) {
    this.randomU32 = options.randomU32 ?? (() => Math.floor(Math.random() * 2 ** 32));
  }

  /** The state: Startup, Drain, ProbeBW or ProbeRTT. */
  get mode(): BbrMode {
    return this.state;
  }

  /** BBR.pacing_gain and BBR.cwnd_gain now. */
  get pacingGain(): number {
    return this.paceGain;
  }

  get cwndGain(): number {
    return this.windowGain;
  }

  /** BBR.BtlBw: the bottleneck bandwidth estimate (bytes/s), 0 before any sample. */
  get bandwidth(): number {
    return this.btlBwFilter.value;
  }

  /** The bound on the bandwidth the model uses that losses set (bw_lo; Infinity without one). */
  get bandwidthBound(): number {
    return this.bwLo;
  }

  /** What the pacing rate, the window's target and the ack aggregation go by: BtlBw within bw_lo. */
  private get modelBandwidth(): number {
    return Math.min(this.btlBwFilter.value, this.bwLo);
  }

  /** BBR.rtprop (ms), Infinity before any sample. */
  get minRtt(): number {
    return this.rtProp;
  }

  window(): number {
    return this.cwnd;
  }

  pacingRate(): number | undefined {
    return this.pacing;
  }

  /** BBRHandleRestartFromIdle (BBROnTransmit). */
  onPacketSent(_now: number, bytes: number, priorInFlight: number, appLimited: boolean): void {
    if (bytes > this.largestSent) this.largestSent = bytes;
    if (priorInFlight !== 0 || !appLimited) return;
    this.idleRestart = true;
    this.aggregation.restartEpoch();
    if (this.state === 'probe_bw') this.setPacingRateWithGain(1);
  }

  onAck(_now: number, packet: AckedPacket): void {
    // A packet sent after the recovery period began is acknowledged: the period is over.
    if (this.inRecovery && packet.sentAt > this.recoveryStart) {
      this.inRecovery = false;
      this.packetConservation = false;
      this.cwnd = Math.max(this.cwnd, this.priorCwnd);
    }
  }

  onCongestionEvent(now: number, sentAt: number, persistent: boolean, lostBytes: number): void {
    this.lostBytes += lostBytes;
    if (persistent) {
      // As a retransmission timeout: keep what the window was, start over from the minimum.
      this.saveCwnd();
      this.cwnd = MIN_PIPE_CWND;
      this.inRecovery = false;
      this.packetConservation = false;
      this.fullBw = 0;
      return;
    }
    if (this.inRecovery || sentAt <= this.recoveryStart) return;
    this.saveCwnd();
    this.inRecovery = true;
    this.recoveryStart = now;
    this.enteringRecovery = true;
  }

  /** BBRUpdateOnACK: the model and state, then the pacing rate and the window. */
  onAckEnd(now: number, s: AckSummary): void {
    if (Number.isNaN(s.latestRtt) === false && this.pacing === undefined) {
      // The first round trip measured: pace the initial window at Startup's gain over it.
      this.pacing = (HIGH_GAIN * INITIAL_WINDOW * 1000) / Math.max(s.latestRtt, 1);
    }
    this.updateBtlBw(s);
    this.aggregation.update(now, s.ackedBytes, this.roundStart, this.modelBandwidth, this.cwnd);
    if (this.state === 'probe_bw' && this.isNextCyclePhase(now, s)) this.advanceCyclePhase(now);
    this.checkFullPipe(s);
    this.checkDrain(now, s);
    this.updateRtProp(now, s);
    this.checkProbeRtt(now, s);
    this.setPacingRateWithGain(this.paceGain);
    this.setCwnd(s);
    this.lostBytes = 0;
  }

  /** BBRInflight(gain): gain × the estimated BDP, plus one pacer burst. */
  private inflight(gain: number): number {
    if (this.rtProp === Number.POSITIVE_INFINITY || this.bandwidth === 0) return INITIAL_WINDOW;
    const bandwidth = this.modelBandwidth;
    const bdp = (bandwidth * this.rtProp) / 1000;
    return gain * bdp + burstCapacity(bandwidth);
  }

  /** The upper bound on bytes in flight that losses set (Infinity without one). */
  get inflightBound(): number {
    return this.inflightHi;
  }

  private updateBtlBw(s: AckSummary): void {
    this.roundStart = false;
    this.roundAcked += s.ackedBytes;
    this.roundLost += this.lostBytes;
    if (s.priorInFlight > this.roundMaxInFlight) this.roundMaxInFlight = s.priorInFlight;
    if (s.priorDelivered >= 0 && s.priorDelivered >= this.nextRoundDelivered) {
      this.endRound();
      this.nextRoundDelivered = s.delivered;
      this.roundCount++;
      this.roundStart = true;
      this.packetConservation = false;
    }
    // After the round-start check: the ack that begins a round brings that round's first sample.
    if (s.deliveryRate > this.roundMaxRate) this.roundMaxRate = s.deliveryRate;
    const appLimited = s.rateAppLimited || s.delivered <= this.ignoreSamplesUntil;
    if (s.deliveryRate > 0 && (s.deliveryRate >= this.bandwidth || !appLimited))
      this.btlBwFilter.update(this.roundCount, s.deliveryRate);
  }

  /**
   * A round ended: too much loss lowers the bound on what is in flight and, outside a probe, the
   * bandwidth (to what the round delivered, at least 0.7 of it); a round against the bound raises it.
   */
  private endRound(): void {
    const lost = this.roundLost;
    // The minimums count datagrams: of the size this flow sends.
    const datagrams = this.largestSent / MAX_DATAGRAM_SIZE;
    const minimum = (this.state === 'startup' ? STARTUP_LOSS_MIN_BYTES : LOSS_MIN_BYTES) * datagrams;
    if (lost >= minimum && lost > LOSS_THRESHOLD * (lost + this.roundAcked)) {
      if (this.state === 'probe_bw' && this.paceGain <= 1 && this.roundMaxRate > 0)
        this.bwLo = Math.max(this.roundMaxRate, LOSS_BETA * this.modelBandwidth);
      this.inflightHi = Math.max(MIN_PIPE_CWND, LOSS_BETA * Math.min(this.inflightHi, this.roundMaxInFlight));
      this.probeUpIncrement = this.largestSent;
      // Startup overflowed the buffer: the pipe is full (BBRv2), whatever the bandwidth did.
      if (this.state === 'startup') this.filledPipe = true;
    } else if (this.state === 'probe_bw' && this.roundMaxInFlight + this.largestSent >= this.inflightHi) {
      this.inflightHi += this.probeUpIncrement;
      this.probeUpIncrement *= 2;
    }
    this.roundAcked = this.roundLost = this.roundMaxInFlight = this.roundMaxRate = 0;
  }

  private isNextCyclePhase(now: number, s: AckSummary): boolean {
    const fullLength = now - this.cycleStamp > this.rtProp;
    if (this.paceGain === 1) return fullLength;
    if (this.paceGain > 1)
      return fullLength && (this.lostBytes > 0 || s.priorInFlight >= this.inflight(this.paceGain));
    return fullLength || s.priorInFlight <= this.inflight(1);
  }

  private advanceCyclePhase(now: number): void {
    this.cycleStamp = now;
    this.cycleIndex = (this.cycleIndex + 1) % PACING_GAIN_CYCLE.length;
    const gain = PACING_GAIN_CYCLE[this.cycleIndex] as number;
    const bound = Math.min(gain - 1 > 0 ? gain - 1 : 1 - gain, PROBE_QUEUE_MS / this.rtProp);
    this.paceGain = gain > 1 ? 1 + bound : gain < 1 ? 1 - bound : 1;
    // A probe looks for bandwidth beyond what the losses allowed (BBRv3's ResetLowerBounds on refill).
    if (gain > 1) this.bwLo = Number.POSITIVE_INFINITY;
  }

  private checkFullPipe(s: AckSummary): void {
    if (this.filledPipe || !this.roundStart || s.rateAppLimited) return;
    if (this.bandwidth >= this.fullBw * FULL_BW_GROWTH) {
      this.fullBw = this.bandwidth;
      this.fullBwCount = 0;
      return;
    }
    if (++this.fullBwCount >= FULL_BW_ROUNDS) this.filledPipe = true;
  }

  private checkDrain(now: number, s: AckSummary): void {
    if (this.state === 'startup' && this.filledPipe) {
      this.state = 'drain';
      this.paceGain = 1 / HIGH_GAIN;
      this.windowGain = HIGH_GAIN;
    }
    if (this.state === 'drain' && s.bytesInFlight <= this.inflight(1)) this.enterProbeBw(now);
  }

  private enterProbeBw(now: number): void {
    this.state = 'probe_bw';
    this.paceGain = 1;
    this.windowGain = PROBE_BW_CWND_GAIN;
    // Start at a random phase, but never at 0.75: there is no probing queue to drain yet.
    const length = PACING_GAIN_CYCLE.length;
    this.cycleIndex = length - 1 - (this.randomU32() % (length - 1));
    this.advanceCyclePhase(now);
  }

  private enterStartup(): void {
    this.state = 'startup';
    this.paceGain = HIGH_GAIN;
    this.windowGain = HIGH_GAIN;
  }

  private updateRtProp(now: number, s: AckSummary): void {
    this.rtPropExpired = now > this.rtPropStamp + RTPROP_FILTER_MS;
    if (s.latestRtt >= 0 && (s.latestRtt <= this.rtProp || this.rtPropExpired)) {
      this.rtProp = s.latestRtt;
      this.rtPropStamp = now;
    }
  }

  private checkProbeRtt(now: number, s: AckSummary): void {
    if (this.state !== 'probe_rtt' && this.rtPropExpired && !this.idleRestart) {
      this.state = 'probe_rtt';
      this.paceGain = 1;
      this.windowGain = 1;
      this.saveCwnd();
      this.probeRttDoneStamp = 0;
    }
    if (this.state === 'probe_rtt') this.handleProbeRtt(now, s);
    this.idleRestart = false;
  }

  private handleProbeRtt(now: number, s: AckSummary): void {
    // The low rate of a drained pipe says nothing about the bottleneck.
    this.ignoreSamplesUntil = s.delivered + s.bytesInFlight;
    if (this.probeRttDoneStamp === 0 && s.bytesInFlight <= MIN_PIPE_CWND) {
      this.probeRttDoneStamp = now + PROBE_RTT_DURATION_MS;
      this.probeRttRoundDone = false;
      this.nextRoundDelivered = s.delivered;
    } else if (this.probeRttDoneStamp !== 0) {
      if (this.roundStart) this.probeRttRoundDone = true;
      if (this.probeRttRoundDone && now > this.probeRttDoneStamp) {
        this.rtPropStamp = now;
        this.cwnd = Math.max(this.cwnd, this.priorCwnd);
        if (this.filledPipe) this.enterProbeBw(now);
        else this.enterStartup();
      }
    }
  }

  private setPacingRateWithGain(gain: number): void {
    const rate = gain * this.modelBandwidth * (1 - PACING_MARGIN);
    if (rate > 0 && (this.filledPipe || this.pacing === undefined || rate > this.pacing)) this.pacing = rate;
  }

  private saveCwnd(): void {
    this.priorCwnd =
      !this.inRecovery && this.state !== 'probe_rtt' ? this.cwnd : Math.max(this.priorCwnd, this.cwnd);
  }

  /** BBRSetCwnd, with BBRModulateCwndForRecovery and ForProbeRTT. */
  private setCwnd(s: AckSummary): void {
    if (this.lostBytes > 0) this.cwnd = Math.max(this.cwnd - this.lostBytes, MAX_DATAGRAM_SIZE);
    if (this.enteringRecovery) {
      // Packet conservation for a round: send one for one acknowledged.
      this.enteringRecovery = false;
      this.packetConservation = true;
      this.nextRoundDelivered = s.delivered;
      this.cwnd = s.bytesInFlight + Math.max(s.ackedBytes, MAX_DATAGRAM_SIZE);
    }
    if (this.packetConservation) this.cwnd = Math.max(this.cwnd, s.bytesInFlight + s.ackedBytes);
    else {
      let target = this.inflight(this.windowGain);
      if (this.filledPipe) {
        target += this.aggregation.allowance(this.modelBandwidth);
        this.cwnd = Math.min(this.cwnd + s.ackedBytes, target);
      } else if (this.cwnd < target || s.delivered < INITIAL_WINDOW) this.cwnd += s.ackedBytes;
      this.cwnd = Math.max(this.cwnd, MIN_PIPE_CWND);
    }
    this.cwnd = Math.max(MIN_PIPE_CWND, Math.min(this.cwnd, this.inflightHi));
    if (this.state === 'probe_rtt') this.cwnd = Math.min(this.cwnd, MIN_PIPE_CWND);
  }
}

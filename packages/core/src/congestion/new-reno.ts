/**
 * NewReno on bytes in flight, as RFC 9002 §7 and Appendix B write it: slow start, congestion
 * avoidance, one reduction per recovery period (keyed by the time a packet was sent), the
 * minimum window, persistent congestion, no growth while the window is under-used (§7.8). The
 * reference controller: PROTOCOL.md's test vectors replay against it.
 *
 * Two choices the RFC leaves open, both as quinn and Linux make them:
 * - congestion avoidance counts acknowledged bytes (RFC 3465's appropriate byte counting) and
 *   adds one datagram each time a whole window's worth has been acknowledged, in integers, so
 *   another implementation gets exactly the same windows;
 * - after an idle period (nothing in flight, nothing sent for longer than a PTO) the window is
 *   halved once per PTO of idleness, not below min(initial window, window), and ssthresh keeps
 *   at least 3/4 of the old window, so the sender slow-starts back quickly (RFC 5681 §4.1's
 *   restart window, as Linux's tcp_cwnd_restart does): a burst into a path whose state is
 *   unknown stays bounded.
 */
import {
  type AckedPacket,
  type AckSummary,
  type CongestionController,
  INITIAL_WINDOW,
  MAX_DATAGRAM_SIZE,
  MINIMUM_WINDOW,
  type RttSource,
} from './controller.js';

/** RFC 9002 §7.3.2: kLossReductionFactor. */
export const LOSS_REDUCTION_FACTOR = 0.5;

export class NewReno implements CongestionController {
  readonly name = 'newreno';
  private cwnd = INITIAL_WINDOW;
  private threshold = Number.POSITIVE_INFINITY;
  /**
   * congestion_recovery_start_time: a packet sent at or before it belongs to the current
   * recovery period. -Infinity: none yet (the RFC's 0, on a clock that may start at 0).
   */
  private recoveryStart = Number.NEGATIVE_INFINITY;
  /** Bytes acknowledged in congestion avoidance since the window last grew. */
  private bytesAcked = 0;
  private lastSentAt = Number.NEGATIVE_INFINITY;

  /** `rtt` gives the PTO that measures idleness. */
  constructor(private readonly rtt: RttSource) {}

  get ssthresh(): number {
    return this.threshold;
  }

  window(): number {
    return this.cwnd;
  }

  pacingRate(): undefined {
    return undefined;
  }

  onPacketSent(now: number, _bytes: number, priorInFlight: number, _appLimited: boolean): void {
    const idle = now - this.lastSentAt;
    const first = this.lastSentAt === Number.NEGATIVE_INFINITY;
    this.lastSentAt = now;
    if (first || priorInFlight > 0 || !(idle > this.rtt.rto)) return;
    const halvings = Math.ceil(idle / this.rtt.rto) - 1;
    const restart = Math.min(INITIAL_WINDOW, this.cwnd);
    this.threshold = Math.max(this.threshold, Math.floor((3 * this.cwnd) / 4));
    // Halving more than 30 times reaches 0 for any window; shifting by ≥ 32 would wrap.
    this.cwnd = Math.max(restart, halvings >= 30 ? 0 : Math.floor(this.cwnd / 2 ** halvings));
    this.bytesAcked = 0;
  }

  /** RFC 9002 B.5 OnPacketsAcked, for one packet. */
  onAck(_now: number, packet: AckedPacket): void {
    // No growth inside a recovery period, nor while the window is not being used (§7.8).
    if (packet.sentAt <= this.recoveryStart || packet.appLimited) return;
    if (this.cwnd < this.threshold) {
      this.cwnd += packet.bytes;
      return;
    }
    this.bytesAcked += packet.bytes;
    if (this.bytesAcked >= this.cwnd) {
      this.bytesAcked -= this.cwnd;
      this.cwnd += MAX_DATAGRAM_SIZE;
    }
  }

  /** RFC 9002 B.6 OnCongestionEvent and B.8's persistent congestion. */
  onCongestionEvent(now: number, sentAt: number, persistent: boolean, _lostBytes: number): void {
    if (sentAt > this.recoveryStart) {
      this.recoveryStart = now;
      this.threshold = Math.floor(this.cwnd * LOSS_REDUCTION_FACTOR);
      this.cwnd = Math.max(this.threshold, MINIMUM_WINDOW);
      this.bytesAcked = 0;
    }
    if (persistent) {
      this.cwnd = MINIMUM_WINDOW;
      this.recoveryStart = Number.NEGATIVE_INFINITY;
      this.bytesAcked = 0;
    }
  }

  onAckEnd(_now: number, _summary: AckSummary): void {}
}

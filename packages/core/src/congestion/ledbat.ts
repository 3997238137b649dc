/**
 * LEDBAT++ (draft-irtf-iccrg-ledbat-plus-plus, on top of RFC 6817's LEDBAT): a delay-based
 * controller that aims at a fixed queueing delay (`target`) at the bottleneck and yields to
 * anything that builds more. Queueing delay is measured, as Windows' LEDBAT++ does, from round
 * trips: the current RTT (the least of the last 4 samples, less the peer's ack delay) minus the
 * base RTT (the least of the last 10 minutes, in one-minute buckets as RFC 6817's base history).
 *
 * Its rules, in bytes (W = window / max datagram size, in datagrams):
 * - GAIN = 1 / min(16, ceil(2 * target / base RTT)): slower growth on short paths.
 * - Slow start grows by GAIN × the bytes acknowledged, and ends when the queueing delay exceeds
 *   3/4 of the target (or at ssthresh, or on loss).
 * - Congestion avoidance, per window of bytes acknowledged: + GAIN datagrams while the delay is
 *   under the target; above it, + max(GAIN − W × (delay / target − 1), −W/2) (the multiplicative
 *   decrease that LEDBAT++ puts in place of RFC 6817's linear one).
 * - Loss: the window halves, once per recovery period (as NewReno).
 * - Periodic slowdown: 2 round trips after the first slow start ends, and then 9 times the last
 *   slowdown's length after it ends, the window drops to 2 datagrams for 2 round trips and
 *   slow-starts back to where it was. The queue drains, so every flow sees the true base delay
 *   (latecomers do not take a standing queue for the base) and flows converge to fair shares.
 * - No growth while the window is not being used (application-limited).
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
import { INITIAL_RTT } from './loss-detection.js';

/** The draft's target queueing delay (ms). */
export const LEDBAT_TARGET = 60;
export const MAX_GAIN_DIVISOR = 16;
/** Slow start ends at this fraction of the target. */
export const SLOW_START_EXIT = 3 / 4;
/** RFC 6817: the current delay is the least of this many samples. */
export const CURRENT_FILTER = 4;
/** RFC 6817: the base delay is the least of this many one-minute buckets. */
export const BASE_HISTORY = 10;
export const BASE_BUCKET_MS = 60_000;
/** The slowdown holds the window at its minimum this many round trips... */
export const SLOWDOWN_ROUNDS = 2;
/** ...and the next one comes this many slowdown lengths after it ends. */
export const SLOWDOWN_SPACING = 9;

export type LedbatPhase = 'slow_start' | 'avoidance' | 'slowdown' | 'ramp';

export interface LedbatOptions {
  /** Target queueing delay (ms); the draft's 60 by default. */
  target?: number;
}

export class Ledbat implements CongestionController {
  readonly name: string;
  phase: LedbatPhase = 'slow_start';
  private cwnd = INITIAL_WINDOW;
  private threshold = Number.POSITIVE_INFINITY;
  private recoveryStart = Number.NEGATIVE_INFINITY;
  private readonly target: number;
  private readonly recent = new Float64Array(CURRENT_FILTER).fill(Number.POSITIVE_INFINITY);
  private recentIndex = 0;
  private readonly baseHistory = new Float64Array(BASE_HISTORY).fill(Number.POSITIVE_INFINITY);
  private baseIndex = 0;
  private baseBucketStart = Number.NaN;
  /** When the next slowdown begins (Infinity: not scheduled yet), when its freeze ends, when it began. */
  private nextSlowdown = Number.POSITIVE_INFINITY;
  private freezeEnd = 0;
  private slowdownStart = 0;
  /** Growth of this ack's packets, applied in onAckEnd once the delay is known. */
  private growableBytes = 0;

  constructor(
    private readonly rtt: RttSource,
    options: LedbatOptions = {},
  ) {
    this.target = options.target ?? LEDBAT_TARGET;
    this.name = this.target === LEDBAT_TARGET ? 'ledbat++' : `ledbat++ ${this.target} ms`;
  }

  get ssthresh(): number {
    return this.threshold;
  }

  /** The base round trip (ms), Infinity before any sample. */
  get baseDelay(): number {
    let base = Number.POSITIVE_INFINITY;
    for (const value of this.baseHistory) if (value < base) base = value;
    return base;
  }

  /** The current queueing delay estimate (ms), 0 before any sample. */
  get queueingDelay(): number {
    let current = Number.POSITIVE_INFINITY;
    for (const value of this.recent) if (value < current) current = value;
    const delay = current - this.baseDelay;
    return Number.isFinite(delay) ? Math.max(0, delay) : 0;
  }

  /** GAIN: 1 / min(16, ceil(2 × target / base delay)). */
  get gain(): number {
    const base = this.baseDelay;
    if (!Number.isFinite(base)) return 1 / MAX_GAIN_DIVISOR;
    return 1 / Math.min(MAX_GAIN_DIVISOR, Math.max(1, Math.ceil((2 * this.target) / Math.max(base, 0.001))));
  }

  window(): number {
    return this.cwnd;
  }

  pacingRate(): undefined {
    return undefined;
  }

  onPacketSent(): void {}

  onAck(_now: number, packet: AckedPacket): void {
    if (packet.sentAt <= this.recoveryStart || packet.appLimited) return;
    this.growableBytes += packet.bytes;
  }

  onCongestionEvent(now: number, sentAt: number, persistent: boolean, _lostBytes: number): void {
    if (sentAt > this.recoveryStart) {
      this.recoveryStart = now;
      this.threshold = Math.max(Math.floor(this.cwnd / 2), MINIMUM_WINDOW);
      this.cwnd = this.threshold;
      if (this.phase === 'slow_start' || this.phase === 'ramp') this.endSlowStart(now);
    }
    if (persistent) {
      this.cwnd = MINIMUM_WINDOW;
      this.recoveryStart = Number.NEGATIVE_INFINITY;
    }
  }

  onAckEnd(now: number, s: AckSummary): void {
    if (!Number.isNaN(s.latestRtt)) this.addSample(now, Math.max(0, s.latestRtt - s.ackDelay));
    const bytes = this.growableBytes;
    this.growableBytes = 0;
    const delay = this.queueingDelay;
    if (this.phase === 'slowdown') {
      if (now < this.freezeEnd) return;
      this.phase = 'ramp';
    }
    if (this.phase === 'slow_start' || this.phase === 'ramp') {
      if (delay > SLOW_START_EXIT * this.target || this.cwnd >= this.threshold) {
        if (this.cwnd < this.threshold) this.threshold = this.cwnd;
        this.endSlowStart(now);
      } else this.cwnd += this.gain * bytes;
    } else if (bytes > 0) {
      const w = this.cwnd / MAX_DATAGRAM_SIZE;
      const change =
        delay < this.target ? this.gain : Math.max(this.gain - w * (delay / this.target - 1), -w / 2);
      this.cwnd = Math.max(MINIMUM_WINDOW, this.cwnd + (change * MAX_DATAGRAM_SIZE * bytes) / this.cwnd);
    }
    if (this.phase === 'avoidance' && now >= this.nextSlowdown) {
      this.phase = 'slowdown';
      this.slowdownStart = now;
      this.freezeEnd = now + SLOWDOWN_ROUNDS * this.roundTrip();
      this.threshold = this.cwnd;
      this.cwnd = MINIMUM_WINDOW;
    }
  }

  private roundTrip(): number {
    return this.rtt.srtt ?? INITIAL_RTT;
  }

  /** Slow start (the first, or a slowdown's ramp) is over: schedule the next slowdown. */
  private endSlowStart(now: number): void {
    this.nextSlowdown =
      this.phase === 'slow_start'
        ? now + SLOWDOWN_ROUNDS * this.roundTrip()
        : now + SLOWDOWN_SPACING * (now - this.slowdownStart);
    this.phase = 'avoidance';
  }

  private addSample(now: number, rtt: number): void {
    this.recent[this.recentIndex] = rtt;
    this.recentIndex = (this.recentIndex + 1) % CURRENT_FILTER;
    if (Number.isNaN(this.baseBucketStart)) this.baseBucketStart = now;
    if (now - this.baseBucketStart >= BASE_BUCKET_MS) {
      this.baseBucketStart = now;
      this.baseIndex = (this.baseIndex + 1) % BASE_HISTORY;
      this.baseHistory[this.baseIndex] = rtt;
    } else if (rtt < (this.baseHistory[this.baseIndex] as number)) this.baseHistory[this.baseIndex] = rtt;
  }
}

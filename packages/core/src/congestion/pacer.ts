/**
 * Pacing (RFC 9002 §7.7; quinn's connection/pacing.rs is the model): a token bucket of bytes,
 * refilled at the controller's own rate if it has one (BBR), else at 1.25 × window / smoothed
 * RTT, so a window is spread over a round trip instead of leaving in one burst that the
 * bottleneck's queue (and every chat line behind it) would have to absorb.
 *
 * The bucket holds about 2 ms of sending (at least 10 datagrams, the initial window; at most 256
 * datagrams or 10 ms), and when it runs dry the sender waits until it is full again: Node's
 * timers fire at millisecond granularity, so pacing by single datagrams at 100 Mbit/s (one every
 * 0.1 ms) would cost a wake-up per datagram and still burst whenever a timer came late. After an
 * idle period the bucket is full at most: a burst is never larger than its capacity.
 */
import { MAX_DATAGRAM_SIZE } from './controller.js';

/** The extra rate over window / RTT (RFC 9002 §7.7's N = 1.25). */
export const PACING_GAIN = 1.25;
/** The burst the bucket aims at (ms of sending) and the most it holds (ms). */
export const TARGET_BURST_INTERVAL = 1;
export const MAX_BURST_INTERVAL = 10;
/** The bucket's size in datagrams, at least and at most. */
export const MIN_BURST_DATAGRAMS = 10;
export const MAX_BURST_DATAGRAMS = 256;

export class Pacer {
  private tokens = MIN_BURST_DATAGRAMS * MAX_DATAGRAM_SIZE;
  private refilledAt = Number.NaN;
  private maxRate: number | undefined;
  /** How late the sender's wake-ups come (ms, smoothed): the bucket holds that much more. */
  private lateness = 0;
  /** The inputs of the last `nextSendTime` (NaN: compute again); see its shortcut. */
  private lastBytes = 0;
  private lastWindow = Number.NaN;
  private lastSrtt: number | undefined;
  private lastControllerRate: number | undefined;

  /**
   * The sender woke `ms` after the time `nextSendTime` gave (its timer is coarse: Node's fire a
   * millisecond or two late). A bucket of 1 ms that is woken every 2.5 ms sends at 40 % of the
   * rate, and a controller that measures the delivery rate (BBR) then learns the lower rate; so
   * the bucket holds the smoothed lateness more (never beyond MAX_BURST_INTERVAL). On exact
   * timers (virtual time) it stays at TARGET_BURST_INTERVAL.
   */
  noteWakeLateness(ms: number): void {
    this.lateness = 0.875 * this.lateness + 0.125 * Math.max(0, ms);
    this.lastWindow = Number.NaN;
  }

  /** The burst the bucket aims at now (ms of sending). */
  get burstInterval(): number {
    return Math.min(MAX_BURST_INTERVAL, TARGET_BURST_INTERVAL + this.lateness);
  }

  /** Caps the rate (bytes/s) whatever the controller says: a relay's budget. Undefined: no cap. */
  setMaxRate(bytesPerSecond: number | undefined): void {
    this.maxRate = bytesPerSecond;
    this.lastWindow = Number.NaN;
  }

  /**
   * The rate (bytes/s) to pace at, from the controller's own rate or the window and smoothed
   * RTT (ms); undefined before any RTT sample and without a cap (then nothing is paced).
   */
  rate(window: number, srtt: number | undefined, controllerRate: number | undefined): number | undefined {
    let rate = controllerRate;
    if (rate === undefined && srtt !== undefined && srtt > 0) rate = (PACING_GAIN * window * 1000) / srtt;
    if (this.maxRate !== undefined) rate = rate === undefined ? this.maxRate : Math.min(rate, this.maxRate);
    return rate;
  }

  /**
   * When a datagram of `bytes` may leave: `now` if at once (then call `onSent`), else the time
   * (ms) to ask again.
   */
  nextSendTime(
    now: number,
    bytes: number,
    window: number,
    srtt: number | undefined,
    controllerRate: number | undefined,
  ): number {
    // Again within the same instant (a burst of packets sent in one pump), with the same inputs:
    // nothing refilled and the bucket's size is the same, so the full computation below would
    // answer `now` too (it is done once per instant, not once per datagram).
    if (
      now === this.refilledAt &&
      bytes === this.lastBytes &&
      this.tokens >= bytes &&
      window === this.lastWindow &&
      srtt === this.lastSrtt &&
      controllerRate === this.lastControllerRate
    )
      return now;
    this.lastBytes = bytes;
    this.lastWindow = window;
    this.lastSrtt = srtt;
    this.lastControllerRate = controllerRate;
    const rate = this.rate(window, srtt, controllerRate);
    if (rate === undefined || !(rate > 0)) {
      // Unpaced: the tokens are not refilled, so the next call must compute again.
      this.lastWindow = Number.NaN;
      return now;
    }
    // Never below the datagram asked about: at a low rate the bucket's ceiling (10 ms of sending)
    // may be under a large datagram (1452 bytes), which would then never leave.
    const capacity = Math.max(bytes, burstCapacity(rate, this.burstInterval));
    const elapsed = Number.isNaN(this.refilledAt) ? 0 : Math.max(0, now - this.refilledAt);
    this.refilledAt = now;
    this.tokens = Math.min(capacity, this.tokens + (rate * elapsed) / 1000);
    if (this.tokens >= bytes) return now;
    // Wait for a whole burst, not for one datagram's worth (see the top of this file).
    return now + ((Math.max(bytes, capacity) - this.tokens) * 1000) / rate;
  }

  /** A datagram of `bytes` left (paced or not: probes and priority traffic use tokens too). */
  onSent(bytes: number): void {
    this.tokens = Math.max(0, this.tokens - bytes);
  }
}

/** The bucket's size (bytes) at `rate` bytes/s, aiming at `interval` ms of sending. */
export function burstCapacity(rate: number, interval = TARGET_BURST_INTERVAL): number {
  const target = (rate * interval) / 1000;
  const ceiling = Math.max((rate * MAX_BURST_INTERVAL) / 1000, MAX_DATAGRAM_SIZE);
  const clamped = Math.min(
    Math.max(target, MIN_BURST_DATAGRAMS * MAX_DATAGRAM_SIZE),
    MAX_BURST_DATAGRAMS * MAX_DATAGRAM_SIZE,
  );
  return Math.min(clamped, ceiling);
}

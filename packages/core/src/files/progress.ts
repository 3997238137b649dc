/**
 * How a transfer is going, as numbers on an injected clock (milliseconds): the bytes so far, the
 * rate over a sliding window (so the figure follows the link now, not the average since the
 * start), the time left at that rate, and when a progress report is due (about four a second).
 * The front-ends word them. Bytes are what was written and verified (receiver) or sent (sender),
 * and a resumed transfer starts from what was already held: only bytes moved in this run count
 * toward the rates.
 */

export interface ProgressOptions {
  /** The span the rate is measured over (ms). */
  readonly windowMs?: number;
  /** The least time between two reports (ms): 250 is four a second. */
  readonly reportEveryMs?: number;
}

export interface ProgressSnapshot {
  readonly bytes: number;
  readonly size: number;
  /** bytes / size (1 for an empty file). */
  readonly fraction: number;
  /** Bytes per second over the window; 0 when nothing moved in it (stalled) or no time passed. */
  readonly rate: number;
  /** Seconds left at `rate`: 0 when complete, undefined while the rate is 0. */
  readonly eta: number | undefined;
  /** Seconds since this run began. */
  readonly elapsed: number;
  /** Bytes per second over this run (what the end line says). */
  readonly averageRate: number;
}

/** Samples kept: the window is cut into SLOTS and at most one sample kept per slot. */
const SLOTS = 32;

export class ProgressEstimator {
  private readonly windowMs: number;
  private readonly reportEveryMs: number;
  private readonly times = new Float64Array(SLOTS + 2);
  private readonly amounts = new Float64Array(SLOTS + 2);
  /** The ring's oldest sample and its count. */
  private head = 0;
  private count = 0;
  private current: number;
  private lastReport = Number.NEGATIVE_INFINITY;

  constructor(
    readonly size: number,
    /** Bytes already held when this run began (a resume's offset). */
    readonly startBytes: number,
    readonly startedAt: number,
    options: ProgressOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 5000;
    this.reportEveryMs = options.reportEveryMs ?? 250;
    this.current = startBytes;
    this.push(startedAt, startBytes);
  }

  get bytes(): number {
    return this.current;
  }

  /** The bytes so far (a total, not an increment), at `now`. */
  update(bytes: number, now: number): void {
    this.current = bytes;
    const newest = this.index(this.count - 1);
    // Within one slot of the newest sample: it moves forward instead of a new one being kept.
    if (this.count > 1 && now - (this.times[this.index(this.count - 2)] ?? 0) < this.windowMs / SLOTS) {
      this.times[newest] = now;
      this.amounts[newest] = bytes;
    } else {
      this.push(now, bytes);
    }
    this.forgetBefore(now - this.windowMs);
  }

  snapshot(now: number): ProgressSnapshot {
    this.forgetBefore(now - this.windowMs);
    const oldest = this.head;
    const span = (now - (this.times[oldest] ?? now)) / 1000;
    const moved = this.current - (this.amounts[oldest] ?? this.current);
    const rate = span > 0 ? Math.max(0, moved / span) : 0;
    const left = Math.max(0, this.size - this.current);
    const elapsed = Math.max(0, (now - this.startedAt) / 1000);
    return {
      bytes: this.current,
      size: this.size,
      fraction: this.size === 0 ? 1 : Math.min(1, this.current / this.size),
      rate,
      eta: left === 0 ? 0 : rate > 0 ? left / rate : undefined,
      elapsed,
      averageRate: elapsed > 0 ? (this.current - this.startBytes) / elapsed : 0,
    };
  }

  /** True (and the report counted as made) when `reportEveryMs` passed since the last report. */
  /** Whether `reportDue` would say yes now (without counting it as reported). */
  isDue(now: number): boolean {
    return now - this.lastReport >= this.reportEveryMs;
  }

  reportDue(now: number): boolean {
    if (now - this.lastReport < this.reportEveryMs) return false;
    this.lastReport = now;
    return true;
  }

  /**
   * Drops samples older than `cutoff`, but keeps the last one before it: the rate is measured from
   * it, so a stall shows as a falling rate rather than no figure.
   */
  private forgetBefore(cutoff: number): void {
    while (this.count > 1 && (this.times[this.index(1)] ?? 0) <= cutoff) {
      this.head = this.index(1);
      this.count--;
    }
  }

  private push(now: number, bytes: number): void {
    if (this.count === this.times.length) {
      this.head = this.index(1);
      this.count--;
    }
    const at = this.index(this.count);
    this.times[at] = now;
    this.amounts[at] = bytes;
    this.count++;
  }

  private index(i: number): number {
    return (this.head + i) % this.times.length;
  }
}

/**
 * The maximum of a measurement over a sliding window (of round trips, for BBR's bottleneck
 * bandwidth), in constant space and time: Kathleen Nichols' algorithm, as Linux's win_minmax and
 * quinn's min_max keep it. It holds the best, second-best and third-best samples, each newer
 * than the one before and spread over the window, so when the best ages out the next is ready;
 * the answer is almost always what keeping every sample would give.
 */
export class WindowedMax {
  // (time, value) of the best, second and third best.
  private readonly times = new Float64Array(3);
  private readonly values = new Float64Array(3);

  constructor(private readonly window: number) {}

  get value(): number {
    return this.values[0] as number;
  }

  /** Forgets everything: the maximum becomes `value` at `time`. */
  reset(time: number, value: number): void {
    this.times.fill(time);
    this.values.fill(value);
  }

  /** Takes a measurement at `time` (which never goes back). */
  update(time: number, value: number): void {
    const t = this.times;
    const v = this.values;
    if (value >= (v[0] as number) || time - (t[2] as number) > this.window) {
      this.reset(time, value);
      return;
    }
    if (value >= (v[1] as number)) {
      this.set(1, time, value);
      this.set(2, time, value);
    } else if (value >= (v[2] as number)) this.set(2, time, value);
    // Age the choices: the best one may have left the window, or sit too close to the others.
    const age = time - (t[0] as number);
    if (age > this.window) {
      this.shift(time, value);
      if (time - (t[0] as number) > this.window) this.shift(time, value);
    } else if (t[1] === t[0] && age > this.window / 4) {
      this.set(1, time, value);
      this.set(2, time, value);
    } else if (t[2] === t[1] && age > this.window / 2) this.set(2, time, value);
  }

  private set(index: number, time: number, value: number): void {
    this.times[index] = time;
    this.values[index] = value;
  }

  /** The best leaves: second and third move up, the measurement becomes third. */
  private shift(time: number, value: number): void {
    this.set(0, this.times[1] as number, this.values[1] as number);
    this.set(1, this.times[2] as number, this.values[2] as number);
    this.set(2, time, value);
  }
}

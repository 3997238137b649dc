/**
 * A program's timers on virtual time: what it would do with setTimeout, in the shape the client
 * and the front-ends take (`set`, `clear`), run when the test moves time instead of when the
 * machine gets round to it. The simulated network runs them between datagrams
 * (`SimulatedNetwork.timers`); `VirtualClock` moves time for code that has no network at all.
 */

interface Timer {
  readonly at: number;
  readonly order: number;
  readonly run: () => void;
}

export class VirtualTimers {
  private pending: Timer[] = [];
  private order = 0;

  /** `clock`: the virtual time a timer set now counts from. */
  constructor(private readonly clock: () => number) {}

  /** Runs `run` once `delayMs` of virtual time have passed; returns the handle `clear` takes. */
  readonly set = (run: () => void, delayMs: number): unknown => {
    const timer: Timer = { at: this.clock() + Math.max(0, delayMs), order: this.order++, run };
    this.pending.push(timer);
    return timer;
  };

  readonly clear = (handle: unknown): void => {
    this.pending = this.pending.filter((t) => t !== handle);
  };

  /** Timers set and not yet run or cleared. */
  get size(): number {
    return this.pending.length;
  }

  /** When the next timer is due, or undefined if none is set. */
  next(): number | undefined {
    let next: number | undefined;
    for (const t of this.pending) if (next === undefined || t.at < next) next = t.at;
    return next;
  }

  /**
   * Runs the timers due by the clock's time, earliest first (set order among equals). A timer
   * that one of them sets runs on a later call, when its own time comes, never in this one.
   * Returns how many ran.
   */
  fire(): number {
    const now = this.clock();
    const due = this.pending.filter((t) => t.at <= now).sort((a, b) => a.at - b.at || a.order - b.order);
    if (due.length === 0) return 0;
    this.pending = this.pending.filter((t) => t.at > now);
    for (const timer of due) timer.run();
    return due.length;
  }
}

/** Virtual time with timers and no network: `advance` moves it, running each timer at its time. */
export class VirtualClock {
  readonly timers = new VirtualTimers(() => this.now);

  constructor(public now = 0) {}

  /** Moves the clock `ms` on, stopping at each timer's time to run it. Bounded: at most `maxTimers` run. */
  advance(ms: number, maxTimers = 10_000): void {
    const until = this.now + ms;
    for (let ran = 0; ran < maxTimers; ) {
      const next = this.timers.next();
      if (next === undefined || next > until) break;
      this.now = Math.max(this.now, next);
      ran += this.timers.fire();
    }
    this.now = until;
  }
}

/** Lets pending promise callbacks run (an address look-up that resolved at once, a chain of awaits). */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
}

/**
 * A table of named timers, quinn's `timer.rs` as a class: at most one deadline per name, the
 * next deadline the smallest, and expiry in the names' order. The secure layer's channels
 * (secure/timers.ts) and the rendezvous client (rendezvous/client-timers.ts) each list their
 * names, with the one rule that says when each fires, and keep their deadlines in one of these.
 * A session's timers (session/timers.ts) are a flat array instead: there are many sessions, and
 * their timers move with every datagram.
 */
export class NamedTimers<Name extends string> {
  private readonly deadlines = new Map<Name, number>();

  /** `names` in the order their expiries are taken. */
  constructor(private readonly names: readonly Name[]) {}

  /** Sets `name` to `at`; undefined clears it. */
  set(name: Name, at: number | undefined): void {
    if (at === undefined) this.deadlines.delete(name);
    else this.deadlines.set(name, at);
  }

  clear(name: Name): void {
    this.deadlines.delete(name);
  }

  get(name: Name): number | undefined {
    return this.deadlines.get(name);
  }

  /** The earliest deadline, or undefined when no timer is set. */
  next(): number | undefined {
    let earliest: number | undefined;
    for (const at of this.deadlines.values()) if (earliest === undefined || at < earliest) earliest = at;
    return earliest;
  }

  /** Removes and returns, in the names' order, every timer due at `now`. */
  takeExpired(now: number): Name[] {
    const due: Name[] = [];
    for (const name of this.names) {
      const at = this.deadlines.get(name);
      if (at !== undefined && at <= now) {
        this.deadlines.delete(name);
        due.push(name);
      }
    }
    return due;
  }
}

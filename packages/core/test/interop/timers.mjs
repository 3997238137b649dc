// Independent netchat peer, written from PROTOCOL.md only (not from packages/core/src).
//
// Named deadlines on one real timer: `set(name, at, fn)` replaces the deadline of that name,
// `clear(name)` removes it. Times are ms on performance.now(). A test peer, so a plain scan of
// the table is enough.

import { performance } from 'node:perf_hooks';

export class Timers {
  constructor() {
    this.table = new Map();
    this.handle = undefined;
    this.armedAt = Number.POSITIVE_INFINITY;
    this.stopped = false;
    this.onError = (error) => {
      throw error;
    };
  }

  now() {
    return performance.now();
  }

  set(name, at, fn) {
    this.table.set(name, { at, fn });
    this.arm();
  }

  clear(name) {
    this.table.delete(name);
  }

  has(name) {
    return this.table.has(name);
  }

  at(name) {
    return this.table.get(name)?.at;
  }

  /** Removes every timer whose name starts with `prefix`. */
  clearPrefix(prefix) {
    for (const name of [...this.table.keys()]) if (name.startsWith(prefix)) this.table.delete(name);
  }

  stop() {
    this.stopped = true;
    this.table.clear();
    if (this.handle) clearTimeout(this.handle);
    this.handle = undefined;
  }

  arm() {
    if (this.stopped) return;
    let next = Number.POSITIVE_INFINITY;
    for (const t of this.table.values()) next = Math.min(next, t.at);
    if (next === Number.POSITIVE_INFINITY) return;
    if (this.handle && next >= this.armedAt) return;
    if (this.handle) clearTimeout(this.handle);
    this.armedAt = next;
    this.handle = setTimeout(() => this.fire(), Math.max(0, next - this.now()));
  }

  fire() {
    this.handle = undefined;
    this.armedAt = Number.POSITIVE_INFINITY;
    // Bounded: each round runs only the deadlines already due; new ones wait for the next timer.
    const now = this.now();
    const due = [...this.table.entries()].filter(([, t]) => t.at <= now).sort((a, b) => a[1].at - b[1].at);
    for (const [name, t] of due) {
      if (this.table.get(name) !== t) continue; // replaced or cleared by an earlier one
      this.table.delete(name);
      try {
        t.fn(now);
      } catch (error) {
        this.onError(error);
      }
    }
    this.arm();
  }
}

/** The same named deadlines on a virtual clock: a test moves time with `advance`. */
export class VirtualTimers extends Timers {
  constructor(start = 0) {
    super();
    this.time = start;
  }

  now() {
    return this.time;
  }

  arm() {}

  /** The earliest deadline, or undefined. */
  nextAt() {
    let next;
    for (const t of this.table.values()) if (next === undefined || t.at < next) next = t.at;
    return next;
  }

  /** Moves the clock to `to` and runs what is due then (deadlines set for ≤ `to` meanwhile run on the next call). */
  advance(to) {
    if (to > this.time) this.time = to;
    this.fire();
  }
}

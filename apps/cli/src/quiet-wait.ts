/**
 * --wait SECS: after the input ends, the chat stays open until the peer has sent nothing for
 * SECS (what it sends is shown meanwhile), then `done` closes it. Each message starts the
 * count again.
 */
import type { ClientTimers } from '@netchat/client';

/** setTimeout, kept referenced: the program is waiting on purpose. */
const realTimers: ClientTimers = {
  set: (run, delayMs) => setTimeout(run, delayMs),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class QuietWait {
  private timer: unknown;

  constructor(
    private readonly quietMs: number,
    private readonly timers: ClientTimers = realTimers,
    private readonly done: () => void,
  ) {}

  /** The input ended and everything is sent: start listening (once). */
  start(): void {
    if (this.timer === undefined) this.arm();
  }

  /** The peer said something: the quiet starts again (only once listening). */
  heard(): void {
    if (this.timer === undefined) return;
    this.timers.clear(this.timer);
    this.arm();
  }

  stop(): void {
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    this.timer = this.timers.set(() => {
      this.timer = undefined;
      this.done();
    }, this.quietMs);
  }
}

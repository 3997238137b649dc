/**
 * The named timers of one channel, each with the one rule that says when it fires (as
 * session/timers.ts does for sessions). A channel keeps at most one deadline per name; its
 * next deadline is the smallest. A half-done responder handshake has one deadline only (its
 * expiry) and needs no table.
 */
export const CHANNEL_TIMER_NAMES = [
  /** initiator, before message 2: resend the init (backoff doubles up to handshakeRetryMax). */
  'initRetry',
  /** initiator: the final stayed unconfirmed for pendingHandshakeTtl; start the handshake over. */
  'restart',
  /** initiator, final sent and unconfirmed: resend handshake_final (every handshakeRetryInitial). */
  'finalRetry',
  /** initiator: handshakeTimeout passed without a confirmed handshake; close the channel. */
  'giveUp',
  /** no session used the channel for unusedChannelTtl; close it. */
  'unused',
] as const;
export type ChannelTimerName = (typeof CHANNEL_TIMER_NAMES)[number];

export class ChannelTimers {
  private readonly deadlines = new Map<ChannelTimerName, number>();

  set(name: ChannelTimerName, at: number): void {
    this.deadlines.set(name, at);
  }

  clear(name: ChannelTimerName): void {
    this.deadlines.delete(name);
  }

  get(name: ChannelTimerName): number | undefined {
    return this.deadlines.get(name);
  }

  /** The earliest deadline, or undefined when no timer is set. */
  next(): number | undefined {
    let earliest: number | undefined;
    for (const at of this.deadlines.values()) if (earliest === undefined || at < earliest) earliest = at;
    return earliest;
  }

  /** Removes and returns, in CHANNEL_TIMER_NAMES order, every timer due at `now`. */
  takeExpired(now: number): ChannelTimerName[] {
    const due: ChannelTimerName[] = [];
    for (const name of CHANNEL_TIMER_NAMES) {
      const at = this.deadlines.get(name);
      if (at !== undefined && at <= now) {
        this.deadlines.delete(name);
        due.push(name);
      }
    }
    return due;
  }
}

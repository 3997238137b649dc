/**
 * The named timers of one session, each with the one rule that says when it fires.
 * A session keeps at most one deadline per name; its next deadline is the smallest.
 */
export const TIMER_NAMES = [
  /** connecting: resend the connect request (backoff doubles up to connectRetryMax). */
  'connectRetry',
  /** connecting: the connect timeout passed; report no answer. */
  'connectGiveUp',
  /** requested: the requester stopped retrying; drop the request. */
  'requestExpiry',
  /** open: send the next heartbeat (every heartbeat interval). */
  'heartbeat',
  /** open: one more heartbeat interval passed with nothing heard from the peer. */
  'liveness',
  /** open: the oldest unacknowledged text fragment is due for retransmission. */
  'retransmit',
  /** open: an in-order text datagram has waited ackDelay for its acknowledgement. */
  'ack',
  /** closing: messages in flight had closeLinger to be delivered; fail the rest and disconnect. */
  'linger',
  /** closing: resend the disconnect, or give up after disconnectAttempts. */
  'disconnectRetry',
  /** draining: stop answering retransmitted requests after a decline. */
  'drain',
] as const;
export type TimerName = (typeof TIMER_NAMES)[number];

export class Timers {
  private readonly deadlines = new Map<TimerName, number>();

  set(name: TimerName, at: number): void {
    this.deadlines.set(name, at);
  }

  clear(name: TimerName): void {
    this.deadlines.delete(name);
  }

  clearAll(): void {
    this.deadlines.clear();
  }

  get(name: TimerName): number | undefined {
    return this.deadlines.get(name);
  }

  /** The earliest deadline, or undefined when no timer is set. */
  next(): number | undefined {
    let earliest: number | undefined;
    for (const at of this.deadlines.values()) if (earliest === undefined || at < earliest) earliest = at;
    return earliest;
  }

  /** Removes and returns, in TIMER_NAMES order, every timer due at `now`. */
  takeExpired(now: number): TimerName[] {
    const due: TimerName[] = [];
    for (const name of TIMER_NAMES) {
      const at = this.deadlines.get(name);
      if (at !== undefined && at <= now) {
        this.deadlines.delete(name);
        due.push(name);
      }
    }
    return due;
  }
}

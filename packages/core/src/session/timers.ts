/**
 * The named timers of one session, each with the one rule that says when it fires.
 * A session keeps at most one deadline per name; its next deadline is the smallest. Expiry is
 * one lookup by name in timeouts.ts (`TIMEOUTS`, run by `Session.handleTimeout`).
 */
export const TIMER_NAMES = [
  /** connecting: resend the connect request (backoff doubles up to connectRetryMax). */
  'connectRetry',
  /** connecting: the connect timeout passed; report no answer. */
  'connectGiveUp',
  /** requested: the requester stopped retrying; drop the request. */
  'requestExpiry',
  /** open, lingering, closing: send the next heartbeat, on a fixed grid (previous deadline + interval). */
  'heartbeat',
  /** open, lingering, closing: the peer has been silent for (missed + 1) intervals + the margin. */
  'liveness',
  /** after a missed interval: send another heartbeat (every interval / 8) until the peer is heard. */
  'keepaliveProbe',
  /** after `probe()`: send its heartbeat again (every RTO / 2); once 2 RTO passed unanswered, the peer is lost. */
  'probeAnswer',
  /** open, lingering: the oldest unacknowledged text fragment is due for retransmission. */
  'retransmit',
  /** open: an in-order text fragment has waited ackDelay for its acknowledgement. */
  'ack',
  /** lingering, when the close set a limit: the linger's time is up; fail what is left and disconnect. */
  'linger',
  /** closing: resend the disconnect, or give up after disconnectAttempts. */
  'disconnectRetry',
  /** draining: stop answering retransmitted requests after a decline. */
  'drain',
  /** open without the peer's features: ask for them again (features.ts, at most FEATURE_ASKS in all). */
  'featuresAsk',
] as const;
export type TimerName = (typeof TIMER_NAMES)[number];

const INDEX = Object.fromEntries(TIMER_NAMES.map((name, i) => [name, i])) as Record<TimerName, number>;
const UNSET = Number.POSITIVE_INFINITY;

export class Timers {
  /**
   * Deadline by timer index; Infinity when unset. A flat array: no allocation when timers move.
   * A plain array of doubles, not a Float64Array: 13 × 8 bytes is past the 64 bytes V8 keeps a
   * typed array's contents on its heap for, so each session would take a buffer from the C
   * allocator, which keeps the pages after a churn of many sessions.
   */
  private readonly deadlines: number[] = TIMER_NAMES.map(() => UNSET);

  set(name: TimerName, at: number): void {
    this.deadlines[INDEX[name]] = at;
  }

  clear(name: TimerName): void {
    this.deadlines[INDEX[name]] = UNSET;
  }

  clearAll(): void {
    this.deadlines.fill(UNSET);
  }

  get(name: TimerName): number | undefined {
    const at = this.deadlines[INDEX[name]] as number;
    return at === UNSET ? undefined : at;
  }

  /** The earliest deadline, or undefined when no timer is set. */
  next(): number | undefined {
    let earliest = UNSET;
    // An index loop: for-of here made an iterator (and boxed numbers) on every settle.
    const deadlines = this.deadlines;
    for (let i = 0; i < deadlines.length; i++)
      if ((deadlines[i] as number) < earliest) earliest = deadlines[i] as number;
    return earliest === UNSET ? undefined : earliest;
  }

  /**
   * If `name` is due at `now`, clears it and returns the deadline it had (so periodic timers can
   * keep to their grid); else undefined.
   */
  take(name: TimerName, now: number): number | undefined {
    const i = INDEX[name];
    const at = this.deadlines[i] as number;
    if (at > now) return undefined;
    this.deadlines[i] = UNSET;
    return at;
  }
}

/**
 * Events held back while Node hands the adapter datagrams one callback at a time. A stream that
 * became readable is told once the batch is handled (setImmediate runs after the I/O callbacks of
 * this turn), so the application reads what the whole batch brought at once instead of a
 * datagram's worth per read (each read costs a call through the engine, an array and a copy;
 * loopback stream throughput depends on it). Every event after a held one waits too, so the order
 * is kept; a chat line is held at most until the batch ends (well under a millisecond).
 */
import type { NetchatEvent, SessionId } from '../events.js';

/** The events that tell the application a session is over. */
const ENDINGS: ReadonlySet<NetchatEvent['type']> = new Set([
  'closed',
  'lost',
  'declined',
  'no_answer',
  'request_expired',
]);

export class HeldEvents {
  private held: NetchatEvent[] = [];
  private releaseScheduled = false;

  /**
   * `deliver` tells one event to the application; `afterRelease` runs once the held ones were
   * told (the adapter sends what the application's calls queued meanwhile).
   */
  constructor(
    private readonly deliver: (e: NetchatEvent) => void,
    private readonly afterRelease: () => void,
  ) {}

  /** Whether `e` must wait: events are held already (order is kept), or a stream became readable mid-batch. */
  mustWait(e: NetchatEvent, receiving: boolean): boolean {
    return this.held.length > 0 || (receiving && e.type === 'stream_readable');
  }

  /**
   * Whether an event that ends `session` waits here: the application has not heard yet that the
   * session is over, and may still answer an event it was told before (a request withdrawn in
   * the same batch of datagrams).
   */
  endsHeld(session: SessionId): boolean {
    return this.held.some((e) => ENDINGS.has(e.type) && 'session' in e && e.session === session);
  }

  hold(e: NetchatEvent): void {
    this.held.push(e);
    this.scheduleRelease();
  }

  private scheduleRelease(): void {
    if (this.releaseScheduled) return;
    this.releaseScheduled = true;
    setImmediate(() => this.release());
  }

  private release(): void {
    const held = this.held;
    let told = 0;
    try {
      // While these are told, the application's calls may bring more events: they queue behind
      // (held is not empty), and this loop reaches them.
      while (told < held.length) this.deliver(held[told++] as NetchatEvent);
    } finally {
      // A listener that threw leaves the rest for the next turn.
      this.held = held.slice(told);
      this.releaseScheduled = false;
      if (this.held.length > 0) this.scheduleRelease();
    }
    this.afterRelease();
  }
}

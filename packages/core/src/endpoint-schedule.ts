/**
 * When an endpoint's sessions next need it. After anything touched a session, `settle` forgets
 * the session if it ended, or files its next deadline on one heap; `handleTimeout` runs only the
 * sessions whose deadline passed, so an endpoint with thousands of sessions never asks each one.
 *
 * A deadline is filed only when it is earlier than the one already filed (the record carries
 * it, `SessionRecord.scheduledAt`). A later one (the ack and retransmission timers move on with
 * every datagram) is filed when the earlier entry comes due and `handleTimeout` finds nothing to
 * do yet: one early wake-up instead of a heap push and a stale pop per datagram. So
 * `nextTimeout()` may come early, never late.
 */
import { DeadlineQueue } from './deadline-queue.js';
import type { SecureTransport } from './secure/secure-transport.js';
import type { ChannelRecord, SessionRecord, SessionTable } from './session-table.js';
import type { EndpointStreams } from './streams/endpoint-streams.js';

/** What the schedule needs of the endpoint. */
export interface ScheduleHost {
  readonly table: SessionTable;
  readonly secure: SecureTransport;
  readonly streams: EndpointStreams;
  /** The latest time any call brought. */
  now(): number;
  /**
   * A session ended and was forgotten. `stillUsed`: its channel carries other sessions (else
   * the channel was closed, after a clean close, or released to the secure layer, which ages it
   * out).
   */
  forgotten(record: SessionRecord, channel: ChannelRecord, stillUsed: boolean): void;
}

export class SessionSchedule {
  /** Each record is filed under its `scheduledAt` (the heap skips stale entries). */
  private readonly deadlines = new DeadlineQueue<SessionRecord>((r) => r.scheduledAt);

  constructor(private readonly host: ScheduleHost) {}

  /** After anything touched a session: forget it if it ended, else file its deadline if it came sooner. */
  settle(record: SessionRecord): void {
    if (record.channel.path) this.host.streams.settleChannel(record.channel);
    const session = record.session;
    if (session.state === 'closed') {
      this.forget(record);
      return;
    }
    const at = session.nextDeadline();
    const filed = record.scheduledAt;
    if (at === undefined || (filed !== undefined && filed <= at)) return;
    record.scheduledAt = at;
    this.deadlines.push(record, at);
  }

  /** Runs the timers of the sessions whose deadline passed. */
  handleTimeout(now: number): void {
    // A record can surface twice (a stale entry that equals its deadline again): once is enough.
    const due = new Set(this.deadlines.takeDue(now));
    // All taken off the heap first: a record left marked as filed would never be filed again.
    for (const record of due) record.scheduledAt = undefined;
    for (const record of due) {
      record.session.handleTimeout(now);
      this.settle(record);
    }
  }

  /** The earliest deadline filed (it may have moved later since: then it comes early). */
  nextTimeout(): number | undefined {
    return this.deadlines.peek();
  }

  private forget(record: SessionRecord): void {
    record.scheduledAt = undefined;
    const channel = record.channel;
    const left = this.host.table.remove(record);
    // Both sides know a cleanly closed session is over: its channel has nothing left to wait for.
    if (left && record.session.endedCleanly) this.host.secure.closeUnused(left);
    else if (left) this.host.secure.release(left, this.host.now());
    this.host.forgotten(record, channel, left === undefined);
  }
}

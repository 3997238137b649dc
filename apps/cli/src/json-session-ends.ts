/**
 * `--json`: the sessions this side ended (README, "Scripts and pipes"). netchat prints `closed`
 * (reason `local`) when it closes a chat and `declined` (`by` `local`) when it declines a request,
 * but the engine goes on with the session a while: a close lingers for what is in flight and
 * sends its disconnect, a declined request drains its retries. What the engine tells of it then
 * (heartbeats sent and missed, `lost`, a later `closed` when the peer restarted) would reach a
 * script after the session's end as if it still ran; only a message's fate (`delivered`,
 * `failed`) is still news, since every message ends as an event. A session the engine had
 * already ended when netchat closed it (lost: the end of its transfer made a script quit before
 * the `lost` event was told) is not ended here: the engine's own end still comes, and is true.
 */
import type { NetchatEvent, SessionId, SessionState } from '@netchat/core';
import type { LocalEvent } from './json-events.js';

/** Ended sessions kept before those the engine has let go of are forgotten. */
const PRUNE_ABOVE = 64;

export class JsonSessionEnds {
  private readonly ended = new Set<SessionId>();

  /** `stateOf(id)`: the session's state in the engine, undefined once the engine let it go. */
  constructor(private readonly stateOf: (session: SessionId) => SessionState | undefined) {}

  /** A line this side printed: a local `closed` or `declined` ends its session for a script. */
  noteLocal(event: LocalEvent): void {
    if ((event.type !== 'closed' && event.type !== 'declined') || event.session === undefined) return;
    const state = this.stateOf(event.session);
    if (state === undefined || state === 'closed') return;
    if (this.ended.size >= PRUNE_ABOVE)
      for (const id of this.ended) if (this.stateOf(id) === undefined) this.ended.delete(id);
    this.ended.add(event.session);
  }

  /** Whether an engine event is printed: any but those of a session already ended here. */
  tells(event: NetchatEvent): boolean {
    if (!this.ended.has(event.session)) return true;
    return event.type === 'delivered' || event.type === 'failed';
  }
}

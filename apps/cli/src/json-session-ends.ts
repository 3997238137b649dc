/**
 * `--json`: the sessions this side ended (README, "Scripts and pipes"). netchat prints `closed`
 * (reason `local`) when it closes a chat and `declined` (`by` `local`) when it declines a request,
 * but the engine goes on with the session a while: a close lingers for what is in flight and
 * sends its disconnect, a declined request drains its retries. What the engine tells of it then
 * (heartbeats sent and missed, `lost`, a later `closed` when the peer restarted) would reach a
 * script after the session's end as if it still ran; only a message's fate (`delivered`,
 * `failed`) is still news, since every message ends as an event.
 */
import type { NetchatEvent, SessionId } from '@netchat/core';
import type { LocalEvent } from './json-events.js';

/** Ended sessions kept before those the engine has let go of are forgotten. */
const PRUNE_ABOVE = 64;

export class JsonSessionEnds {
  private readonly ended = new Set<SessionId>();

  /** `held(id)`: the engine still has the session (then its events may still come). */
  constructor(private readonly held: (session: SessionId) => boolean) {}

  /** A line this side printed: a local `closed` or `declined` is the session's end for a script. */
  noteLocal(event: LocalEvent): void {
    if ((event.type !== 'closed' && event.type !== 'declined') || event.session === undefined) return;
    if (this.ended.size >= PRUNE_ABOVE)
      for (const id of this.ended) if (!this.held(id)) this.ended.delete(id);
    this.ended.add(event.session);
  }

  /** Whether an engine event is printed: any but those of a session already ended here. */
  tells(event: NetchatEvent): boolean {
    if (!this.ended.has(event.session)) return true;
    return event.type === 'delivered' || event.type === 'failed';
  }
}

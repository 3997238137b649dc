/**
 * The named timers of a rendezvous client, each with the one rule that says when it fires (as
 * session/timers.ts does for sessions). The client keeps at most one deadline per name; its
 * next deadline is the smallest. Expiry is one switch by name in client.ts. The parts that keep
 * many deadlines of one kind (the requests waiting for an answer, the starts the rendezvous
 * named, the relay paths) file their earliest under their name.
 */
import { NamedTimers } from '../named-timers.js';

export const CLIENT_TIMER_NAMES = [
  /** the session with the rendezvous ended: open a new one (back-off doubles up to 30 s). */
  'reconnect',
  /** our `register` is unanswered: send it again (every second), or again later after `full`. */
  'register',
  /** a heartbeat to the rendezvous went out: by now something must have come back, else it is probed. */
  'answer',
  /** the earliest introduce request due for a resend or past its timeout (introductions.ts). */
  'request',
  /** the earliest moment the rendezvous named for a connect or a punch (introductions.ts). */
  'start',
  /** the earliest relay switch or direct-path probe of a relayed peer (relay-paths.ts). */
  'path',
  /** the earliest silent direct chat due to try the relay (relay-fallback.ts). */
  'fallback',
  /** someone asked for us with a relay tag lately: look over the relayed chats to claim (relay-claims.ts). */
  'claim',
  /** a chat's refind found the budget spent: the next token comes for the chats waiting their turn (refinds.ts). */
  'refind',
  /** while relayed addresses share the relay budget: measure their use again (relay-shares.ts, every 500 ms). */
  'share',
] as const;
export type ClientTimerName = (typeof CLIENT_TIMER_NAMES)[number];

/** This client's deadlines, taken in CLIENT_TIMER_NAMES order. */
export class ClientTimers extends NamedTimers<ClientTimerName> {
  constructor() {
    super(CLIENT_TIMER_NAMES);
  }
}

/**
 * How a session's state changes (session.ts's `fire`, the one place it does): the next state by
 * the transition table (transitions.ts), the streams ended when the session leaves `open`, a clean
 * end noted, then what entering the new state does (ENTER: connect-close.ts for most).
 */
import { enterClosing, enterDraining, enterLingering, enterOpen } from './connect-close.js';
import type { Session } from './session.js';
import { type SessionEvent, type SessionState, TRANSITIONS } from './transitions.js';

/** Moves `session` by `event`; throws (a bug in session/) if its state has no transition for it. */
export function changeState(session: Session, event: SessionEvent, now: number): void {
  const next = TRANSITIONS[session.state][event];
  // Callers check first; reaching this is a bug in session/, not the peer's or the caller's.
  if (next === undefined)
    throw new Error(`session ${session.id}: no transition for ${event} in ${session.state}`);
  if (next === session.state) return;
  // Streams live only while the session is open (README, Streams: closing cancels them), but for
  // those a local close lingers for (StreamSet.linger).
  if (session.streams && next === 'lingering') session.streams.linger(now);
  else if (session.streams && next !== 'open') session.streams.end(PEER_EVENTS.has(event) ? 'peer' : 'local');
  session.state = next;
  if (next === 'closed') session.endedCleanly = CLEAN_ENDS.has(event);
  ENTER[next](session, now);
}

/** Events that end a session by a clean close: a disconnect sent by one side, acknowledged by the other. */
const CLEAN_ENDS: ReadonlySet<SessionEvent> = new Set(['disconnect_acknowledged', 'peer_disconnected']);

/** Events by which the peer ends a session (its streams are then cancelled by the peer). */
const PEER_EVENTS: ReadonlySet<SessionEvent> = new Set(['peer_disconnected', 'peer_restarted']);

/** What entering each state does (a state is entered only through `fire`). */
const ENTER: Record<SessionState, (s: Session, now: number) => void> = {
  connecting: () => {},
  requested: () => {},
  open: enterOpen,
  lingering: enterLingering,
  closing: enterClosing,
  draining: enterDraining,
  closed: (s) => s.timers.clearAll(),
};

/**
 * Presence (PROTOCOL.md, Presence): our nick and whether we are typing, told to the peer of an
 * open session in one unreliable `presence` (never retransmitted, never acknowledged), and the
 * peer's, taken at a pace: each one may redraw a screen or rewrite the contacts file, so a peer
 * must not be able to make that happen at line rate.
 */
import type { SessionId } from '../events.js';
import { TokenBuckets } from '../token-buckets.js';
import type { Presence } from '../wire/messages.js';
import type { Session } from './session.js';

/**
 * Presence messages taken from a peer: bursts of this many, then one a second. An honest peer
 * sends one typing notice per 3 s and a nick change now and then; more only costs us, so the
 * rest are dropped and counted (they still prove the peer alive: the session heard them).
 */
export const PRESENCE_BURST = 5;
const PRESENCE_PER_SECOND = 1;

/** The presence pace of an endpoint's sessions: one bucket per session, dropped once it is full again. */
export function presencePace(): TokenBuckets<SessionId> {
  return new TokenBuckets<SessionId>(PRESENCE_PER_SECOND, PRESENCE_BURST);
}

/**
 * Tells the peer our nick and whether we are typing. `typing` undefined repeats the last state
 * (a nick change). Only an open session has a peer to tell: false (nothing sent) otherwise.
 */
export function sendPresence(s: Session, typing?: boolean): boolean {
  if (s.state !== 'open') return false;
  if (typing !== undefined) s.typing = typing;
  s.ctx.transmit(s.route, {
    type: 'presence',
    session: s.wireId,
    activity: s.typing ? 'typing' : 'idle',
    nick: s.ctx.options.nick,
  });
  return true;
}

/** The peer's presence (open sessions only): taken within the pace, else dropped and counted. */
export function onPresence(s: Session, presence: Presence, now: number): void {
  if (!s.ctx.presencePace.tryTake(s.id, now)) {
    s.ctx.protocolError('presence faster than the peer may send it');
    return;
  }
  s.peerNick = presence.nick;
  s.ctx.emit({
    type: 'presence',
    session: s.id,
    peer: s.peer,
    nick: presence.nick,
    typing: presence.activity === 'typing',
  });
}

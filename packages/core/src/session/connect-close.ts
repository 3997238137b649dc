/**
 * How a session begins and ends (PROTOCOL.md, Connecting and Closing): the connect request's
 * retries and timeout, a request nobody answers any more, the lingering close, the disconnect's
 * retries, a declined request draining, and the ways a session is lost. What entering a state
 * does is here (ENTER in session.ts points at these); the state itself changes only through
 * `Session.fire`.
 */
import type { FailReason } from '../events.js';
import { flushAck, sendConnectRequest, sendDisconnect, sendWithdrawal } from './outgoing.js';
import type { Session } from './session.js';

// ---- connecting ---------------------------------------------------------------------------

export function onConnectRetry(s: Session, now: number): void {
  s.connectDelay = Math.min(s.connectDelay * 2, s.ctx.options.connectRetryMax);
  sendConnectRequest(s, now);
}

export function onConnectGiveUp(s: Session, now: number): void {
  // Withdraw the request once, so the peer stops asking its user.
  sendWithdrawal(s);
  s.fire('connect_timed_out', now);
  s.ctx.emit({ type: 'no_answer', session: s.id, peer: s.peer });
}

/** The requester is still asking (or just asked): it has connect timeout + the longest retry gap to ask again. */
export function refreshRequestExpiry(s: Session, now: number): void {
  const { connectTimeout, connectRetryMax } = s.ctx.options;
  s.timers.set('requestExpiry', now + connectTimeout + connectRetryMax);
}

export function onRequestExpired(s: Session, now: number): void {
  s.fire('request_expired', now);
  s.ctx.emit({ type: 'lost', session: s.id, peer: s.peer, missed: 0 });
}

export function enterOpen(s: Session, now: number): void {
  s.timers.clear('connectRetry');
  s.timers.clear('connectGiveUp');
  s.timers.clear('requestExpiry');
  s.liveness.start(now);
}

// ---- closing ------------------------------------------------------------------------------

export function enterLingering(s: Session, now: number): void {
  // What we delivered must be acknowledged before the peer hears that we are closing.
  flushAck(s, now);
  if (s.sender.pendingMessages === 0) s.fire('all_delivered', now);
  else s.timers.set('linger', now + s.ctx.options.closeLinger);
}

export function onLingerOver(s: Session, now: number): void {
  failUndelivered(s, 'closed');
  s.fire('linger_over', now);
}

export function enterClosing(s: Session, now: number): void {
  s.timers.clear('linger');
  s.timers.clear('retransmit');
  flushAck(s, now);
  sendDisconnect(s, now);
}

export function onDisconnectRetry(s: Session, now: number): void {
  if (s.disconnectsSent >= s.ctx.options.disconnectAttempts) s.fire('disconnect_given_up', now);
  else sendDisconnect(s, now);
}

export function enterDraining(s: Session, now: number): void {
  s.timers.clearAll();
  s.timers.set('drain', now + s.ctx.options.connectTimeout);
}

// ---- ending otherwise ---------------------------------------------------------------------

/** The peer is gone (silent for the liveness limit, or no answer to a probe). */
export function lose(s: Session, now: number): void {
  failUndelivered(s, 'lost');
  s.fire('peer_lost', now);
  s.ctx.emit({ type: 'lost', session: s.id, peer: s.peer, missed: s.liveness.missed });
}

export function failUndelivered(s: Session, reason: FailReason): void {
  for (const messageId of s.sender.drainUndelivered()) {
    s.ctx.emit({ type: 'failed', session: s.id, peer: s.peer, messageId, reason });
  }
}

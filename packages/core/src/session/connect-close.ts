/**
 * How a session begins and ends (PROTOCOL.md, Connecting and Closing): the connect request's
 * retries and timeout, a request nobody answers any more, the lingering close, the disconnect's
 * retries, a declined request draining, and the ways a session is lost. What entering a state
 * does is here (ENTER in state-changes.ts points at these); the state itself changes only
 * through `Session.fire`.
 */
import { errors } from '../errors.js';
import type { FailReason } from '../events.js';
import { STREAM_LINGER_MS } from '../streams/stream-set.js';
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
  s.ctx.emit({ type: 'request_expired', session: s.id, peer: s.peer });
}

export function enterOpen(s: Session, now: number): void {
  s.timers.clear('connectRetry');
  s.timers.clear('connectGiveUp');
  s.timers.clear('requestExpiry');
  s.liveness.start(now);
}

// ---- closing ------------------------------------------------------------------------------

/**
 * How long a close may linger: `true` while the peer is alive and acknowledgements make progress
 * (PROTOCOL.md, Closing), `false` not at all (what is in flight fails at once), a number of ms at
 * most that long (and no longer than `true` would).
 */
export type Linger = boolean | number;

/** How `Endpoint.close` closes a session: see Linger (default `true`). */
export interface CloseOptions {
  readonly linger?: Linger;
}

/** `linger` as the caller gave it, or INVALID_ARGUMENT: a number must be finite and not negative. */
export function checkedLinger(linger: Linger): Linger {
  if (typeof linger === 'number' && !(Number.isFinite(linger) && linger >= 0))
    throw errors.invalidArgument('linger', `${linger} is not a number of milliseconds (0 or more)`);
  return linger;
}

/**
 * A lingering close gives up when the retransmission timer expires this many times in a row with
 * nothing newly acknowledged: the peer answers heartbeats (else liveness ends the session) but
 * takes none of our text. Every resend is a fresh chance (about half at 30 % loss each way), so
 * 16 in a row fail by chance about once in 50,000 stalls; at the smallest RTO (200 ms, doubling
 * up to 16 times) that is about 41 s.
 */
export const LINGER_STALL_TIMEOUTS = 16;

export function enterLingering(s: Session, now: number): void {
  // What we delivered must be acknowledged before the peer hears that we are closing.
  flushAck(s, now);
  checkLingerDone(s, now);
}

/**
 * While lingering, after anything was acknowledged: on to closing once every message and every
 * byte of the streams a close waits for (StreamSet.linger) was delivered. While only streams
 * hold it, the linger ends at most STREAM_LINGER_MS after it began (a peer that takes none of
 * them cannot hold the session).
 */
export function checkLingerDone(s: Session, now: number): void {
  if (s.state !== 'lingering' || s.sender.pendingMessages > 0) return;
  const since = s.streams?.holdsCloseSince;
  if (since === undefined) s.fire('all_delivered', now);
  else limitLinger(s, now, Math.max(0, since + STREAM_LINGER_MS - now));
}

/** Bounds the linger (a close while lingering may only shorten it). */
export function limitLinger(s: Session, now: number, linger: Linger): void {
  if (linger === true) return;
  if (linger === false || linger <= 0) {
    giveUpLinger(s, now);
    return;
  }
  const at = now + linger;
  const current = s.timers.get('linger');
  if (current === undefined || at < current) s.timers.set('linger', at);
}

/** The linger ends before everything was delivered: what is left fails, and the disconnect goes. */
export function giveUpLinger(s: Session, now: number): void {
  failUndelivered(s, 'closed');
  s.fire('linger_over', now);
}

/** The retransmission timer expired while lingering: true if that ended the linger (the peer took nothing for too long). */
export function lingerStalled(s: Session, now: number): boolean {
  if (s.sender.stalledTimeouts + 1 < LINGER_STALL_TIMEOUTS) return false;
  giveUpLinger(s, now);
  return true;
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

/**
 * Building what a session sends: each session message, and the acknowledgement of the peer's
 * text that every `text`, `heartbeat` and `ack` carries (PROTOCOL.md, Reliable, ordered text).
 *
 * Acknowledgements. An in-order fragment may wait up to ackDelay for its acknowledgement (the
 * `ack` timer), unless something else goes first: any datagram that carries the current
 * acknowledgement satisfies it, so `takeAck` clears the timer. Everything here is on the
 * per-datagram path: no allocation beyond the message itself.
 */
import { ackDelayToWire } from '../wire/messages.js';
import { sendFeatures } from './features.js';
import type { OutgoingFragment } from './reliable-sender.js';
import type { Session } from './session.js';

export function sendConnectRequest(s: Session, now: number): void {
  s.connectAttempts++;
  const { nick, heartbeatInterval } = s.ctx.options;
  // Just before the request: the responder keeps them for it (PROTOCOL.md, Capabilities).
  sendFeatures(s);
  s.ctx.transmit(s.route, {
    type: 'connect_request',
    session: s.wireId,
    heartbeatMs: heartbeatInterval,
    nick,
  });
  s.timers.set('connectRetry', now + s.connectDelay);
}

export function sendAccept(s: Session): void {
  // Before the accept, so the requester knows them when its session opens.
  sendFeatures(s);
  s.ctx.transmit(s.route, {
    type: 'accept',
    session: s.wireId,
    heartbeatMs: s.liveness.interval,
    nick: s.ctx.options.nick,
  });
}

/** A declined request asked again: the same decline. */
export function resendDecline(s: Session): void {
  if (s.declineSent) s.ctx.transmit(s.route, s.declineSent);
}

/** One `disconnect` that expects no answer (a withdrawn request: the session is forgotten at once). */
export function sendWithdrawal(s: Session): void {
  s.ctx.transmit(s.route, { type: 'disconnect', session: s.wireId });
}

/** A `disconnect` of our close, resent every RTO until acknowledged (see connect-close.ts). */
export function sendDisconnect(s: Session, now: number): void {
  s.disconnectsSent++;
  s.ctx.transmit(s.route, { type: 'disconnect', session: s.wireId });
  s.timers.set('disconnectRetry', now + s.rtt.rto);
}

export function sendDisconnectAck(s: Session): void {
  s.ctx.transmit(s.route, { type: 'disconnect_ack', session: s.wireId });
}

export function sendHeartbeat(s: Session, now: number): void {
  transmitAcknowledgement(s, 'heartbeat', now);
  s.ctx.emit({ type: 'heartbeat_sent', session: s.id, peer: s.peer });
  s.heartbeatRtt.sent(now, s.sender.inFlight);
}

export function sendAck(s: Session, now: number): void {
  transmitAcknowledgement(s, 'ack', now);
}

/** An `ack` or a `heartbeat`: the same fields, the current acknowledgement. */
function transmitAcknowledgement(s: Session, type: 'ack' | 'heartbeat', now: number): void {
  const { ack, sack, ackDelayMs } = takeAck(s, now);
  s.ctx.transmit(s.route, { type, session: s.wireId, ack, sack, ackDelay: ackDelayToWire(ackDelayMs) });
}

/** Sends the acknowledgement the ack timer is holding back, if any. */
export function flushAck(s: Session, now: number): void {
  if (s.timers.get('ack') !== undefined) sendAck(s, now);
}

/** An in-order fragment arrived: acknowledge it within ackDelay, or at once if ackEvery wait. */
export function acknowledgeSoon(s: Session, now: number): void {
  if (s.receiver.unacknowledged >= s.ctx.options.ackEvery) sendAck(s, now);
  else if (s.timers.get('ack') === undefined) s.timers.set('ack', now + s.ctx.options.ackDelay);
}

/** The current acknowledgement, which any datagram carrying it satisfies. */
function takeAck(s: Session, now: number) {
  s.receiver.unacknowledged = 0;
  s.timers.clear('ack');
  return s.receiver.ackFields(now);
}

export function transmitFragments(s: Session, fragments: readonly OutgoingFragment[], now: number): void {
  for (const f of fragments) {
    const { ack, sack, ackDelayMs } = takeAck(s, now);
    s.ctx.transmit(s.route, {
      type: 'text',
      session: s.wireId,
      seq: f.seq,
      ack,
      sack,
      ackDelay: ackDelayToWire(ackDelayMs),
      fragmentIndex: f.index,
      fragmentCount: f.count,
      payload: f.payload,
    });
  }
}

/** Sends what the window allows and what the acknowledgements show lost, and rearms the timer. */
export function sendText(s: Session, now: number): void {
  transmitFragments(s, s.sender.takeRetransmissions(now), now);
  transmitFragments(s, s.sender.takeNew(now), now);
  armRetransmit(s);
}

/** The retransmission timer expired: resend what it says, and rearm it. */
export function resendLost(s: Session, now: number): void {
  transmitFragments(s, s.sender.takeRetransmissions(now), now);
  armRetransmit(s);
}

/** The session's channel moved to a validated path: what waits for an acknowledgement goes again now. */
export function resendOnNewPath(s: Session, now: number): void {
  s.sender.pathChanged(now);
  resendLost(s, now);
}

export function armRetransmit(s: Session): void {
  const at = s.sender.nextDeadline();
  if (at === undefined) s.timers.clear('retransmit');
  else s.timers.set('retransmit', at);
}

/**
 * What each session message does in each state (PROTOCOL.md, Sessions: "what each state acts
 * on"). HANDLERS is the table: a message with no handler for the current state is ignored and
 * is no sign of life. State changes go through `Session.fire` (the transition table); timers and
 * sending live in liveness.ts, outgoing.ts and connect-close.ts.
 *
 * Dispatch is two property lookups and a call, with no allocation: text, acks and heartbeats are
 * on the round-trip hot path.
 */
import type { Accept, Datagram, Decline, Text } from '../wire/messages.js';
import { ackDelayFromWire } from '../wire/messages.js';
import { checkLingerDone, failUndelivered, refreshRequestExpiry } from './connect-close.js';
import { announceFeatures, onFeatures } from './features.js';
import {
  acknowledgeSoon,
  resendDecline,
  sendAccept,
  sendAck,
  sendDisconnectAck,
  sendText,
} from './outgoing.js';
import { onPresence } from './presence.js';
import type { Session } from './session.js';
import * as stream from './stream-handlers.js';
import type { SessionState } from './transitions.js';

export type Handler<D extends Datagram = Datagram> = (s: Session, datagram: D, now: number) => void;
type HandlersFor = { readonly [T in Datagram['type']]?: Handler<Extract<Datagram, { type: T }>> };

// ignoreBOM: a text that starts with U+FEFF arrives with it (PROTOCOL.md, Transport: strings).
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function onPeerAccept(s: Session, accept: Accept, now: number): void {
  s.peerNick = accept.nick;
  s.liveness.agree(accept.heartbeatMs);
  // No round-trip sample from request to accept: it includes the time a person took to decide.
  s.fire('peer_accepted', now);
  s.emitAccepted(accept.nick);
  announceFeatures(s, now);
}

function onPeerDecline(s: Session, decline: Decline, now: number): void {
  s.fire('peer_declined', now);
  s.ctx.emit({
    type: 'declined',
    session: s.id,
    peer: s.peer,
    reason: decline.reason,
    detail: decline.detail,
  });
}

/** The peer closed (or withdrew its request): acknowledged in every state that acts on it. */
function onPeerDisconnect(s: Session, _disconnect: Datagram, now: number): void {
  // Our own close already told the application; the peer's disconnect only ends it sooner.
  const weClosed = s.state === 'lingering' || s.state === 'closing';
  sendDisconnectAck(s);
  failUndelivered(s, 'peer_closed');
  s.fire('peer_disconnected', now);
  if (!weClosed) s.ctx.emit({ type: 'closed', session: s.id, peer: s.peer, reason: 'peer_closed' });
}

function onText(s: Session, text: Text, now: number): void {
  onAckFields(s, text.ack, text.sack, text.ackDelay, now);
  const receiver = s.receiver;
  const outcome = receiver.receive(text, now);
  for (const bytes of receiver.completed) deliver(s, bytes);
  if (receiver.problem !== undefined) s.ctx.protocolError(receiver.problem);
  // Beyond the window: dropped without a word; the sender retransmits once the window moves.
  if (outcome === 'out_of_window') return;
  // Ack at once when something looks wrong (a gap, a repeat); else soon.
  if (outcome !== 'in_order') sendAck(s, now);
  else acknowledgeSoon(s, now);
}

/**
 * Text while we close: nothing new is taken (or acknowledged, so its sender does not count it
 * delivered); a fragment we already have is acknowledged again, as our ack of it may be lost.
 */
function onTextWhileClosing(s: Session, text: Text, now: number): void {
  onAckFields(s, text.ack, text.sack, text.ackDelay, now);
  if (s.state !== 'closed' && s.receiver.has(text.seq)) sendAck(s, now);
}

function onHeartbeat(s: Session, heartbeat: Datagram & { type: 'heartbeat' }, now: number): void {
  s.liveness.heardHeartbeat(now);
  onAckFields(s, heartbeat.ack, heartbeat.sack, heartbeat.ackDelay, now);
  // Answered at once, so a probing peer hears back and measures a round trip (acks are never answered).
  if (s.state !== 'closed') sendAck(s, now);
}

function onAck(s: Session, ack: Datagram & { type: 'ack' }, now: number): void {
  const progressed = onAckFields(s, ack.ack, ack.sack, ack.ackDelay, now);
  const sample = s.heartbeatRtt.answered(now, progressed, s.sender.inFlight);
  if (sample !== undefined) s.rtt.sample(sample);
}

function deliver(s: Session, bytes: Uint8Array): void {
  let text: string;
  try {
    text = utf8Strict.decode(bytes);
  } catch {
    s.ctx.protocolError('message is not valid UTF-8');
    return;
  }
  s.ctx.emit({ type: 'message', session: s.id, peer: s.peer, text });
}

/** Applies the peer's acknowledgement of our text; returns whether it acknowledged anything new. */
function onAckFields(s: Session, ack: number, sack: number, ackDelay: number, now: number): boolean {
  const sender = s.sender;
  if (!sender.onAck(ack, sack, ackDelayFromWire(ackDelay), now)) return false;
  for (const messageId of sender.delivered) {
    s.ctx.emit({ type: 'delivered', session: s.id, peer: s.peer, messageId });
  }
  if (s.state === 'lingering' && sender.pendingMessages === 0) {
    checkLingerDone(s, now);
    return true;
  }
  // The window may have opened, and the acknowledgement may show holes.
  if (s.state === 'open' || s.state === 'lingering') sendText(s, now);
  return true;
}

/** What each datagram does in each state; the state changes only through `Session.fire`. */
export const HANDLERS: Record<SessionState, HandlersFor> = {
  connecting: {
    accept: onPeerAccept,
    decline: onPeerDecline,
    disconnect: onPeerDisconnect,
    features: onFeatures,
  },
  requested: {
    // The requester is still asking: it is still there.
    connect_request: (s, _d, now) => refreshRequestExpiry(s, now),
    disconnect: onPeerDisconnect,
    features: onFeatures,
  },
  open: {
    // Our accept was lost: the requester is still asking.
    connect_request: (s) => sendAccept(s),
    text: onText,
    heartbeat: onHeartbeat,
    ack: onAck,
    presence: onPresence,
    disconnect: onPeerDisconnect,
    features: onFeatures,
    stream_data: stream.onData,
    stream_credit: stream.onCredit,
    stream_reset: stream.onReset,
    stream_stop: stream.onStop,
    stream_limit: stream.onLimit,
    pmtu_probe: stream.onProbe,
  },
  lingering: {
    // Acknowledgements still count; new text from the peer is not taken.
    text: onTextWhileClosing,
    heartbeat: onHeartbeat,
    ack: onAck,
    disconnect: onPeerDisconnect,
    // A stop ends the wait for a stream the close lingers for (stream_ack is the path's, taken in
    // every state; no credit is needed, as nothing written is past the peer's credit).
    stream_stop: stream.onStopWhileLingering,
    stream_reset: stream.onResetWhileLingering,
  },
  closing: {
    text: onTextWhileClosing,
    heartbeat: onHeartbeat,
    ack: () => {},
    disconnect_ack: (s, _d, now) => s.fire('disconnect_acknowledged', now),
    disconnect: onPeerDisconnect,
  },
  draining: {
    connect_request: (s) => resendDecline(s),
  },
  closed: {},
};

/**
 * One conversation with one peer.
 *
 * Theory of operation. A session is born `connecting` (we asked: a connect request is resent
 * with backoff until the peer accepts, declines, or the connect timeout passes) or `requested`
 * (the peer asked: the application accepts or declines). Once `open`, both sides send a
 * heartbeat every interval, text travels reliably (see ReliableSender / ReliableReceiver), and
 * any valid datagram from the peer proves it alive; missLimit silent intervals mean `lost`.
 * Closing (`closing`) first lingers, up to closeLinger, until the messages in flight are
 * acknowledged (like TCP's FIN after the data), then sends a disconnect, resent until
 * acknowledged or disconnectAttempts run out. A declined request lingers `draining` to answer the requester's retransmissions.
 * `closed` is final: the endpoint forgets the session.
 *
 * Every reaction to a datagram is one entry in TRANSITIONS below, by state and datagram type;
 * a datagram with no entry for the current state is ignored. This file does not know about
 * sockets, clocks or other sessions: the endpoint hands it datagrams, the time and timeouts.
 */
import type { Address } from '../address.js';
import { errors } from '../errors.js';
import { fingerprint, toHex } from '../secure/crypto.js';
import type { MessageId, NetchatEvent, SessionId } from '../events.js';
import type { EndpointOptions } from '../options.js';
import type { Accept, ConnectRequest, Datagram, DeclineReason, Decline, Text } from '../wire/messages.js';
import { ReliableReceiver } from './reliable-receiver.js';
import { type OutgoingFragment, ReliableSender } from './reliable-sender.js';
import { RttEstimator } from './rtt-estimator.js';
import { type TimerName, Timers } from './timers.js';

export type SessionState = 'connecting' | 'requested' | 'open' | 'closing' | 'draining' | 'closed';

/** The secure channel a session speaks over: its peer's current address and verified key. */
export interface Route {
  readonly id: number;
  readonly address: Address;
  /** The peer's static public key, once the handshake completed. */
  readonly remoteStatic: Uint8Array | undefined;
  /** The round trip the handshake measured (ms), so a session knows its RTT before any text. */
  readonly handshakeRtt: number | undefined;
}

/** What a session needs from its endpoint. */
export interface SessionContext {
  readonly options: EndpointOptions;
  transmit(route: Route, datagram: Datagram): void;
  emit(event: NetchatEvent): void;
  /** Counts a datagram from the peer that broke the protocol rules. */
  protocolError(reason: string): void;
}

/** A read-only view of a session for applications (status bars, logs). */
export interface SessionInfo {
  readonly id: SessionId;
  readonly peer: Address;
  readonly peerNick: string;
  /** The peer's verified static public key (hex), and its short fingerprint; empty before the handshake. */
  readonly publicKey: string;
  readonly fingerprint: string;
  readonly state: SessionState;
  readonly initiator: boolean;
  /** Smoothed round-trip time in ms, once measured. */
  readonly rtt: number | undefined;
  /** When anything was last heard from the peer (endpoint clock, ms). */
  readonly lastHeard: number;
  /** Consecutive heartbeat intervals without a word from the peer. */
  readonly missedHeartbeats: number;
  /** Messages sent but not yet acknowledged. */
  readonly pendingMessages: number;
}

type Handler<D extends Datagram = Datagram> = (session: Session, datagram: D, now: number) => void;
type HandlersFor = { [T in Datagram['type']]?: Handler<Extract<Datagram, { type: T }>> };

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

export class Session {
  state: SessionState;
  peerNick = '';
  lastHeard: number;
  /** Agreed at open: the smaller of the intervals the two peers asked for. */
  private heartbeatInterval: number;
  private missed = 0;
  private readonly timers = new Timers();
  private readonly rtt: RttEstimator;
  private readonly sender: ReliableSender;
  private readonly receiver: ReliableReceiver;
  private connectAttempts = 0;
  private connectStartedAt = 0;
  private connectDelay: number;
  private disconnectsSent = 0;
  private declineSent: Decline | undefined;

  private constructor(
    private readonly ctx: SessionContext,
    readonly id: SessionId,
    /** The id both peers put in every datagram of this session; the initiator picks it. */
    public wireId: number,
    /** The secure channel it speaks over (changes only when a simultaneous open is resolved). */
    public route: Route,
    readonly initiator: boolean,
    now: number,
  ) {
    const o = ctx.options;
    this.state = initiator ? 'connecting' : 'requested';
    this.lastHeard = now;
    this.heartbeatInterval = o.heartbeatInterval;
    this.connectDelay = o.connectRetryInitial;
    this.rtt = new RttEstimator(o.minRto, o.maxRto);
    this.sender = new ReliableSender(o.window, this.rtt);
    this.receiver = new ReliableReceiver(o.window, o.maxMessageBytes);
  }

  /**
   * We ask the peer to chat. The connect timeout runs from now (the handshake counts); the
   * request goes out once the route is open (`routeOpened`).
   */
  static outgoing(ctx: SessionContext, id: SessionId, wireId: number, route: Route, now: number): Session {
    const session = new Session(ctx, id, wireId, route, true, now);
    session.timers.set('connectGiveUp', now + ctx.options.connectTimeout);
    return session;
  }

  /** The peer asks us to chat (over an open route); the application will accept or decline. */
  static incoming(
    ctx: SessionContext,
    id: SessionId,
    request: ConnectRequest,
    route: Route,
    now: number,
  ): Session {
    const session = new Session(ctx, id, request.session, route, false, now);
    session.peerNick = request.nick;
    session.agreeHeartbeat(request.heartbeatMs);
    session.refreshRequestExpiry(now);
    ctx.emit({ type: 'request', session: id, peer: session.peer, nick: request.nick, ...session.identity() });
    return session;
  }

  /** The peer's current address (it moves with the route when the peer roams). */
  get peer(): Address {
    return this.route.address;
  }

  /** The peer's verified key, as events and SessionInfo carry it. */
  identity(): { publicKey: string; fingerprint: string } {
    const key = this.route.remoteStatic;
    return key
      ? { publicKey: toHex(key), fingerprint: fingerprint(key) }
      : { publicKey: '', fingerprint: '' };
  }

  /** The route finished its handshake: now the request can go. */
  routeOpened(now: number): void {
    if (this.state !== 'connecting' || this.connectAttempts > 0) return;
    this.connectStartedAt = now;
    this.sendConnectRequest(now);
  }

  info(): SessionInfo {
    return {
      id: this.id,
      peer: this.peer,
      peerNick: this.peerNick,
      ...this.identity(),
      state: this.state,
      initiator: this.initiator,
      rtt: this.rtt.srtt,
      lastHeard: this.lastHeard,
      missedHeartbeats: this.missed,
      pendingMessages: this.sender.pendingMessages,
    };
  }

  nextDeadline(): number | undefined {
    return this.timers.next();
  }

  // ---- the application's calls ------------------------------------------------------------

  accept(now: number): void {
    if (this.state !== 'requested') throw errors.notARequest(this.id);
    this.sendAccept();
    this.timers.clear('requestExpiry');
    this.open(now);
  }

  decline(now: number, reason: DeclineReason, detail: string): void {
    if (this.state !== 'requested') throw errors.notARequest(this.id);
    this.declineSent = { type: 'decline', session: this.wireId, reason, detail };
    this.ctx.transmit(this.route, this.declineSent);
    this.timers.clearAll();
    this.state = 'draining';
    this.timers.set('drain', now + this.ctx.options.connectTimeout);
  }

  send(messageId: MessageId, text: string, now: number): void {
    if (this.state !== 'open') throw errors.sessionNotOpen(this.id, this.state);
    const bytes = utf8.encode(text);
    if (bytes.length === 0) throw errors.emptyMessage();
    const { maxMessageBytes, maxQueuedBytes } = this.ctx.options;
    if (bytes.length > maxMessageBytes) throw errors.messageTooLarge(bytes.length, maxMessageBytes);
    if (this.sender.queuedBytes + bytes.length > maxQueuedBytes) throw errors.sendQueueFull(maxQueuedBytes);
    this.sender.enqueue(messageId, bytes);
    this.transmitFragments(this.sender.takeNew(now));
    this.armRetransmit();
  }

  close(now: number): void {
    switch (this.state) {
      case 'requested':
        this.decline(now, 'declined', '');
        return;
      case 'connecting':
        // Withdraw the request once, so the peer stops asking its user.
        this.ctx.transmit(this.route, { type: 'disconnect', session: this.wireId });
        this.end();
        return;
      case 'draining':
        // Only there to answer retries of a declined request: nothing to wait for.
        this.end();
        return;
      case 'open':
        this.timers.clearAll();
        this.state = 'closing';
        if (this.sender.pendingMessages === 0) this.sendDisconnect(now);
        else {
          this.timers.set('linger', now + this.ctx.options.closeLinger);
          this.armRetransmit();
        }
        return;
      default:
        return;
    }
  }

  // ---- datagrams and time -----------------------------------------------------------------

  handle(datagram: Datagram, now: number): void {
    const handler = (TRANSITIONS[this.state] as Record<string, Handler | undefined>)[datagram.type];
    if (!handler) return;
    this.heard(now);
    handler(this, datagram, now);
  }

  handleTimeout(now: number): void {
    for (const name of this.timers.takeExpired(now)) {
      if (this.state === 'closed') return;
      TIMEOUTS[name](this, now);
    }
  }

  // ---- reactions (called from the tables) ---------------------------------------------------

  private heard(now: number): void {
    this.lastHeard = now;
    this.missed = 0;
    if (this.state === 'open') this.timers.set('liveness', now + this.heartbeatInterval);
  }

  private agreeHeartbeat(offered: number): void {
    this.heartbeatInterval = Math.min(this.ctx.options.heartbeatInterval, offered);
  }

  private onAccept(accept: Accept, now: number): void {
    this.peerNick = accept.nick;
    this.agreeHeartbeat(accept.heartbeatMs);
    // The handshake is a round trip too: measure it if the request went out only once.
    if (this.connectAttempts === 1) this.rtt.sample(now - this.connectStartedAt);
    this.open(now);
    this.ctx.emit({
      type: 'accepted',
      session: this.id,
      peer: this.peer,
      nick: accept.nick,
      ...this.identity(),
    });
  }

  /** Simultaneous open: the peer's request won the tie-break, so take its id (and route) and accept it. */
  adoptPeerRequest(request: ConnectRequest, route: Route, now: number): void {
    this.route = route;
    this.wireId = request.session;
    this.peerNick = request.nick;
    this.agreeHeartbeat(request.heartbeatMs);
    this.sendAccept();
    this.open(now);
    this.ctx.emit({
      type: 'accepted',
      session: this.id,
      peer: this.peer,
      nick: request.nick,
      ...this.identity(),
    });
  }

  /** The application connects to a peer whose request is waiting: that is a yes. */
  acceptAsConnect(now: number): void {
    this.accept(now);
    this.ctx.emit({
      type: 'accepted',
      session: this.id,
      peer: this.peer,
      nick: this.peerNick,
      ...this.identity(),
    });
  }

  private open(now: number): void {
    this.state = 'open';
    this.timers.clear('connectRetry');
    this.timers.clear('connectGiveUp');
    const interval = this.heartbeatInterval;
    this.timers.set('heartbeat', now + interval);
    this.timers.set('liveness', now + interval);
  }

  private onText(text: Text, now: number): void {
    this.onAckFields(text.ack, text.sack, now);
    const outcome = this.receiver.receive(text);
    if (outcome.kind === 'accepted' || outcome.kind === 'protocol_error') {
      for (const bytes of outcome.messages) this.deliver(bytes);
    }
    if (outcome.kind === 'protocol_error') this.ctx.protocolError(outcome.reason);
    // Ack at once when something looks wrong (a gap, a repeat) or ackEvery fragments wait; else soon.
    const urgent =
      outcome.kind !== 'accepted' ||
      !outcome.inOrder ||
      this.receiver.unacknowledged >= this.ctx.options.ackEvery;
    if (urgent) this.sendAck();
    else if (this.timers.get('ack') === undefined) this.timers.set('ack', now + this.ctx.options.ackDelay);
  }

  private deliver(bytes: Uint8Array): void {
    let text: string;
    try {
      text = utf8Strict.decode(bytes);
    } catch {
      this.ctx.protocolError('message is not valid UTF-8');
      return;
    }
    this.ctx.emit({ type: 'message', session: this.id, peer: this.peer, text });
  }

  private onAckFields(ack: number, sack: number, now: number): void {
    for (const messageId of this.sender.onAck(ack, sack, now)) {
      this.ctx.emit({ type: 'delivered', session: this.id, peer: this.peer, messageId });
    }
    if (this.isLingering() && this.sender.pendingMessages === 0) {
      this.timers.clear('linger');
      this.timers.clear('retransmit');
      this.sendDisconnect(now);
      return;
    }
    // The window may have opened, and the acknowledgement may show holes.
    this.transmitFragments(this.sender.takeRetransmissions(now));
    this.transmitFragments(this.sender.takeNew(now));
    this.armRetransmit();
  }

  /** Closing, but still waiting for messages in flight to be acknowledged. */
  private isLingering(): boolean {
    return this.state === 'closing' && this.timers.get('linger') !== undefined;
  }

  private onLingerOver(now: number): void {
    this.failUndelivered('closed');
    this.timers.clear('retransmit');
    this.sendDisconnect(now);
  }

  private onPeerDisconnect(): void {
    this.ctx.transmit(this.route, { type: 'disconnect_ack', session: this.wireId });
    this.failUndelivered('peer_closed');
    this.end();
    this.ctx.emit({ type: 'closed', session: this.id, peer: this.peer, reason: 'peer_closed' });
  }

  private onDecline(decline: Decline): void {
    this.end();
    this.ctx.emit({
      type: 'declined',
      session: this.id,
      peer: this.peer,
      reason: decline.reason,
      detail: decline.detail,
    });
  }

  // ---- timeouts -----------------------------------------------------------------------------

  private onConnectRetry(now: number): void {
    this.connectDelay = Math.min(this.connectDelay * 2, this.ctx.options.connectRetryMax);
    this.sendConnectRequest(now);
  }

  private onConnectGiveUp(): void {
    this.ctx.transmit(this.route, { type: 'disconnect', session: this.wireId });
    this.end();
    this.ctx.emit({ type: 'no_answer', session: this.id, peer: this.peer });
  }

  private onHeartbeatDue(now: number): void {
    this.ctx.transmit(this.route, { type: 'heartbeat', session: this.wireId, ...this.takeAckFields() });
    this.ctx.emit({ type: 'heartbeat_sent', session: this.id, peer: this.peer });
    this.timers.set('heartbeat', now + this.heartbeatInterval);
  }

  private onSilentInterval(): void {
    this.missed++;
    this.ctx.emit({ type: 'heartbeat_missed', session: this.id, peer: this.peer, count: this.missed });
    if (this.missed >= this.ctx.options.missLimit) {
      this.failUndelivered('lost');
      this.end();
      this.ctx.emit({ type: 'lost', session: this.id, peer: this.peer, missed: this.missed });
      return;
    }
    this.timers.set('liveness', this.lastHeard + this.heartbeatInterval * (this.missed + 1));
  }

  private onRetransmitDue(now: number): void {
    if (this.state !== 'open' && !this.isLingering()) return;
    this.transmitFragments(this.sender.takeRetransmissions(now));
    this.armRetransmit();
  }

  private onRequestExpired(): void {
    this.end();
    this.ctx.emit({ type: 'lost', session: this.id, peer: this.peer, missed: 0 });
  }

  private onDisconnectRetry(now: number): void {
    if (this.disconnectsSent >= this.ctx.options.disconnectAttempts) this.end();
    else this.sendDisconnect(now);
  }

  // ---- sending ------------------------------------------------------------------------------

  private sendConnectRequest(now: number): void {
    this.connectAttempts++;
    const { nick, heartbeatInterval } = this.ctx.options;
    this.ctx.transmit(this.route, {
      type: 'connect_request',
      session: this.wireId,
      heartbeatMs: heartbeatInterval,
      nick,
    });
    this.timers.set('connectRetry', now + this.connectDelay);
  }

  private sendAccept(): void {
    this.ctx.transmit(this.route, {
      type: 'accept',
      session: this.wireId,
      heartbeatMs: this.heartbeatInterval,
      nick: this.ctx.options.nick,
    });
  }

  private resendDecline(): void {
    if (this.declineSent) this.ctx.transmit(this.route, this.declineSent);
  }

  private sendDisconnect(now: number): void {
    this.disconnectsSent++;
    this.ctx.transmit(this.route, { type: 'disconnect', session: this.wireId });
    this.timers.set('disconnectRetry', now + this.rtt.rto);
  }

  private sendAck(): void {
    this.ctx.transmit(this.route, { type: 'ack', session: this.wireId, ...this.takeAckFields() });
  }

  /** The current acknowledgement, which any datagram carrying it satisfies. */
  private takeAckFields(): { ack: number; sack: number } {
    this.receiver.unacknowledged = 0;
    this.timers.clear('ack');
    return this.receiver.ackFields();
  }

  private transmitFragments(fragments: OutgoingFragment[]): void {
    for (const f of fragments) {
      this.ctx.transmit(this.route, {
        type: 'text',
        session: this.wireId,
        seq: f.seq,
        ...this.takeAckFields(),
        fragmentIndex: f.index,
        fragmentCount: f.count,
        payload: f.payload,
      });
    }
  }

  private armRetransmit(): void {
    const at = this.sender.nextDeadline();
    if (at === undefined) this.timers.clear('retransmit');
    else this.timers.set('retransmit', at);
  }

  private refreshRequestExpiry(now: number): void {
    const { connectTimeout, connectRetryMax } = this.ctx.options;
    this.timers.set('requestExpiry', now + connectTimeout + connectRetryMax);
  }

  private failUndelivered(reason: 'closed' | 'lost' | 'peer_closed'): void {
    for (const messageId of this.sender.drainUndelivered()) {
      this.ctx.emit({ type: 'failed', session: this.id, peer: this.peer, messageId, reason });
    }
  }

  private end(): void {
    this.timers.clearAll();
    this.state = 'closed';
  }

  // The tables reach the private reactions through these two objects.
  static readonly transitions: Record<SessionState, HandlersFor> = {
    connecting: {
      accept: (s, d, now) => s.onAccept(d, now),
      decline: (s, d) => s.onDecline(d),
      disconnect: (s) => s.onPeerDisconnect(),
    },
    requested: {
      connect_request: (s, _d, now) => s.refreshRequestExpiry(now),
      disconnect: (s) => s.onPeerDisconnect(),
    },
    open: {
      // Our accept was lost: the requester is still asking.
      connect_request: (s) => s.sendAccept(),
      text: (s, d, now) => s.onText(d, now),
      heartbeat: (s, d, now) => s.onAckFields(d.ack, d.sack, now),
      ack: (s, d, now) => s.onAckFields(d.ack, d.sack, now),
      disconnect: (s) => s.onPeerDisconnect(),
    },
    closing: {
      // While lingering, acknowledgements still count; new text from the peer is not taken.
      text: (s, d, now) => s.isLingering() && s.onAckFields(d.ack, d.sack, now),
      heartbeat: (s, d, now) => s.isLingering() && s.onAckFields(d.ack, d.sack, now),
      ack: (s, d, now) => s.isLingering() && s.onAckFields(d.ack, d.sack, now),
      disconnect_ack: (s) => s.end(),
      // Both sides closed at once (or the peer closed while we lingered).
      disconnect: (s) => {
        s.ctx.transmit(s.route, { type: 'disconnect_ack', session: s.wireId });
        s.failUndelivered('peer_closed');
        s.end();
      },
    },
    draining: {
      connect_request: (s) => s.resendDecline(),
    },
    closed: {},
  };

  static readonly timeouts: Record<TimerName, (session: Session, now: number) => void> = {
    connectRetry: (s, now) => s.onConnectRetry(now),
    connectGiveUp: (s) => s.onConnectGiveUp(),
    requestExpiry: (s) => s.onRequestExpired(),
    heartbeat: (s, now) => s.onHeartbeatDue(now),
    liveness: (s) => s.onSilentInterval(),
    retransmit: (s, now) => s.onRetransmitDue(now),
    ack: (s) => s.sendAck(),
    linger: (s, now) => s.onLingerOver(now),
    disconnectRetry: (s, now) => s.onDisconnectRetry(now),
    drain: (s) => s.end(),
  };
}

const TRANSITIONS = Session.transitions;
const TIMEOUTS = Session.timeouts;

/**
 * One conversation with one peer.
 *
 * Theory of operation. A session is born `connecting` (we asked: a connect request is resent
 * with backoff until the peer accepts, declines, or the connect timeout passes) or `requested`
 * (the peer asked: the application accepts or declines). Once `open`, both sides send a
 * heartbeat on a fixed grid of intervals and answer each other's heartbeats with an `ack`, text
 * travels reliably (see ReliableSender / ReliableReceiver), and any valid datagram from the peer
 * proves it alive (see Liveness below). Closing first lingers (`lingering`, up to closeLinger)
 * until the messages in flight are acknowledged, like TCP's FIN after the data, then sends a
 * disconnect (`closing`), resent until acknowledged or disconnectAttempts run out. A declined
 * request stays `draining` to answer the requester's retransmissions. `closed` is final: the
 * endpoint forgets the session.
 *
 * Where things live: every state change is one entry of TRANSITIONS (transitions.ts), reached
 * only through `fire`; what entering a state does is ENTER below; what each datagram does in
 * each state is HANDLERS below (a datagram with no handler for the current state is ignored);
 * what each named timer does is TIMEOUTS. Dispatching a datagram is two property lookups and
 * allocates nothing: it is on the round-trip hot path.
 *
 * Liveness. With interval I and margin M = I/2: the n-th interval counts as missed when nothing
 * was heard for n·I + M (so timer jitter on a healthy link is never a miss), and the peer is lost
 * at missLimit·I + M of silence. After the first miss the session probes: a heartbeat every I/8
 * until something is heard (as TCP keepalive probes), so only real silence ends a session.
 *
 * This file does not know about sockets, clocks or other sessions: the endpoint hands it
 * datagrams, the time and timeouts.
 */
import type { Address } from '../address.js';
import { errors } from '../errors.js';
import type { FailReason, MessageId, NetchatEvent, SessionId } from '../events.js';
import type { EndpointOptions } from '../options.js';
import { fingerprint, toHex } from '../secure/crypto.js';
import {
  type Accept,
  ackDelayFromWire,
  ackDelayToWire,
  type ConnectRequest,
  type Datagram,
  type Decline,
  type DeclineReason,
  type Presence,
  type Text,
} from '../wire/messages.js';
import { ReliableReceiver } from './reliable-receiver.js';
import { type OutgoingFragment, ReliableSender } from './reliable-sender.js';
import { RttEstimator } from './rtt-estimator.js';
import { TIMER_NAMES, type TimerName, Timers } from './timers.js';
import { type SessionEvent, type SessionState, TRANSITIONS } from './transitions.js';

export type { SessionEvent, SessionState } from './transitions.js';

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
  /** Smoothed round-trip time in ms, once measured (the handshake's, at first). */
  readonly rtt: number | undefined;
  /** When anything was last heard from the peer (endpoint clock, ms). */
  readonly lastHeard: number;
  /** Consecutive heartbeat intervals (plus the margin) without a word from the peer. */
  readonly missedHeartbeats: number;
  /** Messages sent but not yet acknowledged. */
  readonly pendingMessages: number;
}

/**
 * Probes after a missed interval go every interval / 8, but never closer than this: at the
 * smallest interval (50 ms) that would be one every 6 ms, faster than an answer can come back
 * from a peer that delays acknowledgements up to 10 ms, and more than a hundred datagrams a
 * second for a peer that may simply be busy.
 */
export const MIN_PROBE_GAP_MS = 10;
/** A heartbeat interval counts as missed only after this fraction of an interval more. */
const LIVENESS_MARGIN = 0.5;
/** Fast probes after a miss: this many per interval. */
const PROBES_PER_INTERVAL = 8;
/** After `probe()`, the peer has this many retransmission timeouts to answer. */
const PROBE_ANSWER_RTOS = 2;
/**
 * Presence messages taken from a peer: bursts of this many, then one a second. An honest peer
 * sends one typing notice per 3 s and a nick change now and then; more only costs us (each may
 * redraw a screen or rewrite the contacts file), so the rest are dropped and counted.
 */
export const PRESENCE_BURST = 5;
const PRESENCE_PER_SECOND = 1;

type Handler<D extends Datagram = Datagram> = (session: Session, datagram: D, now: number) => void;
type HandlersFor = { readonly [T in Datagram['type']]?: Handler<Extract<Datagram, { type: T }>> };

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

export class Session {
  state: SessionState;
  peerNick = '';
  /** Whether our last presence said we are typing (a nick change repeats it). */
  private typing = false;
  /** Presence messages the peer may still send now (a token bucket: PRESENCE_BURST, PRESENCE_PER_SECOND). */
  private presenceBudget = PRESENCE_BURST;
  private presenceBudgetAt = 0;
  lastHeard: number;
  /** Agreed at open: the smaller of the intervals the two peers asked for. */
  private heartbeatInterval: number;
  /** Intervals missed so far in the current silence (each reported once). */
  private missed = 0;
  /** When the session opened: liveness counts silence from here or the last datagram, whichever is later. */
  private openedAt = 0;
  private readonly timers = new Timers();
  private readonly rtt: RttEstimator;
  private readonly sender: ReliableSender;
  private readonly receiver: ReliableReceiver;
  private connectAttempts = 0;
  private connectDelay: number;
  private disconnectsSent = 0;
  private declineSent: Decline | undefined;
  /** When `probe()` last sent its heartbeat. */
  private probeSentAt = Number.NEGATIVE_INFINITY;
  /** The oldest heartbeat not yet answered, for a round-trip sample from its answer. */
  private pingSentAt: number | undefined;
  /** More than one heartbeat (or text) was outstanding: an answer cannot be matched to one. */
  private pingAmbiguous = false;

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
    session.seedRtt();
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
    this.seedRtt();
    this.sendConnectRequest(now);
  }

  /**
   * False for a session that only drains after a decline: it holds no conversation, so it must
   * not count toward maxSessionsPerPeer (a client retrying after a decline is not refused).
   */
  get countsTowardPeerLimit(): boolean {
    return this.state !== 'draining' && this.state !== 'closed';
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

  /** Throws NOT_A_REQUEST unless the session is `requested`. */
  accept(now: number): void {
    if (this.state !== 'requested') throw errors.notARequest(this.id);
    this.sendAccept();
    this.fire('accept', now);
  }

  /** Throws NOT_A_REQUEST unless the session is `requested`. */
  decline(now: number, reason: DeclineReason, detail: string): void {
    if (this.state !== 'requested') throw errors.notARequest(this.id);
    this.declineSent = { type: 'decline', session: this.wireId, reason, detail };
    this.ctx.transmit(this.route, this.declineSent);
    this.fire('decline', now);
  }

  /** Throws SESSION_NOT_OPEN unless the session is `open`. */
  send(messageId: MessageId, text: string, now: number): void {
    if (this.state !== 'open') throw errors.sessionNotOpen(this.id, this.state);
    const bytes = utf8.encode(text);
    if (bytes.length === 0) throw errors.emptyMessage();
    const { maxMessageBytes, maxQueuedBytes } = this.ctx.options;
    if (bytes.length > maxMessageBytes) throw errors.messageTooLarge(bytes.length, maxMessageBytes);
    if (this.sender.queuedBytes + bytes.length > maxQueuedBytes) throw errors.sendQueueFull(maxQueuedBytes);
    this.sender.enqueue(messageId, bytes);
    // A message ends typing at the peer (PROTOCOL.md, Presence): a later presence says idle.
    this.typing = false;
    this.transmitFragments(this.sender.takeNew(now), now);
    this.armRetransmit();
  }

  /**
   * Tells the peer our nick and whether we are typing, in one unreliable `presence`: never
   * retransmitted or acknowledged. `typing` undefined repeats the last state (a nick change).
   * Only an open session has a peer to tell: false (nothing sent) otherwise.
   */
  sendPresence(typing?: boolean): boolean {
    if (this.state !== 'open') return false;
    if (typing !== undefined) this.typing = typing;
    this.ctx.transmit(this.route, {
      type: 'presence',
      session: this.wireId,
      activity: this.typing ? 'typing' : 'idle',
      nick: this.ctx.options.nick,
    });
    return true;
  }

  /** Closes (declines a request, withdraws our own). Ignored where closing means nothing more. */
  close(now: number): void {
    if (this.state === 'requested') {
      this.decline(now, 'declined', '');
      return;
    }
    if (TRANSITIONS[this.state].close === undefined) return;
    // Withdraw our request once, so the peer stops asking its user.
    if (this.state === 'connecting')
      this.ctx.transmit(this.route, { type: 'disconnect', session: this.wireId });
    this.fire('close', now);
  }

  /**
   * The peer restarted: its key completed a new handshake from the same address, so this
   * session's channel is dead. End at once (undelivered messages fail) and say why.
   */
  supersede(now: number): void {
    if (this.state === 'closed') return;
    this.failUndelivered('peer_restarted');
    this.fire('peer_restarted', now);
    this.ctx.emit({ type: 'closed', session: this.id, peer: this.peer, reason: 'peer_restarted' });
  }

  /**
   * The peer's key appeared from another address: ask this channel at once whether the peer is
   * still here, and lose it unless something is heard within 2 RTO. Only while open or lingering.
   */
  probe(now: number): void {
    if (this.state !== 'open' && this.state !== 'lingering') return;
    this.probeSentAt = now;
    this.sendHeartbeat(now);
    this.timers.set('probeAnswer', now + PROBE_ANSWER_RTOS * this.rtt.rto);
  }

  /** Simultaneous open: the peer's request won the tie-break, so take its id and the channel it came on, and accept it. */
  adoptPeerRequest(request: ConnectRequest, route: Route, now: number): void {
    this.route = route;
    this.wireId = request.session;
    this.peerNick = request.nick;
    this.agreeHeartbeat(request.heartbeatMs);
    this.seedRtt();
    this.sendAccept();
    this.fire('adopted', now);
    this.emitAccepted(request.nick);
  }

  /** The application connects to a peer whose request is waiting: that is a yes. */
  acceptAsConnect(now: number): void {
    this.accept(now);
    this.emitAccepted(this.peerNick);
  }

  // ---- datagrams and time -----------------------------------------------------------------

  handle(datagram: Datagram, now: number): void {
    const handler = (HANDLERS[this.state] as Record<string, Handler | undefined>)[datagram.type];
    if (!handler) return;
    // Any valid datagram of the session proves the peer alive. Liveness and probe timers check
    // lastHeard when they fire, so hearing moves no timer here.
    this.lastHeard = now;
    this.missed = 0;
    handler(this, datagram, now);
  }

  handleTimeout(now: number): void {
    for (const name of TIMER_NAMES) {
      if (this.state === 'closed') return;
      const at = this.timers.take(name, now);
      if (at !== undefined) TIMEOUTS[name](this, now, at);
    }
  }

  // ---- state changes ------------------------------------------------------------------------

  /** The one place the state changes: by the table, then what entering the new state does. */
  private fire(event: SessionEvent, now: number): void {
    const next = TRANSITIONS[this.state][event];
    // Callers check first; reaching this is a bug in this file, not the peer's or the caller's.
    if (next === undefined)
      throw new Error(`session ${this.id}: no transition for ${event} in ${this.state}`);
    if (next === this.state) return;
    this.state = next;
    ENTER[next](this, now);
  }

  private enterOpen(now: number): void {
    this.openedAt = now;
    this.missed = 0;
    this.timers.clear('connectRetry');
    this.timers.clear('connectGiveUp');
    this.timers.clear('requestExpiry');
    const interval = this.heartbeatInterval;
    this.timers.set('heartbeat', now + interval);
    this.timers.set('liveness', now + interval * (1 + LIVENESS_MARGIN));
  }

  private enterLingering(now: number): void {
    // What we delivered must be acknowledged before the peer hears that we are closing.
    this.flushAck(now);
    if (this.sender.pendingMessages === 0) this.fire('all_delivered', now);
    else this.timers.set('linger', now + this.ctx.options.closeLinger);
  }

  private enterClosing(now: number): void {
    this.timers.clear('linger');
    this.timers.clear('retransmit');
    this.flushAck(now);
    this.sendDisconnect(now);
  }

  private enterDraining(now: number): void {
    this.timers.clearAll();
    this.timers.set('drain', now + this.ctx.options.connectTimeout);
  }

  // ---- reactions to datagrams ---------------------------------------------------------------

  private agreeHeartbeat(offered: number): void {
    this.heartbeatInterval = Math.min(this.ctx.options.heartbeatInterval, offered);
  }

  /** The handshake's round trip is the first sample, so an accepted session knows its RTT at once. */
  private seedRtt(): void {
    const measured = this.route.handshakeRtt;
    if (measured !== undefined) this.rtt.seed(measured);
  }

  private onPeerAccept(accept: Accept, now: number): void {
    this.peerNick = accept.nick;
    this.agreeHeartbeat(accept.heartbeatMs);
    // No round-trip sample from request to accept: it includes the time a person took to decide.
    this.fire('peer_accepted', now);
    this.emitAccepted(accept.nick);
  }

  private onPeerDecline(decline: Decline, now: number): void {
    this.fire('peer_declined', now);
    this.ctx.emit({
      type: 'declined',
      session: this.id,
      peer: this.peer,
      reason: decline.reason,
      detail: decline.detail,
    });
  }

  private onPeerDisconnect(now: number): void {
    // Our own close already told the application; the peer's disconnect only ends it sooner.
    const weClosed = this.state === 'lingering' || this.state === 'closing';
    this.ctx.transmit(this.route, { type: 'disconnect_ack', session: this.wireId });
    this.failUndelivered('peer_closed');
    this.fire('peer_disconnected', now);
    if (!weClosed)
      this.ctx.emit({ type: 'closed', session: this.id, peer: this.peer, reason: 'peer_closed' });
  }

  private onText(text: Text, now: number): void {
    this.onAckFields(text.ack, text.sack, text.ackDelay, now);
    const outcome = this.receiver.receive(text, now);
    for (const bytes of this.receiver.completed) this.deliver(bytes);
    if (this.receiver.problem !== undefined) this.ctx.protocolError(this.receiver.problem);
    // Beyond the window: dropped without a word; the sender retransmits once the window moves.
    if (outcome === 'out_of_window') return;
    // Ack at once when something looks wrong (a gap, a repeat) or ackEvery fragments wait; else soon.
    if (outcome !== 'in_order' || this.receiver.unacknowledged >= this.ctx.options.ackEvery)
      this.sendAck(now);
    else if (this.timers.get('ack') === undefined) this.timers.set('ack', now + this.ctx.options.ackDelay);
  }

  /**
   * Text while we close: nothing new is taken (or acknowledged, so its sender does not count it
   * delivered); a fragment we already have is acknowledged again, as our ack of it may be lost.
   */
  private onTextWhileClosing(text: Text, now: number): void {
    this.onAckFields(text.ack, text.sack, text.ackDelay, now);
    if (this.state !== 'closed' && this.receiver.has(text.seq)) this.sendAck(now);
  }

  private onHeartbeat(heartbeat: Datagram & { type: 'heartbeat' }, now: number): void {
    this.onAckFields(heartbeat.ack, heartbeat.sack, heartbeat.ackDelay, now);
    // Answered at once, so a probing peer hears back and measures a round trip (acks are never answered).
    if (this.state !== 'closed') this.sendAck(now);
  }

  private onAck(ack: Datagram & { type: 'ack' }, now: number): void {
    const sentAt = this.pingSentAt;
    const progressed = this.onAckFields(ack.ack, ack.sack, ack.ackDelay, now);
    // An ack that acknowledges no text, with no text in flight, can only answer our heartbeat:
    // a round-trip sample (answers are immediate, so there is no ack delay to take off).
    if (sentAt !== undefined && !progressed && !this.pingAmbiguous && !this.sender.inFlight)
      this.rtt.sample(now - sentAt);
    this.pingSentAt = undefined;
  }

  private onPresence(presence: Presence, now: number): void {
    const refill = ((now - this.presenceBudgetAt) / 1000) * PRESENCE_PER_SECOND;
    this.presenceBudget = Math.min(PRESENCE_BURST, this.presenceBudget + Math.max(0, refill));
    this.presenceBudgetAt = now;
    if (this.presenceBudget < 1) {
      this.ctx.protocolError('presence faster than the peer may send it');
      return;
    }
    this.presenceBudget -= 1;
    this.peerNick = presence.nick;
    this.ctx.emit({
      type: 'presence',
      session: this.id,
      peer: this.peer,
      nick: presence.nick,
      typing: presence.activity === 'typing',
    });
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

  /** Applies the peer's acknowledgement of our text; returns whether it acknowledged anything new. */
  private onAckFields(ack: number, sack: number, ackDelay: number, now: number): boolean {
    const progressed = this.sender.onAck(ack, sack, ackDelayFromWire(ackDelay), now);
    if (!progressed) return false;
    for (const messageId of this.sender.delivered) {
      this.ctx.emit({ type: 'delivered', session: this.id, peer: this.peer, messageId });
    }
    if (this.state === 'lingering' && this.sender.pendingMessages === 0) {
      this.fire('all_delivered', now);
      return true;
    }
    if (this.state === 'open' || this.state === 'lingering') {
      // The window may have opened, and the acknowledgement may show holes.
      this.transmitFragments(this.sender.takeRetransmissions(now), now);
      this.transmitFragments(this.sender.takeNew(now), now);
      this.armRetransmit();
    }
    return true;
  }

  // ---- timeouts -----------------------------------------------------------------------------

  private onConnectRetry(now: number): void {
    this.connectDelay = Math.min(this.connectDelay * 2, this.ctx.options.connectRetryMax);
    this.sendConnectRequest(now);
  }

  private onConnectGiveUp(now: number): void {
    this.ctx.transmit(this.route, { type: 'disconnect', session: this.wireId });
    this.fire('connect_timed_out', now);
    this.ctx.emit({ type: 'no_answer', session: this.id, peer: this.peer });
  }

  private onRequestExpired(now: number): void {
    this.fire('request_expired', now);
    this.ctx.emit({ type: 'lost', session: this.id, peer: this.peer, missed: 0 });
  }

  /** On the grid: the next heartbeat is due one interval after this one was, never after `now`. */
  private onHeartbeatDue(now: number, due: number): void {
    this.sendHeartbeat(now);
    const interval = this.heartbeatInterval;
    let next = due + interval;
    // Fired very late (a suspended laptop): skip to the first grid point after now.
    if (next <= now) next = due + interval * (Math.floor((now - due) / interval) + 1);
    this.timers.set('heartbeat', next);
  }

  /** Counts each interval of silence (beyond the margin) once; loses the peer at missLimit. */
  private onLivenessCheck(now: number): void {
    const interval = this.heartbeatInterval;
    const since = Math.max(this.lastHeard, this.openedAt);
    const margin = interval * LIVENESS_MARGIN;
    while (now >= since + (this.missed + 1) * interval + margin) {
      this.missed++;
      this.ctx.emit({ type: 'heartbeat_missed', session: this.id, peer: this.peer, count: this.missed });
      if (this.missed >= this.ctx.options.missLimit) {
        this.lose(now);
        return;
      }
    }
    if (this.missed > 0 && this.timers.get('keepaliveProbe') === undefined) this.onKeepaliveProbe(now);
    this.timers.set('liveness', since + (this.missed + 1) * interval + margin);
  }

  /** After a miss: one more heartbeat, and the next one interval/8 later, until the peer is heard. */
  private onKeepaliveProbe(now: number): void {
    if (this.missed === 0) return;
    this.sendHeartbeat(now);
    this.timers.set(
      'keepaliveProbe',
      now + Math.max(MIN_PROBE_GAP_MS, this.heartbeatInterval / PROBES_PER_INTERVAL),
    );
  }

  private onProbeAnswerDue(now: number): void {
    if (this.lastHeard <= this.probeSentAt) this.lose(now);
  }

  private lose(now: number): void {
    this.failUndelivered('lost');
    this.fire('peer_lost', now);
    this.ctx.emit({ type: 'lost', session: this.id, peer: this.peer, missed: this.missed });
  }

  private onRetransmitDue(now: number): void {
    if (this.state !== 'open' && this.state !== 'lingering') return;
    this.transmitFragments(this.sender.takeRetransmissions(now), now);
    this.armRetransmit();
  }

  private onLingerOver(now: number): void {
    this.failUndelivered('closed');
    this.fire('linger_over', now);
  }

  private onDisconnectRetry(now: number): void {
    if (this.disconnectsSent >= this.ctx.options.disconnectAttempts) this.fire('disconnect_given_up', now);
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

  private sendHeartbeat(now: number): void {
    const { ack, sack, ackDelayMs } = this.takeAck(now);
    this.ctx.transmit(this.route, {
      type: 'heartbeat',
      session: this.wireId,
      ack,
      sack,
      ackDelay: ackDelayToWire(ackDelayMs),
    });
    this.ctx.emit({ type: 'heartbeat_sent', session: this.id, peer: this.peer });
    // Only the answer to a lone heartbeat, sent with no text in flight, makes a clean sample.
    if (this.pingSentAt === undefined) {
      this.pingSentAt = now;
      this.pingAmbiguous = this.sender.inFlight;
    } else {
      this.pingAmbiguous = true;
    }
  }

  private sendAck(now: number): void {
    const { ack, sack, ackDelayMs } = this.takeAck(now);
    this.ctx.transmit(this.route, {
      type: 'ack',
      session: this.wireId,
      ack,
      sack,
      ackDelay: ackDelayToWire(ackDelayMs),
    });
  }

  /** Sends the acknowledgement the ack timer is holding back, if any. */
  private flushAck(now: number): void {
    if (this.timers.get('ack') !== undefined) this.sendAck(now);
  }

  /** The current acknowledgement, which any datagram carrying it satisfies. */
  private takeAck(now: number) {
    this.receiver.unacknowledged = 0;
    this.timers.clear('ack');
    return this.receiver.ackFields(now);
  }

  private transmitFragments(fragments: readonly OutgoingFragment[], now: number): void {
    for (const f of fragments) {
      const { ack, sack, ackDelayMs } = this.takeAck(now);
      this.ctx.transmit(this.route, {
        type: 'text',
        session: this.wireId,
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

  private armRetransmit(): void {
    const at = this.sender.nextDeadline();
    if (at === undefined) this.timers.clear('retransmit');
    else this.timers.set('retransmit', at);
  }

  private refreshRequestExpiry(now: number): void {
    const { connectTimeout, connectRetryMax } = this.ctx.options;
    this.timers.set('requestExpiry', now + connectTimeout + connectRetryMax);
  }

  private failUndelivered(reason: FailReason): void {
    for (const messageId of this.sender.drainUndelivered()) {
      this.ctx.emit({ type: 'failed', session: this.id, peer: this.peer, messageId, reason });
    }
  }

  private emitAccepted(nick: string): void {
    this.ctx.emit({ type: 'accepted', session: this.id, peer: this.peer, nick, ...this.identity() });
  }

  // The tables reach the private reactions through these static members.

  /** What entering each state does (a state is entered only through `fire`). */
  static readonly enter: Record<SessionState, (session: Session, now: number) => void> = {
    connecting: () => {},
    requested: () => {},
    open: (s, now) => s.enterOpen(now),
    lingering: (s, now) => s.enterLingering(now),
    closing: (s, now) => s.enterClosing(now),
    draining: (s, now) => s.enterDraining(now),
    closed: (s) => s.timers.clearAll(),
  };

  /** What each datagram does in each state; the state changes only through `fire`. */
  static readonly handlers: Record<SessionState, HandlersFor> = {
    connecting: {
      accept: (s, d, now) => s.onPeerAccept(d, now),
      decline: (s, d, now) => s.onPeerDecline(d, now),
      disconnect: (s, _d, now) => s.onPeerDisconnect(now),
    },
    requested: {
      // The requester is still asking: it is still there.
      connect_request: (s, _d, now) => s.refreshRequestExpiry(now),
      disconnect: (s, _d, now) => s.onPeerDisconnect(now),
    },
    open: {
      // Our accept was lost: the requester is still asking.
      connect_request: (s) => s.sendAccept(),
      text: (s, d, now) => s.onText(d, now),
      heartbeat: (s, d, now) => s.onHeartbeat(d, now),
      ack: (s, d, now) => s.onAck(d, now),
      presence: (s, d, now) => s.onPresence(d, now),
      disconnect: (s, _d, now) => s.onPeerDisconnect(now),
    },
    lingering: {
      // Acknowledgements still count; new text from the peer is not taken.
      text: (s, d, now) => s.onTextWhileClosing(d, now),
      heartbeat: (s, d, now) => s.onHeartbeat(d, now),
      ack: (s, d, now) => s.onAck(d, now),
      disconnect: (s, _d, now) => s.onPeerDisconnect(now),
    },
    closing: {
      text: (s, d, now) => s.onTextWhileClosing(d, now),
      heartbeat: (s, d, now) => s.onHeartbeat(d, now),
      ack: () => {},
      disconnect_ack: (s, _d, now) => s.fire('disconnect_acknowledged', now),
      disconnect: (s, _d, now) => s.onPeerDisconnect(now),
    },
    draining: {
      connect_request: (s) => s.resendDecline(),
    },
    closed: {},
  };

  /** What each named timer does when it fires (`due` is the deadline it had). */
  static readonly timeouts: Record<TimerName, (session: Session, now: number, due: number) => void> = {
    connectRetry: (s, now) => s.onConnectRetry(now),
    connectGiveUp: (s, now) => s.onConnectGiveUp(now),
    requestExpiry: (s, now) => s.onRequestExpired(now),
    heartbeat: (s, now, due) => s.onHeartbeatDue(now, due),
    liveness: (s, now) => s.onLivenessCheck(now),
    keepaliveProbe: (s, now) => s.onKeepaliveProbe(now),
    probeAnswer: (s, now) => s.onProbeAnswerDue(now),
    retransmit: (s, now) => s.onRetransmitDue(now),
    ack: (s, now) => s.sendAck(now),
    linger: (s, now) => s.onLingerOver(now),
    disconnectRetry: (s, now) => s.onDisconnectRetry(now),
    drain: (s, now) => s.fire('drained', now),
  };
}

const ENTER = Session.enter;
const HANDLERS = Session.handlers;
const TIMEOUTS = Session.timeouts;

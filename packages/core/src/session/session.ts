/**
 * One conversation with one peer.
 *
 * Theory of operation. A session is born `connecting` (we asked: a connect request is resent
 * with backoff until the peer accepts, declines, or the connect timeout passes) or `requested`
 * (the peer asked: the application accepts or declines). Once `open`, both sides send a
 * heartbeat on a fixed grid of intervals and answer each other's heartbeats with an `ack`, text
 * travels reliably (see ReliableSender / ReliableReceiver), and any valid datagram from the peer
 * proves it alive (liveness.ts). Closing first lingers (`lingering`) until the messages in flight
 * are acknowledged, like TCP's FIN after the data, then sends a disconnect (`closing`), resent
 * until acknowledged or disconnectAttempts run out. A declined request stays `draining` to
 * answer the requester's retransmissions. `closed` is final: the endpoint forgets the session.
 *
 * Where things live, one concept a file:
 * - transitions.ts: every state change, as a table (h11-style); reached only through `fire`.
 * - timers.ts: the named timers (quinn-style); timeouts.ts: what each does when it fires.
 * - state-changes.ts: `fire`'s work: the table's next state, then what entering it does.
 * - datagram-handlers.ts: what each datagram does in each state (HANDLERS).
 * - liveness.ts: heartbeats on the grid, missed intervals, probes.
 * - outgoing.ts: building what is sent, and the acknowledgements every datagram carries.
 * - connect-close.ts: connect retries, request expiry, the lingering close, disconnects; what
 *   entering each state does (ENTER in state-changes.ts points there).
 * - features.ts: what the peer supports (capabilities), exchanged as the session opens.
 * - stream-handlers.ts: the stream messages of an open session, to its streams (streams/).
 * - context.ts: the route, what the session needs of its endpoint, what the application sees.
 * This file keeps the session's record and the application's calls.
 *
 * The session does not know about sockets, clocks or other sessions: the endpoint hands it
 * datagrams, the time and timeouts.
 */
import type { Address } from '../address.js';
import { errors } from '../errors.js';
import type { MessageId, PeerFeatures, SessionId } from '../events.js';
import { fingerprint, toHex } from '../secure/crypto.js';
import type { StreamSet } from '../streams/stream-set.js';
import type { ConnectRequest, Datagram, Decline, DeclineReason } from '../wire/messages.js';
import type { Route, SessionContext, SessionInfo } from './context.js';

export { type CloseOptions, checkedLinger, type Linger } from './connect-close.js';

import {
  checkLingerDone,
  failUndelivered,
  type Linger,
  limitLinger,
  refreshRequestExpiry,
} from './connect-close.js';
import { HANDLERS, type Handler } from './datagram-handlers.js';
import { announceFeatures } from './features.js';
import { Liveness } from './liveness.js';
import {
  armRetransmit,
  sendAccept,
  sendConnectRequest,
  sendWithdrawal,
  transmitFragments,
} from './outgoing.js';
import { sendPresence } from './presence.js';
import { ReliableReceiver } from './reliable-receiver.js';
import { ReliableSender } from './reliable-sender.js';
import { HeartbeatSampler, RttEstimator } from './rtt-estimator.js';
import { changeState } from './state-changes.js';
import { TIMEOUTS } from './timeouts.js';
import { TIMER_NAMES, Timers } from './timers.js';
import { type SessionEvent, type SessionState, TRANSITIONS } from './transitions.js';

export type { Route, SessionContext, SessionInfo } from './context.js';
export { PRESENCE_BURST, presencePace } from './presence.js';
export type { SessionEvent, SessionState } from './transitions.js';

/**
 * The session's record. Its fields are the session's own: only this file and the concept files
 * beside it (listed above) read or write them; nothing outside `session/` does (the endpoint
 * reads `state`, `id`, `wireId`, `route` and `peer`, and calls `rerouted` when it moves a request to
 * a new handshake).
 */
export class Session {
  state: SessionState;
  peerNick = '';
  /** Whether our last presence said we are typing (a nick change repeats it). */
  typing = false;
  readonly timers = new Timers();
  readonly rtt: RttEstimator;
  readonly heartbeatRtt = new HeartbeatSampler();
  readonly sender: ReliableSender;
  readonly receiver: ReliableReceiver;
  readonly liveness: Liveness;
  connectAttempts = 0;
  connectDelay: number;
  disconnectsSent = 0;
  declineSent: Decline | undefined;
  /** What the peer supports (features.ts); undefined until it said so or the session opened without it. */
  peerFeatures: PeerFeatures | undefined;
  /** The peer's `features` arrived (else we ask for them). */
  featuresHeard = false;
  /** Asks for the peer's features sent since the session opened without them (features.ts). */
  featureAsks = 0;
  /** The session's streams, made at the first one (streams/stream-set.ts). */
  streams: StreamSet | undefined;
  /** We picked the wire id (our request opened the session): our streams have even ids. */
  pickedWireId: boolean;
  /**
   * The session ended by a clean close: a `disconnect` one side sent and the other acknowledged
   * (ours acknowledged, or the peer's received and answered). Both sides then know it is over,
   * so the endpoint need not keep its channel for late packets (PROTOCOL.md, Channels).
   */
  endedCleanly = false;

  private constructor(
    readonly ctx: SessionContext,
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
    this.pickedWireId = initiator;
    this.connectDelay = o.connectRetryInitial;
    this.rtt = new RttEstimator(o.minRto, o.maxRto);
    this.sender = new ReliableSender(o.window, this.rtt);
    this.receiver = new ReliableReceiver(o.window, o.maxMessageBytes);
    this.liveness = new Liveness(this, now);
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
    session.liveness.agree(request.heartbeatMs);
    session.seedRtt();
    refreshRequestExpiry(session, now);
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

  /**
   * Our request moves to a new route (a new handshake: the old channel went dead). It goes again
   * as a first one once that route opens, rather than at a retry the dead route backed off.
   */
  rerouted(route: Route): void {
    this.route = route;
    if (this.state !== 'connecting') return;
    this.connectAttempts = 0;
    this.connectDelay = this.ctx.options.connectRetryInitial;
    this.timers.clear('connectRetry');
  }

  /** The route finished its handshake: now the request can go. */
  routeOpened(now: number): void {
    if (this.state !== 'connecting' || this.connectAttempts > 0) return;
    this.seedRtt();
    sendConnectRequest(this, now);
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
      lastHeard: this.liveness.lastHeard,
      missedHeartbeats: this.liveness.missed,
      pendingMessages: this.sender.pendingMessages,
      peerFeatures: this.peerFeatures,
      peerFeaturesHeard: this.featuresHeard,
    };
  }

  nextDeadline(): number | undefined {
    return this.timers.next();
  }

  // ---- the application's calls ------------------------------------------------------------

  /** Throws NOT_A_REQUEST unless the session is `requested`. */
  accept(now: number): void {
    this.acceptRequest(now);
    announceFeatures(this, now);
  }

  private acceptRequest(now: number): void {
    if (this.state !== 'requested') throw errors.notARequest(this.id);
    sendAccept(this);
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
    // A message that goes at once is encoded now; one that must wait is kept as the string (the
    // sender encodes it when it goes) and only measured. Buffer.from, not TextEncoder: small
    // strings are carved out of Node's pool (~0.1 µs), where TextEncoder gives each a zeroed
    // backing store of its own (~1 µs, a tenth of a round trip).
    const sender = this.sender;
    const waits = sender.backlogged;
    const bytes = waits ? undefined : Buffer.from(text, 'utf8');
    const length = bytes ? bytes.length : Buffer.byteLength(text, 'utf8');
    if (length === 0) throw errors.emptyMessage();
    const { maxMessageBytes, maxQueuedBytes } = this.ctx.options;
    if (length > maxMessageBytes) throw errors.messageTooLarge(length, maxMessageBytes);
    if (sender.queuedBytes + length > maxQueuedBytes) throw errors.sendQueueFull(maxQueuedBytes);
    if (bytes) sender.enqueue(messageId, bytes);
    else sender.enqueue(messageId, text, length);
    // A message ends typing at the peer (PROTOCOL.md, Presence): a later presence says idle.
    this.typing = false;
    transmitFragments(this, sender.takeNew(now), now);
    armRetransmit(this);
  }

  /** Tells the peer our nick and whether we are typing (presence.ts); false unless open. */
  sendPresence(typing?: boolean): boolean {
    return sendPresence(this, typing);
  }

  /**
   * Closes: declines a request, withdraws our own, and an open session lingers first (`linger`:
   * see Linger) until what is in flight is delivered. Closing a lingering session again may only
   * shorten its linger; elsewhere closing means nothing more and is ignored.
   */
  close(now: number, linger: Linger = true): void {
    if (this.state === 'requested') {
      this.decline(now, 'declined', '');
      return;
    }
    if (this.state === 'lingering') {
      limitLinger(this, now, linger);
      return;
    }
    if (TRANSITIONS[this.state].close === undefined) return;
    // Withdraw our request once, so the peer stops asking its user.
    if (this.state === 'connecting') sendWithdrawal(this);
    this.fire('close', now);
    // Still lingering (something is in flight): the caller's limit applies.
    if ((this.state as SessionState) === 'lingering') limitLinger(this, now, linger);
  }

  /** The channel's path took a stream acknowledgement: a close that waits for stream bytes may go on. */
  streamsAcknowledged(now: number): void {
    if (this.state === 'lingering') checkLingerDone(this, now);
  }

  /**
   * The peer restarted: its key completed a new handshake from the same address, so this
   * session's channel is dead. End at once (undelivered messages fail) and say why.
   */
  supersede(now: number): void {
    if (this.state === 'closed') return;
    failUndelivered(this, 'peer_restarted');
    this.fire('peer_restarted', now);
    this.ctx.emit({ type: 'closed', session: this.id, peer: this.peer, reason: 'peer_restarted' });
  }

  /**
   * The peer's key appeared from another address: ask this channel at once whether the peer is
   * still here, and lose it unless something is heard within 2 RTO. Only while open or lingering.
   */
  probe(now: number): void {
    if (this.state !== 'open' && this.state !== 'lingering') return;
    this.liveness.probe(now);
  }

  /** Simultaneous open: the peer's request won the tie-break, so take its id and the channel it came on, and accept it. */
  adoptPeerRequest(request: ConnectRequest, route: Route, now: number): void {
    this.route = route;
    this.wireId = request.session;
    this.pickedWireId = false;
    this.peerNick = request.nick;
    this.liveness.agree(request.heartbeatMs);
    this.seedRtt();
    sendAccept(this);
    this.fire('adopted', now);
    this.emitAccepted(request.nick);
    announceFeatures(this, now);
  }

  /** The application connects to a peer whose request is waiting: that is a yes. */
  acceptAsConnect(now: number): void {
    this.acceptRequest(now);
    this.emitAccepted(this.peerNick);
    announceFeatures(this, now);
  }

  // ---- datagrams and time -----------------------------------------------------------------

  handle(datagram: Datagram, now: number): void {
    const handler = (HANDLERS[this.state] as Record<string, Handler | undefined>)[datagram.type];
    if (!handler) return;
    // Any valid datagram of the session that its state acts on proves the peer alive.
    this.liveness.heard(now);
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

  /** The one place the state changes: by the table, then what entering the new state does (state-changes.ts). */
  fire(event: SessionEvent, now: number): void {
    changeState(this, event, now);
  }

  emitAccepted(nick: string): void {
    this.ctx.emit({ type: 'accepted', session: this.id, peer: this.peer, nick, ...this.identity() });
  }

  /** The handshake's round trip is the first estimate, so an accepted session knows its RTT at once. */
  private seedRtt(): void {
    const measured = this.route.handshakeRtt;
    if (measured !== undefined) this.rtt.seed(measured);
  }
}

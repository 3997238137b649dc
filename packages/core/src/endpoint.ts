/**
 * A sans-IO netchat endpoint: every session of one local port. Feed it datagrams with
 * `handleDatagram(bytes, from, now)` and expiries with `handleTimeout(now)`; take what to send
 * with `pollTransmit()`, what happened with `pollEvent()`, and when to call again with
 * `nextTimeout()`. It owns no socket, timer or clock, so it runs the same on virtual time.
 *
 * It routes each datagram to its session by (peer address, session id), answers datagrams
 * for sessions it does not know (so a peer that restarted learns quickly), breaks the tie when
 * two peers ask each other at once, and bounds the sessions any peers can make it hold.
 */
import { type Address, formatAddress } from './address.js';
import { errors } from './errors.js';
import type { MessageId, NetchatEvent, SessionId } from './events.js';
import { DeadlineQueue } from './deadline-queue.js';
import { EndpointOptions, type EndpointOptionsInput, resolveOptions } from './options.js';
import { Session, type SessionContext, type SessionInfo } from './session/session.js';
import { decodeDatagram, encodeDatagram } from './wire/codec.js';
import { type ConnectRequest, type Datagram, Decline, type DeclineReason } from './wire/messages.js';

export interface Transmit {
  readonly to: Address;
  readonly data: Uint8Array;
}

export interface EndpointStats {
  datagramsIn: number;
  datagramsOut: number;
  /** Datagrams that failed to decode or validate: dropped. */
  malformed: number;
  /** Valid datagrams that broke the session rules (bad fragments, invalid UTF-8 text): dropped. */
  protocolErrors: number;
  /** Valid datagrams for a session this endpoint does not have. */
  unknownSession: number;
  /** Connect requests declined because maxSessions or maxSessionsPerPeer was reached. */
  refusedOverLimit: number;
  /** Why the most recent malformed or protocol-breaking datagram was dropped. */
  lastDropReason: string;
}

export interface EndpointDependencies {
  /** A uniformly random unsigned 32-bit integer; session ids come from it. */
  randomU32?: () => number;
}

export class Endpoint {
  readonly options: EndpointOptions;
  readonly stats: EndpointStats = {
    datagramsIn: 0,
    datagramsOut: 0,
    malformed: 0,
    protocolErrors: 0,
    unknownSession: 0,
    refusedOverLimit: 0,
    lastDropReason: '',
  };
  private readonly sessions = new Map<SessionId, Session>();
  /** Sessions by `${peer}/${wireId}`: how datagrams find their session. */
  private readonly byWire = new Map<string, Session>();
  /** Our outgoing requests by peer, to notice two peers asking each other at once. */
  private readonly connecting = new Map<string, Session>();
  /** Requests waiting for the application, by peer, so connecting to that peer accepts. */
  private readonly requested = new Map<string, Session>();
  /** How many sessions each peer address has, for maxSessionsPerPeer. */
  private readonly perPeer = new Map<string, number>();
  private readonly deadlines = new DeadlineQueue<Session>((s) => s.nextDeadline());
  private readonly scheduled = new Map<Session, number>();
  private readonly outbox: Transmit[] = [];
  private outboxHead = 0;
  private readonly events: NetchatEvent[] = [];
  private eventsHead = 0;
  private nextSessionId = 1;
  private nextMessageId = 1;
  private readonly randomU32: () => number;
  private readonly context: SessionContext;

  constructor(options: EndpointOptionsInput = {}, dependencies: EndpointDependencies = {}) {
    this.options = resolveOptions(options);
    this.randomU32 =
      dependencies.randomU32 ?? (() => crypto.getRandomValues(new Uint32Array(1))[0] as number);
    this.context = {
      options: this.options,
      transmit: (to, datagram) => this.transmit(to, datagram),
      emit: (event) => this.events.push(event),
      protocolError: (reason) => this.drop('protocolErrors', reason),
    };
  }

  // ---- the application's calls --------------------------------------------------------------

  /** Asks `peer` to chat. If that peer is already asking us, this accepts its request instead. */
  connect(peer: Address, now: number): SessionId {
    const key = formatAddress(peer);
    const waiting = this.requested.get(key);
    if (waiting) {
      this.requested.delete(key);
      waiting.acceptAsConnect(now);
      this.settle(waiting);
      return waiting.id;
    }
    if (this.sessions.size >= this.options.maxSessions)
      throw errors.tooManySessions(this.options.maxSessions);
    const session = Session.outgoing(this.context, this.nextSessionId++, this.randomU32(), peer, now);
    this.register(session);
    this.connecting.set(key, session);
    this.settle(session);
    return session.id;
  }

  accept(id: SessionId, now: number): void {
    const session = this.get(id);
    session.accept(now);
    this.requested.delete(formatAddress(session.peer));
    this.settle(session);
  }

  decline(id: SessionId, now: number, reason: DeclineReason = 'declined', detail = ''): void {
    const checked = Decline.fields.detail.schema.safeParse(detail);
    if (!checked.success)
      throw errors.invalidArgument('decline detail', checked.error.issues[0]?.message ?? '');
    const session = this.get(id);
    session.decline(now, reason, detail);
    this.requested.delete(formatAddress(session.peer));
    this.settle(session);
  }

  /** Queues `text` for reliable, ordered delivery; a `delivered` or `failed` event follows. */
  send(id: SessionId, text: string, now: number): MessageId {
    const session = this.get(id);
    const messageId = this.nextMessageId;
    session.send(messageId, text, now);
    this.nextMessageId++;
    this.settle(session);
    return messageId;
  }

  /** Closes a session (declines it, if it is a request). Undelivered messages fail. */
  close(id: SessionId, now: number): void {
    const session = this.sessions.get(id);
    if (!session) return;
    session.close(now);
    this.settle(session);
  }

  /** Closes every session. */
  closeAll(now: number): void {
    for (const id of [...this.sessions.keys()]) this.close(id, now);
  }

  /** Changes the nick sent with future requests and accepts. Throws INVALID_ARGUMENT if it cannot go on the wire. */
  setNick(nick: string): void {
    const checked = EndpointOptions.shape.nick.safeParse(nick);
    if (!checked.success) throw errors.invalidArgument('nick', checked.error.issues[0]?.message ?? '');
    this.options.nick = checked.data;
  }

  session(id: SessionId): SessionInfo | undefined {
    return this.sessions.get(id)?.info();
  }

  listSessions(): SessionInfo[] {
    return [...this.sessions.values()].map((s) => s.info());
  }

  /** True while any session exists (closing ones included) or anything waits to be sent. */
  get busy(): boolean {
    return this.sessions.size > 0 || this.outboxHead < this.outbox.length;
  }

  // ---- input --------------------------------------------------------------------------------

  /**
   * One datagram from `from`. Never throws: a datagram that fails to decode or validate is
   * dropped and counted. The endpoint keeps views of `bytes`; the caller must not reuse them.
   */
  handleDatagram(bytes: Uint8Array, from: Address, now: number): void {
    this.stats.datagramsIn++;
    const decoded = decodeDatagram(bytes);
    if (!decoded.ok) {
      this.drop('malformed', decoded.reason);
      return;
    }
    const datagram = decoded.datagram;
    const peerKey = formatAddress(from);
    const session = this.byWire.get(`${peerKey}/${datagram.session}`);
    if (session) {
      session.handle(datagram, now);
      this.settle(session);
    } else if (datagram.type === 'connect_request') {
      this.onNewRequest(datagram, from, peerKey, now);
    } else {
      this.onUnknownSession(datagram, from);
    }
  }

  handleTimeout(now: number): void {
    for (const session of this.deadlines.takeDue(now)) {
      this.scheduled.delete(session);
      session.handleTimeout(now);
      this.settle(session);
    }
  }

  // ---- output -------------------------------------------------------------------------------

  pollTransmit(): Transmit | undefined {
    if (this.outboxHead >= this.outbox.length) return undefined;
    const next = this.outbox[this.outboxHead++];
    if (this.outboxHead === this.outbox.length) this.outbox.length = this.outboxHead = 0;
    return next;
  }

  pollEvent(): NetchatEvent | undefined {
    if (this.eventsHead >= this.events.length) return undefined;
    const next = this.events[this.eventsHead++];
    if (this.eventsHead === this.events.length) this.events.length = this.eventsHead = 0;
    return next;
  }

  /** When `handleTimeout` must next be called (endpoint clock, ms), or undefined if never. */
  nextTimeout(): number | undefined {
    return this.deadlines.peek();
  }

  // ---- internals ----------------------------------------------------------------------------

  private onNewRequest(request: ConnectRequest, from: Address, peerKey: string, now: number): void {
    const ours = this.connecting.get(peerKey);
    if (ours && ours.state === 'connecting') {
      // Both asked at once. The larger id wins on both sides, so they agree on one session.
      if (request.session < ours.wireId) return;
      if (request.session === ours.wireId) return; // cannot tell the two apart; our retry will differ
      this.byWire.delete(`${peerKey}/${ours.wireId}`);
      ours.adoptPeerRequest(request, now);
      this.byWire.set(`${peerKey}/${ours.wireId}`, ours);
      this.settle(ours);
      return;
    }
    const { maxSessions, maxSessionsPerPeer } = this.options;
    if (this.sessions.size >= maxSessions || (this.perPeer.get(peerKey) ?? 0) >= maxSessionsPerPeer) {
      this.stats.refusedOverLimit++;
      this.transmit(from, {
        type: 'decline',
        session: request.session,
        reason: 'too_many_sessions',
        detail: '',
      });
      return;
    }
    const session = Session.incoming(this.context, this.nextSessionId++, request, from, now);
    this.register(session);
    this.requested.set(peerKey, session);
    this.settle(session);
  }

  /**
   * A datagram for a session we do not have (we restarted, or it ended). Tell an accepting or
   * talking peer that the session is gone; acknowledge a disconnect so its retries stop. Each
   * answer is no larger than what it answers, and answers are never answered.
   */
  private onUnknownSession(datagram: Datagram, from: Address): void {
    this.stats.unknownSession++;
    const session = datagram.session;
    if (datagram.type === 'disconnect') this.transmit(from, { type: 'disconnect_ack', session });
    else if (datagram.type === 'accept' || datagram.type === 'text' || datagram.type === 'heartbeat') {
      this.transmit(from, { type: 'disconnect', session });
    }
  }

  private register(session: Session): void {
    const key = formatAddress(session.peer);
    this.sessions.set(session.id, session);
    this.byWire.set(`${key}/${session.wireId}`, session);
    this.perPeer.set(key, (this.perPeer.get(key) ?? 0) + 1);
  }

  /** After anything touched a session: forget it if it ended, else reschedule its deadline. */
  private settle(session: Session): void {
    if (session.state === 'closed') {
      const key = formatAddress(session.peer);
      this.sessions.delete(session.id);
      this.byWire.delete(`${key}/${session.wireId}`);
      if (this.connecting.get(key) === session) this.connecting.delete(key);
      if (this.requested.get(key) === session) this.requested.delete(key);
      this.scheduled.delete(session);
      const left = (this.perPeer.get(key) ?? 1) - 1;
      if (left > 0) this.perPeer.set(key, left);
      else this.perPeer.delete(key);
      return;
    }
    if (session.state !== 'connecting' && this.connecting.get(formatAddress(session.peer)) === session) {
      this.connecting.delete(formatAddress(session.peer));
    }
    const at = session.nextDeadline();
    if (at !== undefined && this.scheduled.get(session) !== at) {
      this.scheduled.set(session, at);
      this.deadlines.push(session, at);
    }
  }

  private get(id: SessionId): Session {
    const session = this.sessions.get(id);
    if (!session) throw errors.noSuchSession(id);
    return session;
  }

  private transmit(to: Address, datagram: Datagram): void {
    this.stats.datagramsOut++;
    this.outbox.push({ to, data: encodeDatagram(datagram) });
  }

  private drop(counter: 'malformed' | 'protocolErrors', reason: string): void {
    this.stats[counter]++;
    this.stats.lastDropReason = reason;
  }
}

/**
 * A sans-IO netchat endpoint: every session of one local port. Feed it datagrams with
 * `handleDatagram(bytes, from, now)` and expiries with `handleTimeout(now)`; take what to send
 * with `pollTransmit()`, what happened with `pollEvent()`, and when to call again with
 * `nextTimeout()`. It owns no socket, timer or clock, so it runs the same on virtual time.
 *
 * Every datagram goes through the secure layer (SecureTransport): a Noise handshake makes a
 * channel, and sessions speak over channels, never in clear. The endpoint routes each session
 * message by (channel, session id), answers messages for sessions it does not have, breaks the
 * tie when two peers ask each other at once, and bounds the sessions peers can make it hold.
 */
import { type Address, formatAddress } from './address.js';
import { DeadlineQueue } from './deadline-queue.js';
import { errors } from './errors.js';
import type { MessageId, NetchatEvent, SessionId } from './events.js';
import { EndpointOptions, type EndpointOptionsInput, resolveOptions } from './options.js';
import type { Channel } from './secure/channel.js';
import { generateKeyPair, type KeyPair, randomBytes } from './secure/crypto.js';
import { DEFAULT_SECURE_OPTIONS, SecureTransport, type SecureStats } from './secure/secure-transport.js';
import { Session, type SessionContext, type SessionInfo } from './session/session.js';
import {
  type ConnectRequest,
  type Datagram,
  Decline,
  type DeclineReason,
  decodeDatagram,
  encodeDatagram,
} from './wire/messages.js';

export interface Transmit {
  readonly to: Address;
  readonly data: Uint8Array;
  /** The session message this packet carries, for diagnostics and tests (it is sent encrypted). */
  readonly message?: Datagram;
}

export interface EndpointStats {
  datagramsIn: number;
  datagramsOut: number;
  /** Session messages (inside authentic packets) that failed to decode or validate: dropped. */
  malformed: number;
  /** Valid session messages that broke the session rules (bad fragments, invalid UTF-8 text): dropped. */
  protocolErrors: number;
  /** Valid session messages for a session this endpoint does not have. */
  unknownSession: number;
  /** Connect requests declined because maxSessions or maxSessionsPerPeer was reached. */
  refusedOverLimit: number;
  /** Why the most recent malformed or protocol-breaking message was dropped. */
  lastDropReason: string;
}

export interface EndpointDependencies {
  /** A uniformly random unsigned 32-bit integer; session ids come from it. */
  randomU32?: () => number;
  /** Random bytes for keys, indices and cookies. */
  randomBytes?: (length: number) => Uint8Array;
  /** Our long-term key pair; a new one if not given. */
  identity?: KeyPair;
}

export class Endpoint {
  readonly options: EndpointOptions;
  readonly identity: KeyPair;
  readonly stats: EndpointStats = {
    datagramsIn: 0,
    datagramsOut: 0,
    malformed: 0,
    protocolErrors: 0,
    unknownSession: 0,
    refusedOverLimit: 0,
    lastDropReason: '',
  };
  private readonly secure: SecureTransport;
  private readonly sessions = new Map<SessionId, Session>();
  /** Sessions by `${channel}/${session id}`: how messages find their session. */
  private readonly byWire = new Map<string, Session>();
  /** Our outgoing requests by peer address, to notice two peers asking each other at once. */
  private readonly connecting = new Map<string, Session>();
  /** Requests waiting for the application, by peer address, so connecting to that peer accepts. */
  private readonly requested = new Map<string, Session>();
  /** Outgoing sessions waiting for their channel's handshake, by channel. */
  private readonly awaitingRoute = new Map<number, Session>();
  /** The peer address each session counts against, for maxSessionsPerPeer. */
  private readonly countedUnder = new Map<Session, string>();
  private readonly perPeer = new Map<string, number>();
  private readonly perChannel = new Map<number, number>();
  private readonly deadlines = new DeadlineQueue<Session>((s) => s.nextDeadline());
  private readonly scheduled = new Map<Session, number>();
  private readonly outbox: Transmit[] = [];
  private outboxHead = 0;
  private readonly events: NetchatEvent[] = [];
  private eventsHead = 0;
  private nextSessionId = 1;
  private nextMessageId = 1;
  /** The latest time any call brought: sealing needs it, and sessions transmit without one. */
  private now = 0;
  /** The session message being sealed, so its packet can name it (Transmit.message). */
  private sealing: Datagram | undefined;
  private readonly randomU32: () => number;
  private readonly context: SessionContext;

  constructor(options: EndpointOptionsInput = {}, dependencies: EndpointDependencies = {}) {
    this.options = resolveOptions(options);
    this.randomU32 =
      dependencies.randomU32 ?? (() => crypto.getRandomValues(new Uint32Array(1))[0] as number);
    this.identity = dependencies.identity ?? generateKeyPair();
    const o = this.options;
    this.secure = new SecureTransport(
      this.identity,
      {
        transmit: (to, data) => {
          this.stats.datagramsOut++;
          this.outbox.push(this.sealing ? { to, data, message: this.sealing } : { to, data });
        },
        opened: (channel, now) => this.onChannelOpened(channel, now),
        message: (channel, plaintext, now) => this.onSessionMessage(channel, plaintext, now),
      },
      {
        ...DEFAULT_SECURE_OPTIONS,
        handshakeRetryInitial: o.connectRetryInitial,
        handshakeRetryMax: o.connectRetryMax,
        handshakeTimeout: o.connectTimeout,
        unusedChannelTtl: o.connectTimeout,
      },
      dependencies.randomBytes ?? randomBytes,
    );
    this.context = {
      options: this.options,
      transmit: (route, datagram) => this.transmit(route as Channel, datagram),
      emit: (event) => this.events.push(event),
      protocolError: (reason) => this.drop('protocolErrors', reason),
    };
  }

  /** Counts kept by the secure layer: forged, replayed, handshakes refused, paths moved. */
  get secureStats(): Readonly<SecureStats> {
    return this.secure.stats;
  }

  /** How much the secure layer holds (channels, half-done handshakes): bounded under floods. */
  get secureSizes(): { channels: number; pending: number; rateLimitedAddresses: number } {
    return this.secure.sizes;
  }

  // ---- the application's calls --------------------------------------------------------------

  /**
   * Asks `peer` to chat: a handshake first, then the request. If that peer is already asking
   * us, this accepts its request instead.
   */
  connect(peer: Address, now: number): SessionId {
    this.now = now;
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
    const channel = this.secure.connect(peer, now);
    const session = Session.outgoing(this.context, this.nextSessionId++, this.randomU32(), channel, now);
    this.register(session, key);
    this.connecting.set(key, session);
    this.awaitingRoute.set(channel.id, session);
    this.settle(session);
    return session.id;
  }

  accept(id: SessionId, now: number): void {
    this.now = now;
    const session = this.get(id);
    session.accept(now);
    this.requested.delete(formatAddress(session.peer));
    this.settle(session);
  }

  decline(id: SessionId, now: number, reason: DeclineReason = 'declined', detail = ''): void {
    this.now = now;
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
    this.now = now;
    const session = this.get(id);
    const messageId = this.nextMessageId;
    session.send(messageId, text, now);
    this.nextMessageId++;
    this.settle(session);
    return messageId;
  }

  /** Closes a session (declines it, if it is a request). Undelivered messages fail. */
  close(id: SessionId, now: number): void {
    this.now = now;
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
   * One datagram from `from`. Never throws: anything that fails to decode, authenticate or
   * validate is dropped and counted. The endpoint keeps views of `bytes`; do not reuse them.
   */
  handleDatagram(bytes: Uint8Array, from: Address, now: number): void {
    this.now = now;
    this.stats.datagramsIn++;
    this.secure.receive(bytes, from, now);
  }

  handleTimeout(now: number): void {
    this.now = now;
    this.secure.handleTimeout(now);
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
    const sessions = this.deadlines.peek();
    const secure = this.secure.nextTimeout();
    if (sessions === undefined) return secure;
    return secure === undefined ? sessions : Math.min(sessions, secure);
  }

  // ---- internals ----------------------------------------------------------------------------

  private onChannelOpened(channel: Channel, now: number): void {
    const waiting = this.awaitingRoute.get(channel.id);
    if (!waiting) return;
    this.awaitingRoute.delete(channel.id);
    waiting.routeOpened(now);
    this.settle(waiting);
  }

  private onSessionMessage(channel: Channel, plaintext: Uint8Array, now: number): void {
    const decoded = decodeDatagram(plaintext);
    if (!decoded.ok) {
      this.drop('malformed', decoded.reason);
      return;
    }
    const datagram = decoded.datagram;
    const session = this.byWire.get(`${channel.id}/${datagram.session}`);
    if (session) {
      session.handle(datagram, now);
      this.settle(session);
    } else if (datagram.type === 'connect_request') {
      this.onNewRequest(datagram, channel, now);
    } else {
      this.onUnknownSession(datagram, channel);
    }
  }

  private onNewRequest(request: ConnectRequest, channel: Channel, now: number): void {
    const peerKey = formatAddress(channel.address);
    const ours = this.connecting.get(peerKey);
    if (ours && ours.state === 'connecting') {
      // Both asked at once. The larger id wins on both sides, so they agree on one session.
      if (request.session < ours.wireId) return;
      if (request.session === ours.wireId) return; // cannot tell the two apart; both will time out
      this.unbind(ours);
      ours.adoptPeerRequest(request, channel, now);
      this.bind(ours);
      this.settle(ours);
      return;
    }
    const { maxSessions, maxSessionsPerPeer } = this.options;
    if (this.sessions.size >= maxSessions || (this.perPeer.get(peerKey) ?? 0) >= maxSessionsPerPeer) {
      this.stats.refusedOverLimit++;
      this.transmit(channel, {
        type: 'decline',
        session: request.session,
        reason: 'too_many_sessions',
        detail: '',
      });
      return;
    }
    const session = Session.incoming(this.context, this.nextSessionId++, request, channel, now);
    this.register(session, peerKey);
    this.requested.set(peerKey, session);
    this.settle(session);
  }

  /**
   * A message for a session we do not have (it ended, or we restarted and the peer made a new
   * channel). Tell an accepting or talking peer that the session is gone; acknowledge a
   * disconnect so its retries stop. Answers are never answered.
   */
  private onUnknownSession(datagram: Datagram, channel: Channel): void {
    this.stats.unknownSession++;
    const session = datagram.session;
    if (datagram.type === 'disconnect') this.transmit(channel, { type: 'disconnect_ack', session });
    else if (datagram.type === 'accept' || datagram.type === 'text' || datagram.type === 'heartbeat') {
      this.transmit(channel, { type: 'disconnect', session });
    }
  }

  private register(session: Session, peerKey: string): void {
    this.sessions.set(session.id, session);
    this.countedUnder.set(session, peerKey);
    this.perPeer.set(peerKey, (this.perPeer.get(peerKey) ?? 0) + 1);
    this.bind(session);
  }

  /** Routes a session's messages to it, and keeps its channel alive. */
  private bind(session: Session): void {
    const channel = session.route as Channel;
    this.byWire.set(`${channel.id}/${session.wireId}`, session);
    this.perChannel.set(channel.id, (this.perChannel.get(channel.id) ?? 0) + 1);
    this.secure.retain(channel);
  }

  /** The opposite of bind; an unused channel is closed after a while. */
  private unbind(session: Session): void {
    const channel = session.route as Channel;
    this.byWire.delete(`${channel.id}/${session.wireId}`);
    this.awaitingRoute.delete(channel.id);
    const left = (this.perChannel.get(channel.id) ?? 1) - 1;
    if (left > 0) this.perChannel.set(channel.id, left);
    else {
      this.perChannel.delete(channel.id);
      this.secure.release(channel, this.now);
    }
  }

  /** After anything touched a session: forget it if it ended, else reschedule its deadline. */
  private settle(session: Session): void {
    const key = formatAddress(session.peer);
    if (session.state === 'closed') {
      this.sessions.delete(session.id);
      this.unbind(session);
      if (this.connecting.get(key) === session) this.connecting.delete(key);
      if (this.requested.get(key) === session) this.requested.delete(key);
      this.scheduled.delete(session);
      const counted = this.countedUnder.get(session) ?? key;
      this.countedUnder.delete(session);
      const left = (this.perPeer.get(counted) ?? 1) - 1;
      if (left > 0) this.perPeer.set(counted, left);
      else this.perPeer.delete(counted);
      return;
    }
    if (session.state !== 'connecting' && this.connecting.get(key) === session) this.connecting.delete(key);
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

  private transmit(channel: Channel, datagram: Datagram): void {
    this.sealing = datagram;
    try {
      this.secure.send(channel, encodeDatagram(datagram), this.now);
    } finally {
      this.sealing = undefined;
    }
  }

  private drop(counter: 'malformed' | 'protocolErrors', reason: string): void {
    this.stats[counter]++;
    this.stats.lastDropReason = reason;
  }
}

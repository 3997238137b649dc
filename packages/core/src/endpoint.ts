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
 *
 * Restarts. One channel per peer address: our own second session to a peer reuses the channel
 * the first one speaks over. So when a handshake proves a key that already has sessions on
 * another channel, the peer has lost that channel: from the same address it restarted (its old
 * sessions end at once, `closed` with reason `peer_restarted`; only the key's holder can cause
 * this); from another address it may be a restart on a new port or a second device, so the old
 * sessions are probed at once instead of waiting out the heartbeats.
 */
import { type Address, formatAddress, sameAddress } from './address.js';
import { DeadlineQueue } from './deadline-queue.js';
import { errors } from './errors.js';
import { Fifo } from './fifo.js';
import type { MessageId, NetchatEvent, SessionId, StreamId } from './events.js';
import { EndpointOptions, type EndpointOptionsInput, resolveOptions } from './options.js';
import type { Channel } from './secure/channel.js';
import { generateKeyPair, type KeyPair, randomBytes, toHex } from './secure/crypto.js';
import { DEFAULT_SECURE_OPTIONS, SecureTransport, type SecureStats } from './secure/secure-transport.js';
import {
  type CloseOptions,
  checkedLinger,
  presencePace,
  Session,
  type SessionContext,
  type SessionInfo,
} from './session/session.js';
import { type SessionRecord, SessionTable } from './session-table.js';
import { ExtensionHost } from './extension-host.js';
import type { EndpointExtension, EndpointHost } from './rendezvous/extension.js';
import { EndpointStreams, type PathInfo } from './streams/endpoint-streams.js';
import type { StreamInfo } from './streams/stream-set.js';
import { legacyDecode } from './wire/legacy.js';
import {
  type ConnectRequest,
  type Datagram,
  Decline,
  type DeclineReason,
  decodeDatagram,
  encodeDatagram,
  MESSAGE_VERSION,
} from './wire/messages.js';

/** The longest gap between resent handshake inits (ms). */
export const HANDSHAKE_RETRY_MAX = 2_000;

export interface Transmit {
  readonly to: Address;
  readonly data: Uint8Array;
  /**
   * The session message this packet carries, for diagnostics and tests (it is sent encrypted);
   * for stream data only with EndpointDependencies.describeStreamPackets.
   */
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
  /** Sessions ended because their peer restarted (the same key handshook again from the same address). */
  superseded: number;
  /** Sessions probed because their peer's key appeared from another address. */
  probed: number;
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
  /**
   * Tests only: play a peer that predates capabilities and streams (issue 19): it drops their
   * messages as unknown codes and sends none of them, as netchat did before.
   */
  legacyPeer?: boolean;
  /** Name stream data packets in `Transmit.message` too (tests; it costs an object per packet). */
  describeStreamPackets?: boolean;
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
    superseded: 0,
    probed: 0,
    lastDropReason: '',
  };
  private readonly secure: SecureTransport;
  private readonly table = new SessionTable((path) => this.transport.retire(path));
  /** Records that ended by silence (`lost`): their channel is suspect. */
  private readonly lost = new WeakSet<SessionRecord>();
  /** Each record is filed under its `scheduledAt` (the heap skips stale entries). */
  private readonly deadlines = new DeadlineQueue<SessionRecord>((r) => r.scheduledAt);
  private readonly outbox = new Fifo<Transmit>();
  /** Stream data: sent after everything in `outbox` (chat first). */
  private readonly bulk = new Fifo<Transmit>();
  private sendingBulk = false;
  /** Streams, paths and their congestion control (streams/endpoint-streams.ts). */
  private readonly transport: EndpointStreams;
  private readonly decode: typeof decodeDatagram;
  private readonly events = new Fifo<NetchatEvent>();
  private nextSessionId = 1;
  private nextMessageId = 1;
  /** The latest time any call brought: sealing needs it, and sessions transmit without one. */
  private now = 0;
  /** The session message being sealed, so its packet can name it (Transmit.message). */
  private sealing: Datagram | undefined;
  private readonly randomU32: () => number;
  private readonly context: SessionContext;
  /** The host of a rendezvous role (rendezvous/*.ts), if one is in use (see extension-host.ts). */
  private role: ExtensionHost | undefined;

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
          if (this.role?.isVirtual(to)) {
            // A peer reached through the relay: the sealed packet goes inside a relay packet.
            const wrapped = this.role.wrap(to, data);
            if (!wrapped) return;
            to = wrapped.to;
            data = wrapped.data;
          }
          this.stats.datagramsOut++;
          (this.sendingBulk ? this.bulk : this.outbox).push(
            this.sealing ? { to, data, message: this.sealing } : { to, data },
          );
        },
        opened: (channel, now) => this.onChannelOpened(channel, now),
        message: (channel, plaintext, now) => this.onSessionMessage(channel, plaintext, now),
      },
      {
        ...DEFAULT_SECURE_OPTIONS,
        handshakeRetryInitial: o.connectRetryInitial,
        // An init that is lost costs a whole retry gap, and at heavy loss several are lost in a
        // row: a gap of at most 2 s opened 20 of 20 connects at 50% loss each way, 4 s only 17.
        handshakeRetryMax: Math.min(o.connectRetryMax, HANDSHAKE_RETRY_MAX),
        handshakeTimeout: o.connectTimeout,
        unusedChannelTtl: o.connectTimeout,
        // Every session may have its own channel, and handshakes that have not brought their
        // request yet need room too: the channel limit follows the session limit, never below it.
        maxChannels: 2 * o.maxSessions + 64,
      },
      dependencies.randomBytes ?? randomBytes,
    );
    this.context = {
      options: this.options,
      transmit: (route, datagram) => this.transmit(route as Channel, datagram),
      emit: (event) => {
        if (event.type === 'lost') {
          const record = this.table.get(event.session);
          if (record) this.lost.add(record);
        }
        if (this.role?.owns(event.session)) this.role.claim(event);
        else this.events.push(event);
      },
      protocolError: (reason) => this.drop('protocolErrors', reason),
      presencePace: presencePace(),
      sendsFeatures: !dependencies.legacyPeer,
      pathFor: (route) => this.transport.pathFor(route),
    };
    this.decode = dependencies.legacyPeer ? legacyDecode : decodeDatagram;
    this.transport = new EndpointStreams({
      options: this.options,
      describePackets: dependencies.describeStreamPackets ?? false,
      randomU32: this.randomU32,
      session: (id) => this.get(id).session,
      channelRecord: (channelId) => this.table.channel(channelId),
      protocolError: (reason) => this.drop('protocolErrors', reason),
      send: (route, message, plaintext, bulk) => {
        this.sealing = message;
        this.sendingBulk = bulk;
        const channel = route as Channel;
        try {
          // A channel that is not open keeps what it is given until it is: not the path's scratch.
          this.secure.send(channel, channel.isOpen ? plaintext : plaintext.slice(), this.now);
        } finally {
          this.sealing = undefined;
          this.sendingBulk = false;
        }
      },
    });
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
   * Asks `peer` to chat: a handshake first (unless a channel to that address is already in use),
   * then the request. If that peer is already asking us, this accepts its request instead.
   */
  connect(peer: Address, now: number): SessionId {
    this.now = now;
    const key = formatAddress(peer);
    const waiting = this.find(key, (s) => s.state === 'requested');
    if (waiting) {
      waiting.session.acceptAsConnect(now);
      this.settle(waiting);
      return waiting.session.id;
    }
    if (this.applicationSessions >= this.options.maxSessions)
      throw errors.tooManySessions(this.options.maxSessions);
    const reused = this.channelInUse(peer);
    const channel = reused?.channel ?? this.secure.connect(peer, now);
    const session = Session.outgoing(this.context, this.nextSessionId++, this.randomU32(), channel, now);
    const record = this.register(session, channel);
    if (reused && !reused.handshaking) {
      // The channel may have died with a peer that restarted: prove it alive before relying on it.
      this.probeChannel(this.table.channel(channel.id), now);
      session.routeOpened(now);
    }
    this.settle(record);
    return session.id;
  }

  accept(id: SessionId, now: number): void {
    this.now = now;
    const record = this.get(id);
    record.session.accept(now);
    this.settle(record);
  }

  decline(id: SessionId, now: number, reason: DeclineReason = 'declined', detail = ''): void {
    this.now = now;
    const checked = Decline.fields.detail.schema.safeParse(detail);
    if (!checked.success)
      throw errors.invalidArgument('decline detail', checked.error.issues[0]?.message ?? '');
    const record = this.get(id);
    record.session.decline(now, reason, detail);
    this.settle(record);
  }

  /** Queues `text` for reliable, ordered delivery; a `delivered` or `failed` event follows. */
  send(id: SessionId, text: string, now: number): MessageId {
    this.now = now;
    const record = this.get(id);
    const messageId = this.nextMessageId;
    record.session.send(messageId, text, now);
    this.nextMessageId++;
    this.settle(record);
    return messageId;
  }

  /**
   * Closes a session (declines it, if it is a request). An open one lingers first: its messages
   * in flight go on until delivered while the peer is alive and takes them (`linger: true`, the
   * default); `linger: false` closes at once, a number of ms lingers at most that long. What is
   * not delivered fails. Throws INVALID_ARGUMENT for a negative or non-finite linger.
   */
  close(id: SessionId, now: number, options: CloseOptions = {}): void {
    const linger = checkedLinger(options.linger ?? true);
    this.now = now;
    const record = this.table.get(id);
    if (!record) return;
    record.session.close(now, linger);
    this.settle(record);
  }

  /** Closes every session, as at shutdown: each lingers at most `closeLinger` unless `options` say otherwise. */
  closeAll(now: number, options: CloseOptions = {}): void {
    const linger = options.linger ?? this.options.closeLinger;
    for (const record of [...this.table.sessions()]) this.close(record.session.id, now, { linger });
  }

  /**
   * Changes the nick sent with future requests and accepts, and (given `now`) tells every open
   * session's peer in a `presence` if it changed. Throws INVALID_ARGUMENT if it cannot go on the wire.
   */
  setNick(nick: string, now?: number): void {
    const checked = EndpointOptions.shape.nick.safeParse(nick);
    if (!checked.success) throw errors.invalidArgument('nick', checked.error.issues[0]?.message ?? '');
    const changed = checked.data !== this.options.nick;
    this.options.nick = checked.data;
    if (!changed || now === undefined) return;
    this.now = now;
    for (const record of [...this.table.sessions()]) record.session.sendPresence();
  }

  /**
   * Tells an open session's peer whether we are typing, in one unreliable `presence` (with our
   * nick). The caller keeps the pace (PROTOCOL.md: at most one `typing` per
   * PRESENCE_TYPING_REFRESH_MS, then one `idle`). False, and nothing sent, unless the session is open.
   */
  setTyping(id: SessionId, typing: boolean, now: number): boolean {
    this.now = now;
    const record = this.table.get(id);
    if (!record) return false;
    return record.session.sendPresence(typing);
  }

  // ---- streams (README, Streams; PROTOCOL.md, Streams) ------------------------------------------

  /**
   * Opens a stream to the peer of an open session; we write it, the peer reads it. Throws
   * STREAMS_DISABLED (option `streams` off), STREAMS_UNSUPPORTED (a text-only peer: see the
   * `features` event), STREAM_LIMIT (wait for `streams_available`).
   */
  openStream(id: SessionId, now: number): StreamId {
    this.now = now;
    return this.transport.open(id);
  }

  /** Takes as much of `bytes` as the stream has room for now; returns how many (`stream_writable` tells of more room). */
  writeStream(id: SessionId, stream: StreamId, bytes: Uint8Array, now: number): number {
    this.now = now;
    return this.transport.write(id, stream, bytes, now);
  }

  /** No more bytes: the stream ends after what was written (`stream_finished` when the peer has it all). */
  finishStream(id: SessionId, stream: StreamId, now: number): void {
    this.now = now;
    this.transport.finish(id, stream, now);
  }

  /** Up to `max` bytes of a peer's stream, in order (empty if none wait); reading is what grows the peer's credit. */
  readStream(id: SessionId, stream: StreamId, max: number, now: number): Uint8Array {
    this.now = now;
    return this.transport.read(id, stream, max, now);
  }

  /** Cancels a stream: ours is reset, the peer's is asked to stop; `code` (0-65535) is told to the peer. */
  cancelStream(id: SessionId, stream: StreamId, now: number, code = 0): void {
    this.now = now;
    this.transport.cancel(id, stream, code, now);
  }

  streamInfo(id: SessionId, stream: StreamId): StreamInfo | undefined {
    return this.transport.info(id, stream);
  }

  /** Caps what goes to `address` (bytes/s; undefined lifts it): a relay's per-pair budget. */
  setPathRateLimit(address: Address, bytesPerSecond: number | undefined): void {
    this.transport.setRateLimit(address, bytesPerSecond);
  }

  /** The congestion state of the path to `address`, if streams were used on it. */
  pathInfo(address: Address): PathInfo | undefined {
    return this.transport.pathInfo(address);
  }

  session(id: SessionId): SessionInfo | undefined {
    return this.table.get(id)?.session.info();
  }

  /** The application's sessions (a rendezvous role's own are not among them). */
  listSessions(): SessionInfo[] {
    const listed: SessionInfo[] = [];
    for (const r of this.table.sessions()) if (!this.role?.owns(r.session.id)) listed.push(r.session.info());
    return listed;
  }

  /** Sessions that count toward maxSessions: every one but a rendezvous role's own. */
  private get applicationSessions(): number {
    return this.table.size - (this.role?.ownSessions ?? 0);
  }

  /** True while any session exists (closing ones included) or anything waits to be sent. */
  get busy(): boolean {
    return this.table.size > 0 || this.outbox.size > 0 || this.bulk.size > 0;
  }

  // ---- input --------------------------------------------------------------------------------

  /**
   * One datagram from `from`. Never throws: anything that fails to decode, authenticate or
   * validate is dropped and counted. The endpoint keeps views of `bytes`; do not reuse them.
   */
  handleDatagram(bytes: Uint8Array, from: Address, now: number): void {
    this.now = now;
    this.stats.datagramsIn++;
    // A rendezvous role's own packets (relay packets) never reach the secure layer.
    if (!this.role?.onDatagram(bytes, from, now)) this.secure.receive(bytes, from, now);
    this.role?.run(now, false);
  }

  handleTimeout(now: number): void {
    this.now = now;
    this.secure.handleTimeout(now);
    // A record can surface twice (a stale entry that equals its deadline again): once is enough.
    const due = new Set(this.deadlines.takeDue(now));
    // All taken off the heap first: a record left marked as filed would never be filed again.
    for (const record of due) record.scheduledAt = undefined;
    for (const record of due) {
      record.session.handleTimeout(now);
      this.settle(record);
    }
    this.transport.handleTimeout(now);
    this.role?.run(now, true);
  }

  // ---- output -------------------------------------------------------------------------------

  /** The next datagram to send: chat, acknowledgements and control before stream data. */
  pollTransmit(): Transmit | undefined {
    return this.outbox.shift() ?? this.bulk.shift();
  }

  pollEvent(): NetchatEvent | undefined {
    return this.events.shift();
  }

  /**
   * When `handleTimeout` must next be called (endpoint clock, ms), or undefined if never. It may
   * come before any timer is due (a deadline that moved later is found out then), never after.
   */
  nextTimeout(): number | undefined {
    return earliest(
      earliest(this.deadlines.peek(), this.secure.nextTimeout()),
      earliest(this.role?.nextTimeout(), this.transport.nextTimeout()),
    );
  }

  // ---- rendezvous ---------------------------------------------------------------------------

  /** Puts a rendezvous role (client or server) on this endpoint; one at most. */
  use<E extends EndpointExtension>(make: (host: EndpointHost) => E): E {
    if (this.role) throw errors.invalidArgument('extension', 'this endpoint already has one');
    const role = new ExtensionHost({
      secure: this.secure,
      table: this.table,
      nextSessionId: () => this.nextSessionId,
      connect: (peer, now) => this.connect(peer, now),
      at: (now) => {
        this.now = now;
      },
      settle: (record) => this.settle(record),
      transmit: (to, data) => {
        this.stats.datagramsOut++;
        this.outbox.push({ to, data });
      },
      probed: () => {
        this.stats.probed++;
      },
      malformed: (reason) => this.drop('malformed', reason),
      setPathRateLimit: (address, bytesPerSecond) => this.setPathRateLimit(address, bytesPerSecond),
    });
    const extension = make(role);
    role.attach(extension);
    this.role = role;
    return extension;
  }

  // ---- internals ----------------------------------------------------------------------------

  /** A handshake completed (or completed again after a restart of it): its requests can go. */
  private onChannelOpened(channel: Channel, now: number): void {
    this.table.proved(channel.id);
    this.retireOlderChannels(channel, now);
    const record = this.table.channel(channel.id);
    if (!record) return;
    for (const r of [...record.sessions.values()]) {
      r.session.routeOpened(now);
      this.settle(r);
    }
  }

  /**
   * `fresh` proved a peer's key. Sessions with that key on any other channel speak over a
   * channel the peer no longer has (we reuse channels, and so does every peer that follows
   * PROTOCOL.md): from the same address the peer restarted, so they end now; from another
   * address they are probed. Our own requests still waiting are left alone: a simultaneous
   * open looks the same, and the request resolves it.
   */
  private retireOlderChannels(fresh: Channel, now: number): void {
    const key = fresh.remoteStatic;
    if (!key) return;
    for (const older of [...this.table.withStaticKey(toHex(key))]) {
      if (older.channel.id === fresh.id) continue;
      const restarted = sameAddress(older.channel.address, fresh.address);
      if (!restarted) {
        this.probeChannel(older, now);
        continue;
      }
      for (const r of [...older.sessions.values()]) {
        if (r.session.state === 'connecting') continue;
        r.session.supersede(now);
        this.stats.superseded++;
        this.settle(r);
      }
    }
  }

  /** Probes the open sessions on a channel: each must hear from its peer within a round trip or two. */
  private probeChannel(record: ReturnType<SessionTable['channel']>, now: number): void {
    if (!record) return;
    for (const r of [...record.sessions.values()]) {
      if (r.session.state === 'connecting' || r.session.state === 'requested') continue;
      r.session.probe(now);
      this.stats.probed++;
      this.settle(r);
    }
  }

  /**
   * An open channel to `peer` that a live chat uses, if any: new sessions to that address share
   * it. Only a chat that is open (or lingering) counts: it can be probed, so a channel the peer
   * lost is found out at once. A channel that carries only closing or unanswered sessions may be
   * dead already, so a new handshake is made instead (at the peer it supersedes only those).
   */
  private channelInUse(peer: Address): { channel: Channel; handshaking: boolean } | undefined {
    for (const r of this.table.ofPeer(formatAddress(peer))) {
      const channel = r.channel.channel;
      if (!sameAddress(channel.address, peer)) continue;
      // Our own handshake still under way: the request waits for it like the first one does.
      if (!channel.isOpen && channel.initiator) return { channel, handshaking: true };
      const live = r.session.state === 'open' || r.session.state === 'lingering';
      if (live && channel.isOpen) return { channel, handshaking: false };
    }
    return undefined;
  }

  private onSessionMessage(channel: Channel, plaintext: Uint8Array, now: number): void {
    if (plaintext[2] !== MESSAGE_VERSION && this.role) {
      // Another family beside session messages (a rendezvous role's): the role decodes it.
      this.role.control(channel, plaintext, now);
      return;
    }
    const decoded = this.decode(plaintext);
    if (!decoded.ok) {
      this.drop('malformed', decoded.reason);
      return;
    }
    const datagram = decoded.datagram;
    if (datagram.type === 'stream_ack') {
      // The path's, whichever of its sessions it names.
      this.transport.onAck(channel.id, datagram, now);
      return;
    }
    const record = this.table.route(channel.id, datagram.session);
    if (record) {
      record.session.handle(datagram, now);
      this.settle(record);
    } else if (datagram.type === 'connect_request') {
      this.onNewRequest(datagram, channel, now);
    } else {
      this.onUnknownSession(datagram, channel);
    }
  }

  private onNewRequest(request: ConnectRequest, channel: Channel, now: number): void {
    const peerKey = formatAddress(channel.address);
    const ours = this.find(peerKey, (s) => s.state === 'connecting');
    if (ours) {
      // Both asked at once. The larger id wins on both sides, so they agree on one session.
      if (request.session < ours.session.wireId) return;
      if (request.session === ours.session.wireId) return; // cannot tell the two apart; both will time out
      const held = this.transport.takeFeatures(channel.id, request.session);
      if (held) ours.session.handle(held, now);
      ours.session.adoptPeerRequest(request, channel, now);
      const left = this.table.rebind(ours, channel);
      if (left) this.secure.release(left, now);
      this.secure.retain(channel);
      this.settle(ours);
      return;
    }
    if (this.overLimit(peerKey)) {
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
    const held = this.transport.takeFeatures(channel.id, request.session);
    if (held) session.handle(held, now);
    this.settle(this.register(session, channel));
  }

  /** Past maxSessions, or maxSessionsPerPeer live sessions with this peer (declined ones draining do not count). */
  private overLimit(peerKey: string): boolean {
    const { maxSessions, maxSessionsPerPeer } = this.options;
    if (this.applicationSessions >= maxSessions) return true;
    let counted = 0;
    for (const r of this.table.ofPeer(peerKey)) if (r.session.countsTowardPeerLimit) counted++;
    return counted >= maxSessionsPerPeer;
  }

  /**
   * A message for a session we do not have (it ended, or we restarted and the peer made a new
   * channel). Tell an accepting or talking peer that the session is gone; acknowledge a
   * disconnect so its retries stop. A `disconnect` or `disconnect_ack` is never answered with a
   * `disconnect`, so two peers cannot keep answering each other.
   */
  private onUnknownSession(datagram: Datagram, channel: Channel): void {
    if (datagram.type === 'features') {
      // It goes just before its connect_request (PROTOCOL.md, Capabilities): kept for it.
      this.transport.holdFeatures(channel.id, datagram);
      return;
    }
    this.stats.unknownSession++;
    const session = datagram.session;
    if (datagram.type === 'disconnect') this.transmit(channel, { type: 'disconnect_ack', session });
    else if (datagram.type === 'accept' || datagram.type === 'text' || datagram.type === 'heartbeat') {
      this.transmit(channel, { type: 'disconnect', session });
    }
  }

  private register(session: Session, channel: Channel): SessionRecord {
    const record = this.table.add(session, channel);
    this.secure.retain(channel);
    return record;
  }

  /** After anything touched a session: forget it if it ended, else reschedule its deadline. */
  private settle(record: SessionRecord): void {
    if (record.channel.path) this.transport.settleChannel(record.channel);
    const session = record.session;
    if (session.state === 'closed') {
      record.scheduledAt = undefined;
      const channelRecord = record.channel;
      const left = this.table.remove(record);
      if (left) this.secure.release(left, this.now);
      else if (this.lost.has(record)) this.rehandshakeWaiting(channelRecord);
      this.role?.sessionEnded(session.id, channelRecord.channel.id, this.now);
      return;
    }
    // Only a deadline earlier than the one filed is filed now. A later one (the ack and
    // retransmission timers move on with every datagram) is filed when the earlier entry comes
    // due and handleTimeout finds nothing to do yet: one early wake-up instead of a heap push
    // and a stale pop per datagram.
    const at = session.nextDeadline();
    const filed = record.scheduledAt;
    if (at === undefined || (filed !== undefined && filed <= at)) return;
    record.scheduledAt = at;
    this.deadlines.push(record, at);
  }

  /**
   * A session on this channel was lost: the channel itself may be gone at the peer (it
   * restarted). If only our requests are left on it, move them to a new handshake so they do
   * not wait out the connect timeout on a dead channel.
   */
  private rehandshakeWaiting(channelRecord: ReturnType<SessionTable['channel']>): void {
    if (!channelRecord) return;
    const waiting = [...channelRecord.sessions.values()];
    if (waiting.some((r) => r.session.state !== 'connecting')) return;
    const fresh = this.secure.connect(channelRecord.channel.address, this.now);
    for (const r of waiting) {
      r.session.route = fresh;
      const left = this.table.rebind(r, fresh);
      if (left) this.secure.release(left, this.now);
    }
    this.secure.retain(fresh);
  }

  /** A session made for `peerKey` in the state `wanted` picks. */
  private find(peerKey: string, wanted: (session: Session) => boolean): SessionRecord | undefined {
    for (const r of this.table.ofPeer(peerKey)) if (wanted(r.session)) return r;
    return undefined;
  }

  private get(id: SessionId): SessionRecord {
    const record = this.table.get(id);
    if (!record) throw errors.noSuchSession(id);
    return record;
  }

  private transmit(channel: Channel, datagram: Datagram): void {
    this.sealing = datagram;
    try {
      const plaintext = encodeDatagram(datagram);
      this.secure.send(channel, plaintext, this.now);
      if (this.transport.hasPaths) this.transport.onPrioritySent(channel.id, plaintext.length);
    } finally {
      this.sealing = undefined;
    }
  }

  private drop(counter: 'malformed' | 'protocolErrors', reason: string): void {
    this.stats[counter]++;
    this.stats.lastDropReason = reason;
  }
}

/** The earlier of two deadlines, either of which may be absent. */
function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  return b === undefined ? a : Math.min(a, b);
}

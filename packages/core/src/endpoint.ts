/**
 * A sans-IO netchat endpoint: every session of one local port. Feed it datagrams with
 * `handleDatagram(bytes, from, now)` and expiries with `handleTimeout(now)`; take what to send
 * with `pollTransmit()`, what happened with `pollEvent()`, and when to call again with
 * `nextTimeout()`. It owns no socket, timer or clock, so it runs the same on virtual time.
 *
 * Every datagram goes through the secure layer (SecureTransport): a Noise handshake makes a
 * channel, and sessions speak over channels, never in clear. This file is the application's
 * side: its calls, checked, each on the session it names. Behind it, one concept a file, each
 * with the state it alone writes:
 * - endpoint-admission.ts: how sessions come to be (our connect, a peer's request), the
 *   simultaneous-open rule, one channel per peer address, and the limits;
 * - endpoint-restarts.ts: what a handshake tells us of the sessions we have (a restarted peer's
 *   old sessions end, a key from a new address is probed, a lost channel's requests move on);
 * - endpoint-input.ts: where each opened payload goes (a role, a path, a session, admission),
 *   and endpoint-unknown-session.ts: the answer for a session we do not have;
 * - endpoint-schedule.ts: the heap of session deadlines, and forgetting ended sessions;
 * - endpoint-outbox.ts: what goes out, chat before stream data;
 * - endpoint-parts.ts: how these are joined (each names what it needs of the others);
 * - session-table.ts: one record per session and per channel, with its indexes;
 * - streams/endpoint-streams.ts: streams, paths and their congestion control;
 * - extension-host.ts: the seam with a rendezvous role.
 */
import type { Address } from './address.js';
import type { Admission } from './endpoint-admission.js';
import type { EndpointOutbox, Transmit } from './endpoint-outbox.js';
import { joinParts } from './endpoint-parts.js';
import type { SessionSchedule } from './endpoint-schedule.js';
import { countDrop, type EndpointStats, emptyStats } from './endpoint-stats.js';
import { errors } from './errors.js';
import type { MessageId, NetchatEvent, SessionId, StreamId } from './events.js';
import { ExtensionHost } from './extension-host.js';
import { Fifo } from './fifo.js';
import { EndpointOptions, type EndpointOptionsInput, resolveOptions } from './options.js';
import type { EndpointExtension, EndpointHost } from './rendezvous/extension.js';
import type { Channel } from './secure/channel.js';
import { generateKeyPair, type KeyPair, randomBytes } from './secure/crypto.js';
import type { SecureStats, SecureTransport } from './secure/secure-transport.js';
import { type CloseOptions, checkedLinger, type SessionInfo } from './session/session.js';
import type { SessionRecord, SessionTable } from './session-table.js';
import type { EndpointStreams, PathInfo } from './streams/endpoint-streams.js';
import type { OpenStreamOptions, StreamInfo } from './streams/stream-set.js';
import { type Datagram, Decline, type DeclineReason } from './wire/messages.js';

export type { Transmit } from './endpoint-outbox.js';
export { HANDSHAKE_RETRY_MAX } from './endpoint-parts.js';
export type { EndpointStats } from './endpoint-stats.js';

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
  readonly stats: EndpointStats = emptyStats();
  private readonly secure: SecureTransport;
  private readonly table: SessionTable;
  /** Streams, paths and their congestion control (streams/endpoint-streams.ts). */
  private readonly transport: EndpointStreams;
  private readonly outbox: EndpointOutbox;
  private readonly schedule: SessionSchedule;
  private readonly admission: Admission;
  private readonly events = new Fifo<NetchatEvent>();
  private nextMessageId = 1;
  /** The latest time any call brought: sealing needs it, and sessions transmit without one. */
  private now = 0;
  /** The host of a rendezvous role (rendezvous/*.ts), if one is in use (see extension-host.ts). */
  private role: ExtensionHost | undefined;

  constructor(options: EndpointOptionsInput = {}, dependencies: EndpointDependencies = {}) {
    this.options = resolveOptions(options);
    this.identity = dependencies.identity ?? generateKeyPair();
    const parts = joinParts({
      options: this.options,
      identity: this.identity,
      stats: this.stats,
      randomU32: dependencies.randomU32 ?? (() => crypto.getRandomValues(new Uint32Array(1))[0] as number),
      randomBytes: dependencies.randomBytes ?? randomBytes,
      legacyPeer: dependencies.legacyPeer ?? false,
      describeStreamPackets: dependencies.describeStreamPackets ?? false,
      now: () => this.now,
      role: () => this.role,
      deliver: (event) => this.events.push(event),
    });
    this.secure = parts.secure;
    this.table = parts.table;
    this.transport = parts.streams;
    this.outbox = parts.outbox;
    this.schedule = parts.schedule;
    this.admission = parts.admission;
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
    return this.admission.connect(peer, now);
  }

  accept(id: SessionId, now: number): void {
    this.now = now;
    const record = this.get(id);
    record.session.accept(now);
    this.schedule.settle(record);
  }

  decline(id: SessionId, now: number, reason: DeclineReason = 'declined', detail = ''): void {
    this.now = now;
    const checked = Decline.fields.detail.schema.safeParse(detail);
    if (!checked.success)
      throw errors.invalidArgument('decline detail', checked.error.issues[0]?.message ?? '');
    const record = this.get(id);
    record.session.decline(now, reason, detail);
    this.schedule.settle(record);
  }

  /** Queues `text` for reliable, ordered delivery; a `delivered` or `failed` event follows. */
  send(id: SessionId, text: string, now: number): MessageId {
    this.now = now;
    const record = this.get(id);
    const messageId = this.nextMessageId;
    record.session.send(messageId, text, now);
    this.nextMessageId++;
    this.schedule.settle(record);
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
    this.schedule.settle(record);
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
   * `features` event), STREAM_LIMIT (wait for `streams_available`). With `lingers`, a close of
   * the session waits until what was written on it is acknowledged (OpenStreamOptions).
   */
  openStream(id: SessionId, now: number, options: OpenStreamOptions = {}): StreamId {
    this.now = now;
    return this.transport.open(id, options);
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

  /**
   * As readStream, but copies into `into` from `at` (at most `max` bytes, and what fits): one copy
   * out of the stream's buffer, no array per read. Returns the bytes copied (0 if none wait).
   */
  readStreamInto(
    id: SessionId,
    stream: StreamId,
    into: Uint8Array,
    at: number,
    max: number,
    now: number,
  ): number {
    this.now = now;
    return this.transport.readInto(id, stream, into, at, max, now);
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

  /** True while any session exists (closing ones included) or anything waits to be sent. */
  get busy(): boolean {
    return this.table.size > 0 || this.outbox.size > 0;
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
    this.schedule.handleTimeout(now);
    this.transport.handleTimeout(now);
    this.role?.run(now, true);
  }

  // ---- output -------------------------------------------------------------------------------

  /** The next datagram to send: chat, acknowledgements and control before stream data. */
  pollTransmit(): Transmit | undefined {
    return this.outbox.poll();
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
      earliest(this.schedule.nextTimeout(), this.secure.nextTimeout()),
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
      nextSessionId: () => this.admission.nextSessionId,
      connect: (peer, now) => this.connect(peer, now),
      at: (now) => {
        this.now = now;
      },
      settle: (record) => this.schedule.settle(record),
      transmit: (to, data) => this.outbox.raw(to, data),
      probed: () => {
        this.stats.probed++;
      },
      malformed: (reason) => countDrop(this.stats, 'malformed', reason),
      setPathRateLimit: (address, bytesPerSecond) => this.setPathRateLimit(address, bytesPerSecond),
    });
    const extension = make(role);
    role.attach(extension);
    this.role = role;
    return extension;
  }

  /** Seals a session message on `channel`: the outbox's, kept here for tests that play a peer with it. */
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: test/features.test.ts sends through it
  private transmit(channel: Channel, datagram: Datagram): void {
    this.outbox.sendMessage(channel, datagram);
  }

  private get(id: SessionId): SessionRecord {
    const record = this.table.get(id);
    if (!record) throw errors.noSuchSession(id);
    return record;
  }
}

/** The earlier of two deadlines, either of which may be absent. */
function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  return b === undefined ? a : Math.min(a, b);
}

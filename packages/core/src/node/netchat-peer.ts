/**
 * The node:dgram adapter around an Endpoint: it owns the one socket, the one timer and the
 * clock, and turns the endpoint's events into EventEmitter events. No protocol logic lives here.
 *
 * Nothing that comes from the network may throw out of here: a datagram from an address the
 * socket cannot answer (port 0, unspecified, multicast, broadcast, another IP version) is dropped
 * and counted before the endpoint sees it, every destination is checked the same way before a
 * send, and a send that throws anyway is counted and reported (`send_error`), never rethrown.
 */
import type dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { type Address, formatAddress, normalizeHost } from '../address.js';
import { Endpoint, type EndpointStats } from '../endpoint.js';
import { errors } from '../errors.js';
import type { EventOf, MessageId, NetchatEvent, NetchatEventType, SessionId, StreamId } from '../events.js';
import type { EndpointOptions, EndpointOptionsInput } from '../options.js';
import type { KeyPair } from '../secure/crypto.js';
import type { SecureStats } from '../secure/secure-transport.js';
import type { CloseOptions, SessionInfo } from '../session/session.js';
import type { OpenStreamOptions, StreamInfo } from '../streams/stream-set.js';
import type { DeclineReason } from '../wire/messages.js';
import { type AdapterStats, DatagramOut, UNUSABLE } from './datagram-out.js';
import { HeldEvents } from './held-events.js';
import { type Binding, canReach, isDualStack, isOwnAddress, PeerAddresses } from './local-address.js';
import { openUdpSocket } from './udp-socket.js';

export interface PeerOptions extends EndpointOptionsInput {
  /** Local UDP port; 0 picks a free one. */
  port: number;
  /** Local numeric address to bind; by default every interface, IPv6 and IPv4. */
  host?: string;
  /** Milliseconds on a monotonic clock; injectable for tests. */
  clock?: () => number;
  /** Our long-term key pair (see loadIdentity); a throwaway one if not given. */
  identity?: KeyPair;
}

/** `NetchatPeer.stats`: the endpoint's counts and the adapter's. */
export type PeerStats = EndpointStats & AdapterStats;

/** setTimeout's longest delay: a longer one fires after 1 ms instead (with a warning). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export type PeerEvents = { [K in NetchatEventType]: [EventOf<K>] } & {
  /** Every endpoint event, for logging. */
  event: [NetchatEvent];
  /**
   * A datagram could not be sent (no route, a destination the socket cannot send to, and the
   * like). The session goes on. The socket's own reports are asked for only while this event
   * has a listener (each costs the socket a callback per datagram).
   */
  send_error: [Error & { to: Address }];
  /** The endpoint was just run (datagram, timer or call): a rendezvous link reads its updates. */
  pumped: [];
};

export class NetchatPeer extends EventEmitter<PeerEvents> {
  readonly endpoint: Endpoint;
  private readonly socket: dgram.Socket;
  private readonly clock: () => number;
  /** Read once: socket.address() throws once the socket is closed. */
  private readonly binding: Binding;
  private readonly dualStack: boolean;
  private readonly peers: PeerAddresses;
  private readonly counts: AdapterStats = { unusableSources: 0, unusableDestinations: 0, sendErrors: 0 };
  private readonly out: DatagramOut;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private pumping = false;
  private pumpAgain = false;
  /** Inside the socket's datagram callback (Node runs one per datagram, up to 32 in a row). */
  private receiving = false;
  /** A stream read is running: the events it brings are held (see `read`). */
  private reading = false;
  /**
   * The source of the last usable datagram, given again for the next one from there (a stream
   * brings thousands a second from one peer): an address is a value nobody changes, so the
   * endpoint may keep it, and it needs no new object or check per datagram.
   */
  private lastSource: Address | undefined;
  /** Events held until the datagrams ready now are all handled (held-events.ts). */
  private readonly held = new HeldEvents(
    (e) => this.deliver(e),
    () => this.pump(),
  );
  private idleWaiters: (() => void)[] = [];
  private closed = false;
  private closing: Promise<void> | undefined;

  private constructor(socket: dgram.Socket, options: PeerOptions) {
    super();
    const { port: _port, host: _host, clock, identity, ...endpointOptions } = options;
    this.endpoint = new Endpoint(endpointOptions, identity ? { identity } : {});
    this.socket = socket;
    this.clock = clock ?? (() => performance.now());
    const local = socket.address();
    this.binding = { host: normalizeHost(local.address), port: local.port };
    this.dualStack = isDualStack(this.binding);
    this.peers = new PeerAddresses(this.binding);
    this.out = new DatagramOut(socket, this.peers, this.dualStack, this.counts, {
      listening: () => this.listenerCount('send_error') > 0,
      report: (error) => this.emit('send_error', error),
    });
    socket.on('message', (data, rinfo) => {
      // Node reports IPv4 peers in normal form already; only IPv6 (and v4-mapped) needs work.
      const host = rinfo.family === 'IPv4' ? rinfo.address : normalizeHost(rinfo.address);
      let from = this.lastSource;
      if (from === undefined || from.port !== rinfo.port || from.host !== host) {
        if (!this.peers.usable(host, rinfo.port)) {
          this.counts.unusableSources++;
          return;
        }
        from = this.lastSource = { host, port: rinfo.port };
      }
      // A plain view, not the Buffer: the data path takes two views of every datagram, and a
      // Buffer's subarray costs about twice a typed array's.
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.length);
      this.receiving = true;
      try {
        this.endpoint.handleDatagram(bytes, from, this.clock());
        this.pump();
      } finally {
        this.receiving = false;
      }
    });
    // Errors on a bound UDP socket are per-datagram (ICMP unreachable and the like): not fatal.
    socket.on('error', () => {});
  }

  /** Opens the socket and starts listening. Rejects with a BindError (code EADDRINUSE, ...). */
  static async listen(options: PeerOptions): Promise<NetchatPeer> {
    const socket = await openUdpSocket(options.port, options.host);
    try {
      return new NetchatPeer(socket, options);
    } catch (error) {
      socket.close();
      throw error;
    }
  }

  /** The UDP socket itself, for a STUN binding request from netchat's own port (options' stun.ts). */
  get udpSocket(): dgram.Socket {
    return this.socket;
  }

  /** The local address the socket is bound to. */
  get address(): Address {
    return this.binding;
  }

  /** Resolves a host name (or takes a numeric address) into an address this socket can reach. */
  async resolve(host: string, port: number): Promise<Address> {
    if (isIP(host)) return { host: normalizeHost(host), port };
    const family = isIP(this.binding.host) === 4 ? 4 : 0;
    try {
      const found = await lookup(host, { family });
      return { host: normalizeHost(found.address), port };
    } catch {
      throw errors.invalidAddress(host, 'host name not found');
    }
  }

  /** Asks a peer to chat; `accepted`, `declined` or `no_answer` follows for the returned session. */
  async connect(host: string, port: number): Promise<SessionId> {
    return this.connectTo(await this.resolve(host, port));
  }

  /**
   * Asks a peer at a resolved address to chat. Its events may be emitted before this returns.
   * Throws INVALID_ADDRESS for an address no datagram can go to (port 0, multicast, …).
   */
  connectTo(address: Address): SessionId {
    const binding = this.binding;
    if (!canReach(address, binding, this.dualStack))
      throw errors.addressFamily(formatAddress(address), formatAddress(binding));
    if (isOwnAddress(address, binding)) throw errors.selfConnect(formatAddress(address));
    if (!this.peers.usable(address.host, address.port))
      throw errors.invalidAddress(formatAddress(address), UNUSABLE);
    return this.call(() => this.endpoint.connect(address, this.clock()));
  }

  /** Accepts a request (a session whose end the application has not been told yet: nothing, see `overUntold`). */
  accept(session: SessionId): void {
    if (this.overUntold(session)) return;
    this.call(() => this.endpoint.accept(session, this.clock()));
  }

  /** Declines a request (a session whose end the application has not been told yet: nothing, see `overUntold`). */
  decline(session: SessionId, reason?: DeclineReason, detail?: string): void {
    if (this.overUntold(session)) return;
    this.call(() => this.endpoint.decline(session, this.clock(), reason, detail));
  }

  send(session: SessionId, text: string): MessageId {
    return this.call(() => this.endpoint.send(session, text, this.clock()));
  }

  /** Our nick from now on; every open session's peer hears of a change (a `presence`). */
  setNick(nick: string): void {
    this.call(() => this.endpoint.setNick(nick, this.clock()));
  }

  /** Tells an open session's peer whether we are typing; false if the session is not open. */
  setTyping(session: SessionId, typing: boolean): boolean {
    return this.call(() => this.endpoint.setTyping(session, typing, this.clock()));
  }

  /** Closes one session; `{ linger: false }` at once (see Endpoint.close). */
  closeSession(session: SessionId, options?: CloseOptions): void {
    this.call(() => this.endpoint.close(session, this.clock(), options));
  }

  /**
   * The session is gone, and the event that says so waits among the held ones (held-events.ts):
   * the application answers an event told before it (a `request`) and cannot know. Its call is
   * then nothing, not NO_SUCH_SESSION: a stranger's burst of stream bytes, a request and its
   * withdrawal made the bot's accept of that request throw from the held events' release, and
   * the bot exited (test/held-request-withdrawn.test.ts; the bot's test/attack-withdrawn-in-batch.test.ts).
   */
  private overUntold(session: SessionId): boolean {
    return this.endpoint.session(session) === undefined && this.held.endsHeld(session);
  }

  // ---- streams: the endpoint's calls at this peer's clock (see Endpoint and README, Streams) ----

  /** Opens a stream we write and the peer reads (Endpoint.openStream says when it throws). */
  openStream(session: SessionId, options: OpenStreamOptions = {}): StreamId {
    return this.call(() => this.endpoint.openStream(session, this.clock(), options));
  }

  /** Takes what the stream has room for now; returns how many bytes (`stream_writable` says when there is more room). */
  writeStream(session: SessionId, stream: StreamId, bytes: Uint8Array): number {
    return this.call(() => this.endpoint.writeStream(session, stream, bytes, this.clock()));
  }

  finishStream(session: SessionId, stream: StreamId): void {
    this.call(() => this.endpoint.finishStream(session, stream, this.clock()));
  }

  /** Up to `max` bytes of a peer's stream, in order (empty if none wait). */
  readStream(session: SessionId, stream: StreamId, max: number): Uint8Array {
    return this.read(() => this.endpoint.readStream(session, stream, max, this.clock()));
  }

  /** Copies up to `max` bytes of a peer's stream into `into` at `at`; returns how many (Endpoint.readStreamInto). */
  readStreamInto(session: SessionId, stream: StreamId, into: Uint8Array, at: number, max: number): number {
    return this.read(() => this.endpoint.readStreamInto(session, stream, into, at, max, this.clock()));
  }

  /**
   * A read's events are told after it returned, never inside it: the read of a stream's last bytes
   * brings its `stream_finished`, and a caller reading outside an event (a sink's 'drain') would
   * hear it, and end its sink, before it had those bytes to write. (A read inside a listener is
   * already safe: its events wait for the listener to return.)
   */
  private read<T>(action: () => T): T {
    this.reading = true;
    try {
      return this.call(action);
    } finally {
      this.reading = false;
    }
  }

  cancelStream(session: SessionId, stream: StreamId, code = 0): void {
    this.call(() => this.endpoint.cancelStream(session, stream, this.clock(), code));
  }

  streamInfo(session: SessionId, stream: StreamId): StreamInfo | undefined {
    return this.endpoint.streamInfo(session, stream);
  }

  session(id: SessionId): SessionInfo | undefined {
    return this.endpoint.session(id);
  }

  /** Every session this peer has, in any state. */
  listSessions(): SessionInfo[] {
    return this.endpoint.listSessions();
  }

  /** The endpoint settings in force (defaults filled in). */
  get options(): Readonly<EndpointOptions> {
    return this.endpoint.options;
  }

  /**
   * What the endpoint counted (datagrams, drops, refusals, restarts) and what the adapter did
   * (datagrams from or to addresses the socket cannot use, failed sends): a snapshot.
   */
  get stats(): Readonly<PeerStats> {
    return { ...this.endpoint.stats, ...this.counts };
  }

  /** What the secure layer counted: handshakes, cookies, rate limits. */
  get secureStats(): Readonly<SecureStats> {
    return this.endpoint.secureStats;
  }

  /** Our long-term public key (hex is `toHex(publicKey)`). */
  get publicKey(): Uint8Array {
    return this.endpoint.identity.publicKey;
  }

  /** Milliseconds on this peer's clock (the one `SessionInfo.lastHeard` is on). */
  now(): number {
    return this.clock();
  }

  /** Resolves when no session is left (each closed, lost or ended), or after `timeoutMs`. */
  whenIdle(timeoutMs: number): Promise<boolean> {
    if (!this.endpoint.busy) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (idle: boolean) => {
        clearTimeout(timer);
        this.idleWaiters = this.idleWaiters.filter((w) => w !== onIdle);
        resolve(idle);
      };
      const onIdle = () => finish(true);
      this.idleWaiters.push(onIdle);
    });
  }

  /**
   * Closes every session, waits (at most `timeoutMs`) for the disconnects to be acknowledged, then
   * the socket. A second call while the first runs waits for the same close (the socket closes once).
   */
  close(timeoutMs = 1000): Promise<void> {
    this.closing ??= this.shutDown(timeoutMs);
    return this.closing;
  }

  private async shutDown(timeoutMs: number): Promise<void> {
    this.call(() => this.endpoint.closeAll(this.clock()));
    await this.whenIdle(timeoutMs);
    this.closed = true;
    this.out.closed = true;
    clearTimeout(this.timer);
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  /** Runs `action` on the endpoint at this peer's clock, then sends what it queued (for rendezvous-link.ts). */
  run<T>(action: (endpoint: Endpoint, now: number) => T): T {
    return this.call(() => action(this.endpoint, this.clock()));
  }

  private call<T>(action: () => T): T {
    try {
      return action();
    } finally {
      this.pump();
    }
  }

  /** Sends what the endpoint queued, emits its events, and re-arms the timer. Safe to re-enter. */
  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        for (let t = this.endpoint.pollTransmit(); t; t = this.endpoint.pollTransmit())
          this.out.send(t.to, t.data);
        for (let e = this.endpoint.pollEvent(); e; e = this.endpoint.pollEvent()) {
          if (this.reading || this.held.mustWait(e, this.receiving)) this.held.hold(e);
          else this.deliver(e);
        }
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
    this.arm();
    this.emit('pumped');
    if (this.idleWaiters.length > 0 && !this.endpoint.busy)
      for (const waiter of [...this.idleWaiters]) waiter();
  }

  private deliver(e: NetchatEvent): void {
    (this.emit as (type: string, event: NetchatEvent) => boolean)('event', e);
    (this.emit as (type: string, event: NetchatEvent) => boolean)(e.type, e);
  }

  /** One timer for the whole endpoint, moved only when the next deadline comes sooner. */
  private arm(): void {
    if (this.closed) return;
    const at = this.endpoint.nextTimeout();
    if (at === undefined || at >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    // +1: setTimeout has millisecond resolution and may fire a fraction early. A deadline beyond
    // setTimeout's range (a heartbeat interval of weeks) wakes us at the range's end instead:
    // nothing is due then, and the timer is set again.
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil(at - this.clock()) + 1));
    this.timer = setTimeout(() => this.onTimer(), delay);
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    this.endpoint.handleTimeout(this.clock());
    this.pump();
  }
}

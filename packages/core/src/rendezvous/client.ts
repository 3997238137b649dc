/**
 * The client's side of a rendezvous: keep a session with the rendezvous peer (its heartbeats keep
 * our NAT mapping open), register our key on it, ask for introductions (introductions.ts), send
 * handshakes at the moment the rendezvous names (hole punching), and fall back to its relay
 * (relay-paths.ts).
 *
 * The session is the role's own: the application never sees its events, nor lists it. When it
 * ends (the rendezvous restarted, the path died), a new one is made after a back-off. A request
 * that gets no answer in a second makes the client doubt the session: it probes it (a heartbeat
 * that must be answered within two RTOs, as for a key seen from a new address), so a rendezvous
 * that restarted is found out in a second or two, not after the heartbeats' 87.5 s, and the
 * client registers anew and asks again. A rendezvous that says it does not know us
 * (`not_registered`) is registered with again at once.
 */
import type { Address } from '../address.js';
import { errors } from '../errors.js';
import type { NetchatEvent, SessionId } from '../events.js';
import { ClientTimers } from './client-timers.js';
import type { ChannelView, EndpointExtension, EndpointHost } from './extension.js';
import { fingerprintBytes } from './fingerprint.js';
import { type IgnoredBecause, Introductions, REQUEST_RETRY_MS } from './introductions.js';
import {
  type AcceptFrom,
  addressFromWire,
  decodeRendezvous,
  encodeRendezvous,
  type FailureReason,
  type Introduction,
  MAX_LISTED_KEYS,
  type RendezvousMessage,
} from './messages.js';
import { RELAY_HOST, looksLikeRelay, relayAddress } from './relay.js';
import { RelayPaths } from './relay-paths.js';

export { INTRODUCE_TIMEOUT_MS, REQUEST_RETRY_MS } from './introductions.js';
export { DIRECT_PROBE_EVERY_MS, DIRECT_PROBE_FOR_MS, RELAY_AFTER_MS } from './relay-paths.js';

export interface RendezvousClientOptions {
  server: Address;
  /** Whom the rendezvous may introduce to us: anyone, or only the keys listed. */
  acceptFrom: AcceptFrom;
  listedKeys: readonly Uint8Array[];
  /** Whether our socket can send to an address at all (its IP version); the adapter knows. */
  canReach?: (address: Address) => boolean;
}

/** Back-off before a new session when the one with the rendezvous ended: doubling up to the max. */
export const RECONNECT_INITIAL_MS = 1_000;
export const RECONNECT_MAX_MS = 30_000;
/** After `register_failed` (`full`), the next try. */
export const REGISTER_REFUSED_RETRY_MS = 30_000;
/** A session with the rendezvous is probed at most this often for want of an answer. */
export const PROBE_EVERY_MS = 5_000;
/**
 * After each heartbeat to the rendezvous (answered at once by an `ack`), anything from it must
 * arrive within this long, or the session is probed: a rendezvous that restarted (and lost our
 * channel) is found out at our next heartbeat, not after the miss limit.
 */
export const HEARTBEAT_ANSWER_MS = 2_000;

export type IntroduceFailure = FailureReason | 'timeout' | 'wrong_key' | 'bad_address';

export type RendezvousUpdate =
  /** Registered; `publicAddress` is where the rendezvous sees us (our NAT's public side). */
  | { readonly type: 'registered'; readonly publicAddress: Address }
  /** The session with the rendezvous ended (or never opened); a new one follows after `retryIn` ms. */
  | { readonly type: 'unregistered'; readonly retryIn: number; readonly wasRegistered: boolean }
  /** The rendezvous would not register us (it is full); we try again after `retryIn` ms. */
  | { readonly type: 'refused'; readonly reason: FailureReason; readonly retryIn: number }
  /** Our introduction: connect to `address` now (the peer sends its handshakes at this moment too). */
  | { readonly type: 'ready'; readonly request: number; readonly address: Address; readonly key: Uint8Array }
  | { readonly type: 'failed'; readonly request: number; readonly reason: IntroduceFailure }
  /** Someone asked for us: we sent handshakes to `address` (its request, if any, comes as usual). */
  | { readonly type: 'punched'; readonly address: Address; readonly key: Uint8Array }
  /** No direct path opened to `address` in time: our connect goes through the relay as `relayed`. */
  | { readonly type: 'relayed'; readonly address: Address; readonly relayed: Address };

export interface RendezvousClientStats {
  /** Rendezvous messages that did not decode, came on another channel, or only a client sends. */
  malformed: number;
  introductionsReceived: number;
  /** Introductions not acted on, by why (introductions.ts, IgnoredBecause). */
  ignored: Record<IgnoredBecause, number>;
  punches: number;
  /** Connects moved to the relay, and keepalives sent straight to a relayed peer's public address. */
  relayedConnects: number;
  directProbes: number;
  /** Relay packets dropped (undecodable, forged, a copy, not for us, or no netchat packet inside). */
  relayDropped: number;
  /** Our session with the rendezvous probed because a request went unanswered. */
  probes: number;
  /** Registered again because the rendezvous said it did not know us. */
  reregistrations: number;
}

export class RendezvousClient implements EndpointExtension {
  readonly virtualHost = RELAY_HOST;
  private readonly counts = {
    malformed: 0,
    introductionsReceived: 0,
    punches: 0,
    probes: 0,
    reregistrations: 0,
  };
  private readonly ignored: Record<IgnoredBecause, number> = {
    unasked: 0,
    wrong_key: 0,
    not_accepted: 0,
    bad_address: 0,
    punch_rate: 0,
  };
  private readonly timers = new ClientTimers();
  private readonly introductions: Introductions;
  private readonly paths: RelayPaths;
  private session: SessionId | undefined;
  private channelId: number | undefined;
  private registered = false;
  private publicAddress: Address | undefined;
  /** The request number of the registration under way: its resends keep it. */
  private registerRequest: number | undefined;
  private registerSent = 0;
  private reconnectGap = RECONNECT_INITIAL_MS;
  private probedAt: number | undefined;
  /** When our last heartbeat to the rendezvous went out (its answer is awaited). */
  private heartbeatAt: number | undefined;
  private nextRequest = 1;
  private readonly updates: RendezvousUpdate[] = [];

  private readonly options: RendezvousClientOptions;

  constructor(
    private readonly host: EndpointHost,
    options: RendezvousClientOptions,
  ) {
    this.options = { ...options };
    this.introductions = new Introductions(this.options);
    this.paths = new RelayPaths(host);
  }

  get stats(): Readonly<RendezvousClientStats> {
    return { ...this.counts, ...this.paths.stats, ignored: { ...this.ignored } };
  }

  /** Opens the session with the rendezvous; registration follows when it is accepted. */
  start(now: number): void {
    this.session = this.host.connect(this.options.server, now);
  }

  get isRegistered(): boolean {
    return this.registered;
  }

  /** Where the rendezvous sees us, once registered. */
  get observedAddress(): Address | undefined {
    return this.publicAddress;
  }

  /**
   * Asks to be introduced to the peer with this fingerprint; a `ready` or `failed` update follows
   * for the returned request. Throws INVALID_ARGUMENT if the text is not a fingerprint.
   */
  introduce(fingerprintText: string, now: number): number {
    const wanted = fingerprintBytes(fingerprintText);
    if (!wanted) throw errors.invalidArgument('fingerprint', `"${fingerprintText}" is not one`);
    const request = this.nextRequest++;
    if (!this.registered || this.channelId === undefined) {
      this.updates.push({ type: 'failed', request, reason: 'not_registered' });
      return request;
    }
    const bytes = encodeRendezvous({ type: 'introduce', request, fingerprint: wanted });
    this.introductions.ask(request, wanted, bytes, now);
    this.host.sendControl(this.channelId, bytes, now);
    this.refreshTimers();
    return request;
  }

  /** New terms for introductions (the setting changed): registered again with them at once. */
  setIntroductions(acceptFrom: AcceptFrom, listedKeys: readonly Uint8Array[], now: number): void {
    this.options.acceptFrom = acceptFrom;
    this.options.listedKeys = listedKeys;
    this.introductions.accept(this.options);
    this.registerRequest = undefined;
    this.sendRegister(now);
  }

  pollUpdate(): RendezvousUpdate | undefined {
    return this.updates.shift();
  }

  // ---- EndpointExtension ----------------------------------------------------------------------

  onDatagram(bytes: Uint8Array, _from: Address, now: number): boolean {
    if (!looksLikeRelay(bytes)) return false;
    this.paths.unwrap(bytes, now);
    return true;
  }

  wrap(to: Address, bytes: Uint8Array): { to: Address; data: Uint8Array } | undefined {
    const rendezvous = this.channelId === undefined ? undefined : this.host.openChannel(this.channelId);
    return this.paths.wrap(to, bytes, rendezvous?.address);
  }

  onControl(channel: ChannelView, bytes: Uint8Array, now: number): void {
    const decoded = decodeRendezvous(bytes);
    // Only our rendezvous may tell us where to send handshakes.
    if (!decoded.ok || channel.id !== this.channelId) {
      this.counts.malformed++;
      return;
    }
    this.onMessage(decoded.datagram, now);
    this.refreshTimers();
  }

  onEvent(event: NetchatEvent, now: number): void {
    if (event.session !== this.session) return;
    if (event.type === 'heartbeat_sent') {
      // The first heartbeat not yet answered: later ones (probes after a miss come every I/8)
      // must not push its deadline on.
      if (this.timers.get('answer') !== undefined) return;
      this.heartbeatAt = now;
      this.timers.set('answer', now + HEARTBEAT_ANSWER_MS);
    } else if (event.type === 'accepted') {
      this.channelId = this.host.channelOf(event.session)?.id;
      this.reconnectGap = RECONNECT_INITIAL_MS;
      this.registerRequest = undefined;
      this.sendRegister(now);
    } else if (
      event.type === 'declined' ||
      event.type === 'no_answer' ||
      event.type === 'lost' ||
      event.type === 'closed'
    ) {
      this.ended(now);
    }
  }

  handleTimeout(now: number): void {
    for (const name of this.timers.takeExpired(now)) {
      switch (name) {
        case 'reconnect':
          this.start(now);
          break;
        case 'register':
          this.sendRegister(now);
          break;
        case 'answer': {
          const heard = this.channelId === undefined ? undefined : this.host.lastHeard(this.channelId);
          if (this.heartbeatAt !== undefined && (heard === undefined || heard < this.heartbeatAt))
            this.suspect(now);
          break;
        }
        case 'request':
          this.requestsDue(now);
          break;
        case 'start':
          for (const due of this.introductions.takeDueStarts(now))
            this.begin(due.introduction, due.address, now);
          break;
        case 'path':
          for (const moved of this.paths.due(now))
            this.updates.push({ type: 'relayed', address: moved.direct, relayed: moved.relayed });
          break;
      }
    }
    this.refreshTimers();
  }

  nextTimeout(): number | undefined {
    return this.timers.next();
  }

  // ---- internals ------------------------------------------------------------------------------

  private onMessage(message: RendezvousMessage, now: number): void {
    switch (message.type) {
      case 'registered': {
        if (message.request !== this.registerRequest) return; // a late copy, or an older registration's
        this.registerRequest = undefined;
        this.timers.set('register', undefined);
        this.publicAddress = addressFromWire(message.ip, message.port);
        this.paths.setCredentials({ tag: message.tag, key: Uint8Array.from(message.relayKey) });
        if (!this.registered) this.updates.push({ type: 'registered', publicAddress: this.publicAddress });
        this.registered = true;
        // Requests made while we were not known go (again) now; they keep their timeouts.
        for (const pending of this.introductions.waitingRequests())
          this.host.sendControl(this.channelId as number, pending.bytes, now);
        return;
      }
      case 'register_failed': {
        if (message.request !== this.registerRequest) return;
        this.registerRequest = undefined;
        this.unknown();
        this.timers.set('register', now + REGISTER_REFUSED_RETRY_MS);
        this.updates.push({ type: 'refused', reason: message.reason, retryIn: REGISTER_REFUSED_RETRY_MS });
        for (const pending of this.introductions.waitingRequests())
          this.fail(pending.request, 'not_registered');
        return;
      }
      case 'introduction':
        this.counts.introductionsReceived++;
        this.onIntroduction(message, now);
        return;
      case 'introduce_failed': {
        if (message.reason === 'not_registered') {
          // It does not know us (it restarted, or forgot us): register again; the request waits
          // for that and goes again, within its timeout.
          if (this.registerRequest !== undefined) return; // already registering again
          this.counts.reregistrations++;
          this.unknown();
          this.sendRegister(now);
          return;
        }
        if (!this.introductions.answered(message.request)) return;
        this.updates.push({ type: 'failed', request: message.request, reason: message.reason });
        return;
      }
      default:
        this.counts.malformed++; // a client never gets register or introduce
    }
  }

  private onIntroduction(message: Introduction, now: number): void {
    const ignored = this.introductions.onIntroduction(message, now);
    if (ignored === undefined) return;
    this.ignored[ignored]++;
    // Our own request is settled either way; the others are dropped silently (counted).
    if (message.role === 'requester' && ignored !== 'unasked')
      this.fail(message.request, ignored === 'wrong_key' ? 'wrong_key' : 'bad_address');
  }

  /** The named moment came: the requester's application connects; the introduced side punches. */
  private begin(introduction: Introduction, address: Address, now: number): void {
    const key = Uint8Array.from(introduction.key);
    const requester = introduction.role === 'requester';
    if (introduction.relayTag !== 0)
      this.paths.follow(address, relayAddress(introduction.relayTag), requester, now);
    if (requester) {
      this.updates.push({ type: 'ready', request: introduction.request, address, key });
      return;
    }
    this.counts.punches++;
    this.host.punch(address, now);
    this.updates.push({ type: 'punched', address, key });
  }

  private requestsDue(now: number): void {
    const { expired, resend } = this.introductions.due(now);
    for (const pending of expired) this.fail(pending.request, 'timeout');
    if (resend.length === 0 || this.channelId === undefined) return;
    for (const pending of resend) this.host.sendControl(this.channelId, pending.bytes, now);
    // No answer in a second: the rendezvous may have restarted and lost our channel.
    this.suspect(now);
  }

  /** Sends `register` (a resend keeps the request number); its timer resends it until answered. */
  private sendRegister(now: number): void {
    if (this.channelId === undefined) return;
    if (this.registerRequest === undefined) {
      this.registerRequest = this.nextRequest++;
      this.registerSent = 0;
    } else if (this.registerSent > 0) {
      this.suspect(now);
    }
    const keys = this.options.listedKeys.slice(0, MAX_LISTED_KEYS);
    const joined = new Uint8Array(keys.length * 32);
    keys.forEach((key, i) => {
      joined.set(key, i * 32);
    });
    const bytes = encodeRendezvous({
      type: 'register',
      request: this.registerRequest,
      acceptFrom: this.options.acceptFrom,
      keys: joined,
    });
    this.registerSent++;
    if (this.host.sendControl(this.channelId, bytes, now))
      this.timers.set('register', now + REQUEST_RETRY_MS);
  }

  /** A request of ours went unanswered: probe the session (at most every PROBE_EVERY_MS). */
  private suspect(now: number): void {
    if (this.session === undefined) return;
    if (this.probedAt !== undefined && now - this.probedAt < PROBE_EVERY_MS) return;
    this.probedAt = now;
    this.counts.probes++;
    this.host.probe(this.session, now);
  }

  /** The rendezvous does not hold our registration (any more). */
  private unknown(): void {
    this.registered = false;
    this.paths.setCredentials(undefined);
  }

  private fail(request: number, reason: IntroduceFailure): void {
    this.introductions.answered(request);
    this.updates.push({ type: 'failed', request, reason });
  }

  private ended(now: number): void {
    const wasRegistered = this.registered;
    this.session = undefined;
    this.channelId = undefined;
    this.registerRequest = undefined;
    this.probedAt = undefined;
    this.heartbeatAt = undefined;
    this.unknown();
    this.timers.set('register', undefined);
    this.timers.set('answer', undefined);
    this.timers.set('reconnect', now + this.reconnectGap);
    if (wasRegistered || this.reconnectGap === RECONNECT_INITIAL_MS)
      this.updates.push({ type: 'unregistered', retryIn: this.reconnectGap, wasRegistered });
    this.reconnectGap = Math.min(RECONNECT_MAX_MS, this.reconnectGap * 2);
  }

  private refreshTimers(): void {
    this.timers.set('request', this.introductions.nextRequestDeadline());
    this.timers.set('start', this.introductions.nextStart());
    this.timers.set('path', this.paths.next());
  }
}

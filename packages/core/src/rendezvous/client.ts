/**
 * The client's side of a rendezvous: keep a session with the rendezvous peer (its heartbeats keep
 * our NAT mapping open) and our registration on it (client-registration.ts), ask for
 * introductions and act on them at the moment the rendezvous names (introductions.ts: the
 * requester connects, the introduced side punches), and fall back to its relay (relay-paths.ts);
 * an open chat whose path dies, or whose relay pair died with a restarted rendezvous, goes on
 * through the relay (open-chats.ts, relay-fallback.ts).
 *
 * The session is the role's own: the application never sees its events, nor lists it. A
 * rendezvous that restarted is found out at the first request that gets no answer, or at our
 * next heartbeat; we then register anew and send again what waits. A rendezvous that says it
 * does not know us (`not_registered`) is registered with again at once.
 */
import type { Address } from '../address.js';
import { errors } from '../errors.js';
import type { NetchatEvent } from '../events.js';
import { ClientRegistration } from './client-registration.js';
import { ClientTimers } from './client-timers.js';
import type { ChannelView, EndpointExtension, EndpointHost } from './extension.js';
import { fingerprintBytes } from './fingerprint.js';
import { FRESH_REGISTRATION_MS, type IgnoredBecause, Introductions } from './introductions.js';
import {
  type AcceptFrom,
  decodeRendezvous,
  encodeRendezvous,
  type FailureReason,
  type Introduction,
  type RendezvousMessage,
} from './messages.js';
import { OpenChats } from './open-chats.js';
import { looksLikeRelay, RELAY_HOST } from './relay.js';
import { RelayPaths } from './relay-paths.js';

export {
  HEARTBEAT_ANSWER_MS,
  PROBE_EVERY_MS,
  RECONNECT_INITIAL_MS,
  RECONNECT_MAX_MS,
  REGISTER_REFUSED_RETRY_MS,
} from './client-registration.js';
export { FRESH_REGISTRATION_MS, INTRODUCE_TIMEOUT_MS, REQUEST_RETRY_MS } from './introductions.js';
export { REFIND_EVERY_MS, REFIND_RATE } from './refinds.js';
export { MAX_FALLBACKS, RELAY_FALLBACK_MS } from './relay-fallback.js';
export { DIRECT_PROBE_EVERY_MS, DIRECT_PROBE_FOR_MS, RELAY_AFTER_MS } from './relay-paths.js';

export interface RendezvousClientOptions {
  server: Address;
  /** Whom the rendezvous may introduce to us: anyone, or only the keys listed. */
  acceptFrom: AcceptFrom;
  listedKeys: readonly Uint8Array[];
  /** Whether our socket can send to an address at all (its IP version); the adapter knows. */
  canReach?: (address: Address) => boolean;
}

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
  /** Introductions, and `not_registered` answers, not acted on, by why (introductions.ts, IgnoredBecause). */
  ignored: Record<IgnoredBecause, number>;
  punches: number;
  /** Connects moved to the relay, and path challenges sent straight to a relayed peer's public address. */
  relayedConnects: number;
  directProbes: number;
  /** Relay packets dropped (undecodable, forged, a copy, not for us, or no netchat packet inside). */
  relayDropped: number;
  /** Packets of ours too large for a relay packet (over 1200 bytes), dropped instead of relayed. */
  relayTooLarge: number;
  /** Introductions asked for because a chat's peer fell silent (Finding a peer again). */
  refinds: number;
  /** Path challenges sent on a chat's channel to where an introduction said its peer is now. */
  refindProbes: number;
  /** Silent direct chats whose peer's relayed address was challenged (relay-fallback.ts). */
  relayFallbacks: number;
  /** Relayed chats challenged at their peer's new relayed address, after a new registration. */
  relayRepairs: number;
  /** Accepted relayed chats whose pair another asked for, asked for by us too (relay-claims.ts). */
  relayClaims: number;
  /** Our session with the rendezvous probed because an answer was missing. */
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
  };
  private readonly ignored: Record<IgnoredBecause, number> = {
    unasked: 0,
    wrong_key: 0,
    not_accepted: 0,
    bad_address: 0,
    punch_rate: 0,
  };
  private readonly options: RendezvousClientOptions;
  private readonly timers = new ClientTimers();
  private readonly registration: ClientRegistration;
  private readonly introductions: Introductions;
  private readonly paths: RelayPaths;
  private readonly chats: OpenChats;
  /** Our relay tag in the registration before: a new one means every relayed chat needs a new pair. */
  private tag: number | undefined;
  private nextRequest = 1;
  private readonly updates: RendezvousUpdate[] = [];

  constructor(
    private readonly host: EndpointHost,
    options: RendezvousClientOptions,
  ) {
    this.options = { ...options };
    this.introductions = new Introductions(this.options);
    this.paths = new RelayPaths(host);
    this.registration = new ClientRegistration(host, this.timers, this.options, () => this.nextRequest++, {
      registered: ({ tag, key, publicAddress, first }, now) => {
        this.paths.setCredentials({ tag, key });
        if (first) this.updates.push({ type: 'registered', publicAddress });
        // Requests made while we were not known go (again) now; they keep their timeouts.
        const channel = this.registration.channel as number;
        for (const pending of this.introductions.waitingRequests())
          this.host.sendControl(channel, pending.bytes, now);
        // A new tag: the relay pairs of our relayed chats died with the old registration.
        if (tag !== this.tag) this.chats.repairRelayed(now);
        this.tag = tag;
      },
      forgotten: () => this.paths.setCredentials(undefined),
      relayRate: (bytesPerSecond) => this.paths.setRelayRate(bytesPerSecond),
      refused: (reason, retryIn) => {
        this.updates.push({ type: 'refused', reason, retryIn });
        for (const pending of this.introductions.waitingRequests())
          this.fail(pending.request, 'not_registered');
      },
      ended: (retryIn, wasRegistered, announce) => {
        if (announce) this.updates.push({ type: 'unregistered', retryIn, wasRegistered });
      },
    });
    this.chats = new OpenChats(host, {
      registration: this.registration,
      introductions: this.introductions,
      paths: this.paths,
      introduce: (fingerprintText, now) => this.introduce(fingerprintText, now),
    });
  }

  get stats(): Readonly<RendezvousClientStats> {
    const { probes, reregistrations } = this.registration;
    return {
      ...this.counts,
      ...this.chats.counts,
      ...this.paths.stats,
      ...this.chats.fallback.stats,
      probes,
      reregistrations,
      ignored: { ...this.ignored },
    };
  }

  /** Opens the session with the rendezvous; registration follows when it is accepted. */
  start(now: number): void {
    this.registration.start(now);
  }

  get isRegistered(): boolean {
    return this.registration.isRegistered;
  }

  /** Where the rendezvous sees us, once registered. */
  get observedAddress(): Address | undefined {
    return this.registration.observedAddress;
  }

  /**
   * Asks to be introduced to the peer with this fingerprint; a `ready` or `failed` update follows
   * for the returned request. Throws INVALID_ARGUMENT if the text is not a fingerprint.
   */
  introduce(fingerprintText: string, now: number): number {
    const wanted = fingerprintBytes(fingerprintText);
    if (!wanted) throw errors.invalidArgument('fingerprint', `"${fingerprintText}" is not one`);
    const request = this.nextRequest++;
    const channel = this.registration.channel;
    if (!this.registration.isRegistered || channel === undefined) {
      this.updates.push({ type: 'failed', request, reason: 'not_registered' });
      return request;
    }
    const bytes = encodeRendezvous({ type: 'introduce', request, fingerprint: wanted });
    this.introductions.ask(request, wanted, bytes, now);
    this.host.sendControl(channel, bytes, now);
    this.refreshTimers(now);
    return request;
  }

  /** New terms for introductions (the setting changed): registered again with them at once. */
  setIntroductions(acceptFrom: AcceptFrom, listedKeys: readonly Uint8Array[], now: number): void {
    this.options.acceptFrom = acceptFrom;
    this.options.listedKeys = listedKeys;
    this.introductions.accept(this.options);
    this.registration.register(now, true);
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
    const channel = this.registration.channel;
    const rendezvous = channel === undefined ? undefined : this.host.openChannel(channel);
    return this.paths.wrap(to, bytes, rendezvous?.address);
  }

  onControl(channel: ChannelView, bytes: Uint8Array, now: number): void {
    const decoded = decodeRendezvous(bytes);
    // Only our rendezvous may tell us where to send handshakes.
    if (!decoded.ok || channel.id !== this.registration.channel) {
      this.counts.malformed++;
      return;
    }
    this.onMessage(decoded.datagram, now);
    this.refreshTimers(now);
  }

  onEvent(event: NetchatEvent, now: number): void {
    this.registration.onEvent(event, now);
  }

  /** A chat's peer fell silent: the rendezvous is asked where it is now (open-chats.ts). */
  onPeerSilent(channel: ChannelView, now: number): void {
    this.chats.onPeerSilent(channel, now);
    this.refreshTimers(now); // a refind that waits its turn
  }

  handleTimeout(now: number): void {
    for (const name of this.timers.takeExpired(now)) {
      switch (name) {
        case 'reconnect':
          this.registration.start(now);
          break;
        case 'register':
          this.registration.register(now);
          break;
        case 'answer':
          this.registration.answerDue(now);
          break;
        case 'request':
          this.requestsDue(now);
          break;
        case 'start':
          for (const due of this.introductions.takeDueStarts(now))
            this.begin(due.introduction, due.address, now);
          break;
        case 'fallback':
          this.chats.fallback.due(now);
          break;
        case 'claim':
          this.chats.claimDue(now);
          break;
        case 'refind':
          this.chats.refindDue(now);
          break;
        case 'path':
          for (const moved of this.paths.due(now))
            this.updates.push({ type: 'relayed', address: moved.direct, relayed: moved.relayed });
          break;
        case 'share':
          this.paths.sweepShares(now);
          break;
      }
    }
    this.refreshTimers(now);
  }

  nextTimeout(): number | undefined {
    return this.timers.next();
  }

  // ---- internals ------------------------------------------------------------------------------

  private onMessage(message: RendezvousMessage, now: number): void {
    switch (message.type) {
      case 'registered':
        this.registration.onRegistered(message, now);
        return;
      case 'register_failed':
        this.registration.onRegisterFailed(message, now);
        return;
      case 'relay_rate':
        this.registration.onRelayRate(message);
        return;
      case 'introduction':
        this.counts.introductionsReceived++;
        this.onIntroduction(message, now);
        return;
      case 'introduce_failed':
        // Not known: register again; the request waits for that and goes again, within its timeout.
        // Only for a request of ours, at most once a second each: a rendezvous that repeats it (or
        // names requests never made) made us register, and say so to the person, each time.
        if (message.reason === 'not_registered') {
          if (this.introductions.toldUnregistered(message.request)) this.registration.onUnknown(now);
          else this.ignored.unasked++;
        } else if (
          (message.reason === 'unavailable' || message.reason === 'rate_limited') &&
          // A refind is not asked again: a chat still silent asks in its turn, within the refind
          // budget. Asked again outside it, 12 silent chats of an unregistered stranger made 54
          // requests in the window, and the rendezvous refused our user's lookup for its rate.
          !this.chats.refinds.has(message.request) &&
          this.registration.registeredWithin(FRESH_REGISTRATION_MS, now) &&
          this.introductions.askAgain(message.request, message.reason, now)
        )
          return; // the peer may register in a moment, the rate have room (FRESH_REGISTRATION_MS): asked again in a second
        else if (this.introductions.answered(message.request) && !this.chats.refinds.settle(message.request))
          this.updates.push({ type: 'failed', request: message.request, reason: message.reason });
        return;
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

  /**
   * The named moment came: the requester's application connects; the introduced side punches.
   * With a peer we chat with already, a path challenge goes to the named address instead, if it is
   * not where the channel is: it opens our NAT to the peer's new address and, answered from there,
   * moves the channel (Finding a peer again). Nothing is punched then, and a refind's answer is ours.
   */
  private begin(introduction: Introduction, address: Address, now: number): void {
    const key = Uint8Array.from(introduction.key);
    const requester = introduction.role === 'requester';
    const chatting = this.host.openChannelOfKey(key);
    const open = chatting !== undefined && chatting.id !== this.registration.channel;
    if (open) this.chats.keep(chatting, address, introduction.relayTag, now);
    // A refind's answer is ours, whatever became of the chat meanwhile; with a peer we chat with,
    // nothing is punched.
    if (introduction.relayTag !== 0)
      this.chats.claims.introduced(requester, this.paths.relayedAddress(introduction.relayTag), now);
    if ((requester && this.chats.refinds.settle(introduction.request)) || (open && !requester)) return;
    if (introduction.relayTag !== 0) this.paths.follow(address, introduction.relayTag, requester, now);
    if (requester) {
      this.updates.push({ type: 'ready', request: introduction.request, address, key });
      return;
    }
    this.counts.punches++;
    this.host.punch(address, now);
    this.updates.push({ type: 'punched', address, key });
  }

  private requestsDue(now: number): void {
    const { expired, resend, unanswered } = this.introductions.due(now);
    for (const pending of expired) this.fail(pending.request, pending.refused ?? 'timeout');
    const channel = this.registration.channel;
    if (resend.length === 0 || channel === undefined) return;
    for (const pending of resend) this.host.sendControl(channel, pending.bytes, now);
    // No answer in a second: the rendezvous may have restarted and lost our channel.
    if (unanswered) this.registration.doubt(now);
  }

  private fail(request: number, reason: IntroduceFailure): void {
    this.introductions.answered(request);
    if (!this.chats.refinds.settle(request)) this.updates.push({ type: 'failed', request, reason });
  }

  /**
   * Files every part's earliest deadline. The share sweep starts here too: a relayed address
   * starts sharing in `wrap`, which brings no time, so its first sweep is filed at the next call
   * that does (a relayed session always has a timer of its own due soon).
   */
  private refreshTimers(now: number): void {
    this.timers.set('request', this.introductions.nextRequestDeadline());
    this.timers.set('start', this.introductions.nextStart());
    this.timers.set('path', this.paths.next());
    this.timers.set('fallback', this.chats.fallback.next());
    this.timers.set('claim', this.chats.claims.next());
    this.timers.set('refind', this.chats.refinds.next());
    this.timers.set('share', this.paths.nextShareSweep(now));
  }
}

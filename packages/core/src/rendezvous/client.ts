/**
 * The client's side of a rendezvous: keep a session with the rendezvous peer (its heartbeats keep
 * our NAT mapping open), register our key on it, ask for introductions, and send handshakes at
 * the moment the rendezvous names (hole punching).
 *
 * The session is the extension's own: the application never sees its events. When it ends
 * (the rendezvous restarted, the path died), a new one is made after a back-off.
 */
import { type Address, formatAddress, sameAddress } from '../address.js';
import type { NetchatEvent, SessionId } from '../events.js';
import { equalBytes, fingerprint } from '../secure/crypto.js';
import type { ChannelView, EndpointExtension, EndpointHost } from './extension.js';
import { fingerprintBytes } from './fingerprint.js';
import {
  type AcceptFrom,
  addressFromWire,
  decodeRendezvous,
  encodeRendezvous,
  type FailureReason,
  INTRODUCE_PADDING_BYTES,
  type Introduction,
  MAX_LISTED_KEYS,
  REGISTER_PADDING_BYTES,
  type RendezvousMessage,
} from './messages.js';
import { decodeRelay, encodeRelay, relayAddress } from './relay.js';

export interface RendezvousClientOptions {
  server: Address;
  /** Whom the rendezvous may introduce to us: anyone, or only the keys listed. */
  acceptFrom: AcceptFrom;
  listedKeys: readonly Uint8Array[];
}

/** Gaps between resent requests (register, introduce) while unanswered (ms). */
export const REQUEST_RETRY_MS = 1_000;
/** An introduction not answered by then fails. */
export const INTRODUCE_TIMEOUT_MS = 5_000;
/** Back-off before a new session when the one with the rendezvous ended: doubling up to the max. */
export const RECONNECT_INITIAL_MS = 1_000;
export const RECONNECT_MAX_MS = 30_000;
/** A connect that has not opened its channel by then goes through the relay. */
export const RELAY_AFTER_MS = 3_000;
/** While relayed, a keepalive goes straight to the peer's public address this often, for this long. */
export const DIRECT_PROBE_EVERY_MS = 5_000;
export const DIRECT_PROBE_FOR_MS = 60_000;
/** Relay paths followed at most (older ones stop probing). */
const MAX_PATHS = 16;
/** Punches kept scheduled at most (introductions others asked for). */
const MAX_SCHEDULED_PUNCHES = 16;

export type IntroduceFailure = FailureReason | 'timeout' | 'not_registered' | 'wrong_key';

export type RendezvousUpdate =
  /** Registered; `publicAddress` is where the rendezvous sees us (our NAT's public side). */
  | { readonly type: 'registered'; readonly publicAddress: Address }
  /** The session with the rendezvous ended (or never opened); a new one follows after `retryIn` ms. */
  | { readonly type: 'unregistered'; readonly retryIn: number; readonly wasRegistered: boolean }
  /** Our introduction: connect to `address` now (the peer sends its handshakes at this moment too). */
  | { readonly type: 'ready'; readonly request: number; readonly address: Address; readonly key: Uint8Array }
  | { readonly type: 'failed'; readonly request: number; readonly reason: IntroduceFailure }
  /** Someone asked for us: we sent handshakes to `address` (its request, if any, comes as usual). */
  | { readonly type: 'punched'; readonly address: Address; readonly key: Uint8Array }
  /** No direct path opened to `address` in time: our connect goes through the relay as `relayed`. */
  | { readonly type: 'relayed'; readonly address: Address; readonly relayed: Address };

/** An introduced peer: its public address, its relayed address, and what we still do about the path. */
interface PeerPath {
  readonly direct: Address;
  readonly relayed: Address;
  /** For our own connect: when to give up on the direct path. */
  switchAt: number | undefined;
  nextProbe: number;
  readonly probeUntil: number;
}

interface PendingIntroduction {
  readonly request: number;
  readonly fingerprint: Uint8Array;
  readonly bytes: Uint8Array;
  readonly deadline: number;
  resendAt: number;
}

interface ScheduledStart {
  readonly at: number;
  readonly introduction: Introduction;
}

export interface RendezvousClientStats {
  malformed: number;
  introductionsReceived: number;
  punches: number;
  /** Connects moved to the relay, and keepalives sent straight to a relayed peer's public address. */
  relayedConnects: number;
  directProbes: number;
}

export class RendezvousClient implements EndpointExtension {
  readonly stats: RendezvousClientStats = {
    malformed: 0,
    introductionsReceived: 0,
    punches: 0,
    relayedConnects: 0,
    directProbes: 0,
  };
  private paths: PeerPath[] = [];
  private session: SessionId | undefined;
  private channelId: number | undefined;
  private registered = false;
  private publicAddress: Address | undefined;
  private registerResendAt: number | undefined;
  private reconnectAt: number | undefined;
  private reconnectGap = RECONNECT_INITIAL_MS;
  private nextRequest = 1;
  private readonly pending = new Map<number, PendingIntroduction>();
  private starts: ScheduledStart[] = [];
  private readonly updates: RendezvousUpdate[] = [];

  constructor(
    private readonly host: EndpointHost,
    private readonly options: RendezvousClientOptions,
  ) {}

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

  /** Asks to be introduced to the peer with this fingerprint; a `ready` or `failed` update follows for the returned request. */
  introduce(fingerprintText: string, now: number): number {
    const request = this.nextRequest++;
    const wanted = fingerprintBytes(fingerprintText);
    if (!wanted) throw new RangeError(`not a fingerprint: ${fingerprintText}`);
    const channel = this.channelId === undefined ? undefined : this.host.openChannel(this.channelId);
    if (!this.registered || !channel) {
      this.updates.push({ type: 'failed', request, reason: 'not_registered' });
      return request;
    }
    const bytes = encodeRendezvous({
      type: 'introduce',
      request,
      fingerprint: wanted,
      padding: new Uint8Array(INTRODUCE_PADDING_BYTES),
    });
    this.pending.set(request, {
      request,
      fingerprint: wanted,
      bytes,
      deadline: now + INTRODUCE_TIMEOUT_MS,
      resendAt: now + REQUEST_RETRY_MS,
    });
    this.host.sendControl(channel.id, bytes, now);
    return request;
  }

  pollUpdate(): RendezvousUpdate | undefined {
    return this.updates.shift();
  }

  // ---- EndpointExtension ----------------------------------------------------------------------

  onControl(channel: ChannelView, bytes: Uint8Array, now: number): void {
    const decoded = decodeRendezvous(bytes);
    // Only our rendezvous may tell us where to send handshakes.
    if (!decoded.ok || channel.id !== this.channelId) {
      this.stats.malformed++;
      return;
    }
    this.onMessage(decoded.datagram, now);
  }

  claims(event: NetchatEvent): boolean {
    return event.session === this.session;
  }

  onEvent(event: NetchatEvent, now: number): void {
    if (event.type === 'accepted') {
      this.channelId = this.host.channelOf(event.session)?.id;
      this.reconnectGap = RECONNECT_INITIAL_MS;
      this.sendRegister(now);
      return;
    }
    if (
      event.type === 'declined' ||
      event.type === 'no_answer' ||
      event.type === 'lost' ||
      event.type === 'closed'
    )
      this.ended(now);
  }

  handleTimeout(now: number): void {
    if (this.reconnectAt !== undefined && now >= this.reconnectAt) {
      this.reconnectAt = undefined;
      this.start(now);
    }
    if (this.registerResendAt !== undefined && now >= this.registerResendAt) this.sendRegister(now);
    for (const pending of [...this.pending.values()]) {
      if (now >= pending.deadline) {
        this.pending.delete(pending.request);
        this.updates.push({ type: 'failed', request: pending.request, reason: 'timeout' });
      } else if (now >= pending.resendAt && this.channelId !== undefined) {
        pending.resendAt = now + REQUEST_RETRY_MS;
        this.host.sendControl(this.channelId, pending.bytes, now);
      }
    }
    const due = this.starts.filter((s) => s.at <= now);
    this.starts = this.starts.filter((s) => s.at > now);
    for (const start of due) this.begin(start.introduction, now);
    this.followPaths(now);
  }

  /** A relay packet from our rendezvous: its inner packet comes from the relayed address of its tag. */
  onRelay(bytes: Uint8Array, from: Address, now: number): boolean {
    const channel = this.channelId === undefined ? undefined : this.host.openChannel(this.channelId);
    if (!channel || !sameAddress(channel.address, from)) return false; // not from our rendezvous: the secure layer drops it
    const decoded = decodeRelay(bytes);
    if (!decoded.ok) {
      this.stats.malformed++;
      return true;
    }
    this.host.receive(decoded.datagram.inner, relayAddress(decoded.datagram.tag), now);
    return true;
  }

  wrapRelay(to: Address, bytes: Uint8Array): { to: Address; data: Uint8Array } | undefined {
    const channel = this.channelId === undefined ? undefined : this.host.openChannel(this.channelId);
    if (!channel) return undefined; // no rendezvous now: the packet is lost like any other, and resent
    return { to: channel.address, data: encodeRelay({ type: 'relay', tag: to.port, inner: bytes }) };
  }

  nextTimeout(): number | undefined {
    let next: number | undefined;
    const consider = (at: number | undefined) => {
      if (at !== undefined && (next === undefined || at < next)) next = at;
    };
    consider(this.reconnectAt);
    consider(this.registerResendAt);
    for (const pending of this.pending.values()) consider(Math.min(pending.deadline, pending.resendAt));
    for (const start of this.starts) consider(start.at);
    for (const path of this.paths) {
      consider(path.switchAt);
      if (path.nextProbe <= path.probeUntil) consider(path.nextProbe);
    }
    return next;
  }

  // ---- internals ------------------------------------------------------------------------------

  private onMessage(message: RendezvousMessage, now: number): void {
    switch (message.type) {
      case 'registered': {
        this.registerResendAt = undefined;
        this.publicAddress = addressFromWire(message.ip, message.port);
        if (!this.registered) this.updates.push({ type: 'registered', publicAddress: this.publicAddress });
        this.registered = true;
        return;
      }
      case 'introduction':
        this.onIntroduction(message, now);
        return;
      case 'introduce_failed': {
        if (!this.pending.delete(message.request)) return;
        this.updates.push({ type: 'failed', request: message.request, reason: message.reason });
        return;
      }
      default:
        this.stats.malformed++; // a client never gets register or introduce
    }
  }

  private onIntroduction(message: Introduction, now: number): void {
    this.stats.introductionsReceived++;
    if (message.role === 'requester') {
      const pending = this.pending.get(message.request);
      if (!pending) return; // a late copy
      this.pending.delete(message.request);
      // The rendezvous named the key; the handshake will prove it. A key that does not match the
      // fingerprint asked for means a lying rendezvous: no connect.
      const named = fingerprintBytes(fingerprint(message.key));
      if (!named || !equalBytes(named, pending.fingerprint)) {
        this.updates.push({ type: 'failed', request: message.request, reason: 'wrong_key' });
        return;
      }
    } else if (this.starts.length >= MAX_SCHEDULED_PUNCHES) {
      return;
    }
    this.starts.push({ at: now + message.startIn, introduction: message });
  }

  /** The named moment came: the requester's application connects; the introduced side punches. */
  private begin(introduction: Introduction, now: number): void {
    const address = addressFromWire(introduction.ip, introduction.port);
    const key = Uint8Array.from(introduction.key);
    const requester = introduction.role === 'requester';
    if (introduction.relayTag !== 0)
      this.follow(address, relayAddress(introduction.relayTag), requester, now);
    if (requester) {
      this.updates.push({ type: 'ready', request: introduction.request, address, key });
      return;
    }
    this.stats.punches++;
    this.host.punch(address, now);
    this.updates.push({ type: 'punched', address, key });
  }

  private follow(direct: Address, relayed: Address, requester: boolean, now: number): void {
    this.paths = this.paths.filter((p) => formatAddress(p.direct) !== formatAddress(direct));
    this.paths.push({
      direct,
      relayed,
      switchAt: requester ? now + RELAY_AFTER_MS : undefined,
      nextProbe: now + RELAY_AFTER_MS + DIRECT_PROBE_EVERY_MS,
      probeUntil: now + DIRECT_PROBE_FOR_MS,
    });
    if (this.paths.length > MAX_PATHS) this.paths.shift();
  }

  /**
   * Our connect that has no open channel by its deadline moves to the relay; while a chat is
   * relayed, both sides now and then send a keepalive straight to the other's public address:
   * once one gets through, path validation moves the chat there.
   */
  private followPaths(now: number): void {
    for (const path of this.paths) {
      if (path.switchAt !== undefined && now >= path.switchAt) {
        path.switchAt = undefined;
        if (!this.host.openTo(path.direct) && this.host.relayConnect(path.direct, path.relayed, now)) {
          this.stats.relayedConnects++;
          this.updates.push({ type: 'relayed', address: path.direct, relayed: path.relayed });
        }
      }
      if (now >= path.nextProbe && path.nextProbe <= path.probeUntil) {
        path.nextProbe = now + DIRECT_PROBE_EVERY_MS;
        if (this.host.probeDirect(path.relayed, path.direct, now)) this.stats.directProbes++;
      }
    }
    this.paths = this.paths.filter((p) => p.switchAt !== undefined || p.nextProbe <= p.probeUntil);
  }

  private sendRegister(now: number): void {
    if (this.channelId === undefined) return;
    const keys = this.options.listedKeys.slice(0, MAX_LISTED_KEYS);
    const joined = new Uint8Array(keys.length * 32);
    keys.forEach((key, i) => {
      joined.set(key, i * 32);
    });
    const bytes = encodeRendezvous({
      type: 'register',
      request: this.nextRequest++,
      acceptFrom: this.options.acceptFrom,
      padding: new Uint8Array(REGISTER_PADDING_BYTES),
      keys: joined,
    });
    if (!this.host.sendControl(this.channelId, bytes, now)) return;
    this.registerResendAt = now + REQUEST_RETRY_MS;
  }

  private ended(now: number): void {
    const wasRegistered = this.registered;
    this.session = undefined;
    this.channelId = undefined;
    this.registered = false;
    this.registerResendAt = undefined;
    this.reconnectAt = now + this.reconnectGap;
    if (wasRegistered || this.reconnectGap === RECONNECT_INITIAL_MS)
      this.updates.push({ type: 'unregistered', retryIn: this.reconnectGap, wasRegistered });
    this.reconnectGap = Math.min(RECONNECT_MAX_MS, this.reconnectGap * 2);
  }
}

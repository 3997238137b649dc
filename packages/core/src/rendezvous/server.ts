/**
 * The rendezvous role: clients register their key (proven by the channel's handshake) and whom
 * they accept introductions from; a client that asks for a registered fingerprint, and is
 * accepted by its owner, is introduced: each side learns the address the rendezvous sees for the
 * other and when to start sending handshakes (hole punching).
 *
 * Little state: one record per registered key (bounded, least recently registered dropped
 * first), nothing per request. Every answer goes over the asker's channel, so to an address a
 * handshake or path validation proved: nothing is ever sent to an unproven address, and each
 * answer is no longer than the request it answers (tested). Requests are limited per host.
 */
import { type Address, formatAddress, sameAddress } from '../address.js';
import type { NetchatEvent } from '../events.js';
import { hostKey } from '../secure/host-key.js';
import { fingerprint, toHex } from '../secure/crypto.js';
import { TokenBuckets } from '../token-buckets.js';
import type { ChannelView, EndpointExtension, EndpointHost } from './extension.js';
import { fingerprintText } from './fingerprint.js';
import {
  type AcceptFrom,
  addressToWire,
  decodeRendezvous,
  encodeRendezvous,
  type Introduce,
  KEY_BYTES,
  type Register,
} from './messages.js';
import { decodeRelay, encodeRelay } from './relay.js';

export interface RendezvousServerOptions {
  /** Registered keys kept at most (the least recently registered is dropped first). */
  maxRegistrations: number;
  /** Requests (register, introduce) a second from one host, and the burst. */
  requestsPerSecond: number;
  requestBurst: number;
  /** Relayed bytes a second one introduced pair may send each way, and the burst (bytes). */
  relayBytesPerSecond: number;
  relayBurstBytes: number;
  /** Introduced pairs kept for relaying at most, and how long one is kept unused (ms). */
  maxRelayPairs: number;
  relayPairIdleMs: number;
  /** Added to half the slower client's round trip: how far ahead both are told to start. */
  startMarginMs: number;
  /**
   * How much later the requester starts than the introduced side: its first init should find the
   * other NAT already opened by the punch. On a LAN-fast path a start that is simultaneous to the
   * millisecond loses that race by timer jitter alone, and costs a 500 ms init resend (lab: 690 ms).
   */
  requesterLagMs: number;
}

export const DEFAULT_RENDEZVOUS_SERVER_OPTIONS: RendezvousServerOptions = {
  maxRegistrations: 10_000,
  requestsPerSecond: 5,
  requestBurst: 10,
  relayBytesPerSecond: 64 * 1024,
  relayBurstBytes: 128 * 1024,
  maxRelayPairs: 10_000,
  relayPairIdleMs: 120_000,
  startMarginMs: 50,
  requesterLagMs: 20,
};

/** The least time between two re-indexings of registrations by address (see senderAt). */
const REINDEX_EVERY_MS = 1_000;

/** Assumed for a client whose round trip is not measured yet. */
const UNMEASURED_RTT_MS = 200;

export interface RendezvousServerStats {
  registrations: number;
  introductions: number;
  /** Introductions refused: the peer unknown, gone, or not accepting the asker. */
  refused: number;
  rateLimited: number;
  malformed: number;
  /** Packets (and their bytes) relayed between introduced pairs. */
  relayed: number;
  relayedBytes: number;
  /** Relay packets dropped: from an unregistered address, for a pair never introduced, or over the pair's bandwidth. */
  relayDropped: number;
}

interface Registration {
  readonly channelId: number;
  readonly key: Uint8Array;
  readonly acceptFrom: AcceptFrom;
  readonly listed: ReadonlySet<string>;
  /** Its number in relay packets (PROTOCOL.md, "Relay"). */
  readonly tag: number;
}

/** One direction of an introduced pair, as the relay keeps it: a byte budget and when it was last used. */
interface RelayPair {
  tokens: number;
  updatedAt: number;
}

export class RendezvousServer implements EndpointExtension {
  readonly stats: RendezvousServerStats = {
    registrations: 0,
    introductions: 0,
    refused: 0,
    rateLimited: 0,
    malformed: 0,
    relayed: 0,
    relayedBytes: 0,
    relayDropped: 0,
  };
  private readonly byTag = new Map<number, string>();
  /** `${from tag}>${to tag}` for each introduced pair, both directions; the Map's order is least recently used first. */
  private readonly pairs = new Map<string, RelayPair>();
  /** Which registration speaks from an address (formatAddress), refreshed when a channel moved. */
  private readonly byAddress = new Map<string, string>();
  private nextTag = 1;
  private lastReindex = Number.NEGATIVE_INFINITY;
  /** By fingerprint text; the Map's order is the order of registration (oldest first). */
  private readonly registrations = new Map<string, Registration>();
  private readonly limits: TokenBuckets;

  constructor(
    private readonly host: EndpointHost,
    private readonly options: RendezvousServerOptions = DEFAULT_RENDEZVOUS_SERVER_OPTIONS,
  ) {
    this.limits = new TokenBuckets(options.requestsPerSecond, options.requestBurst);
  }

  get size(): number {
    return this.registrations.size;
  }

  onControl(channel: ChannelView, bytes: Uint8Array, now: number): void {
    const decoded = decodeRendezvous(bytes);
    if (!decoded.ok) {
      this.stats.malformed++;
      return;
    }
    const message = decoded.datagram;
    if (message.type !== 'register' && message.type !== 'introduce') {
      this.stats.malformed++; // only a rendezvous sends the others
      return;
    }
    if (!this.limits.tryTake(hostKey(channel.address), now)) {
      this.stats.rateLimited++;
      if (message.type === 'introduce')
        this.reply(
          channel,
          { type: 'introduce_failed', request: message.request, reason: 'rate_limited' },
          now,
        );
      return;
    }
    if (message.type === 'register') this.register(channel, message, now);
    else this.introduce(channel, message, now);
  }

  claims(_event: NetchatEvent): boolean {
    return false;
  }

  onEvent(): void {}
  handleTimeout(): void {}
  nextTimeout(): number | undefined {
    return undefined;
  }

  private register(channel: ChannelView, message: Register, now: number): void {
    const listed = new Set<string>();
    for (let at = 0; at < message.keys.length; at += KEY_BYTES)
      listed.add(toHex(message.keys.subarray(at, at + KEY_BYTES)));
    const name = fingerprint(channel.remoteKey);
    const tag = this.registrations.get(name)?.tag ?? this.newTag();
    this.registrations.delete(name);
    this.registrations.set(name, {
      channelId: channel.id,
      key: channel.remoteKey,
      acceptFrom: message.acceptFrom,
      listed,
      tag,
    });
    this.byTag.set(tag, name);
    this.byAddress.set(formatAddress(channel.address), name);
    if (this.registrations.size > this.options.maxRegistrations) {
      const oldest = this.registrations.keys().next().value as string;
      this.byTag.delete(this.registrations.get(oldest)?.tag as number);
      this.registrations.delete(oldest);
    }
    this.stats.registrations++;
    this.reply(
      channel,
      { type: 'registered', request: message.request, ...addressToWire(channel.address) },
      now,
    );
  }

  private introduce(asker: ChannelView, message: Introduce, now: number): void {
    const target = this.find(fingerprintText(message.fingerprint));
    const askerKey = toHex(asker.remoteKey);
    const accepts =
      target !== undefined &&
      toHex(target.remoteKey) !== askerKey &&
      (target.registration.acceptFrom === 'anyone' || target.registration.listed.has(askerKey));
    if (!target || !accepts) {
      this.stats.refused++;
      this.reply(asker, { type: 'introduce_failed', request: message.request, reason: 'unavailable' }, now);
      return;
    }
    // Both should send their first handshake at the same moment: each is told to wait the
    // difference between half the slower round trip (plus a margin) and half its own.
    const rttAsker = this.host.rtt(asker.id) ?? UNMEASURED_RTT_MS;
    const rttTarget = this.host.rtt(target.id) ?? UNMEASURED_RTT_MS;
    const at = Math.max(rttAsker, rttTarget) / 2 + this.options.startMarginMs;
    const startIn = (rtt: number) => Math.min(65_535, Math.round(at - rtt / 2));
    this.stats.introductions++;
    const askerTag = this.find(fingerprint(asker.remoteKey))?.registration.tag ?? 0;
    if (askerTag !== 0) {
      this.pair(askerTag, target.registration.tag, now);
      this.pair(target.registration.tag, askerTag, now);
    }
    this.send(target, introduction(0, 'introduced', asker, startIn(rttTarget), askerTag), now);
    const lagged = Math.min(65_535, startIn(rttAsker) + this.options.requesterLagMs);
    this.reply(
      asker,
      introduction(message.request, 'requester', target, lagged, target.registration.tag),
      now,
    );
  }

  /**
   * A relay packet: from a registered client's current (proven) address, for a peer it was
   * introduced to, within the pair's bandwidth. Forwarded as it came, with the sender's tag in
   * place of the receiver's, to the receiver's proven address: the same size, so no amplification.
   */
  onRelay(bytes: Uint8Array, from: Address, now: number): boolean {
    const decoded = decodeRelay(bytes);
    if (!decoded.ok) {
      this.stats.relayDropped++;
      return true;
    }
    const sender = this.senderAt(from, now);
    const receiver = this.byTag.get(decoded.datagram.tag);
    const target = receiver === undefined ? undefined : this.find(receiver);
    const pair = sender && target && this.pairs.get(`${sender.tag}>${target.registration.tag}`);
    if (!sender || !target || !pair || !this.spend(pair, bytes.length, now)) {
      this.stats.relayDropped++;
      return true;
    }
    this.stats.relayed++;
    this.stats.relayedBytes += bytes.length;
    this.host.transmit(
      target.address,
      encodeRelay({ type: 'relay', tag: sender.tag, inner: decoded.datagram.inner }),
    );
    return true;
  }

  /**
   * The registration whose channel is now at `address`, if any. A channel that moved (roaming)
   * is found by re-indexing every registration: at most once a second, so relay packets from
   * unknown (or spoofed) addresses cannot make the rendezvous scan its table for each one.
   */
  private senderAt(address: Address, now: number): Registration | undefined {
    const key = formatAddress(address);
    const name = this.byAddress.get(key);
    const found = name === undefined ? undefined : this.find(name);
    if (found && sameAddress(found.address, address)) return found.registration;
    if (now - this.lastReindex < REINDEX_EVERY_MS) return undefined;
    this.lastReindex = now;
    this.byAddress.clear();
    for (const [other, registration] of this.registrations) {
      const channel = this.host.openChannel(registration.channelId);
      if (channel) this.byAddress.set(formatAddress(channel.address), other);
    }
    const again = this.byAddress.get(key);
    return again === undefined ? undefined : this.registrations.get(again);
  }

  private pair(from: number, to: number, now: number): void {
    const key = `${from}>${to}`;
    this.pairs.delete(key);
    this.pairs.set(key, { tokens: this.options.relayBurstBytes, updatedAt: now });
    while (this.pairs.size > this.options.maxRelayPairs)
      this.pairs.delete(this.pairs.keys().next().value as string);
    // Pairs unused for long are forgotten (the oldest come first).
    for (const [k, p] of this.pairs) {
      if (now - p.updatedAt < this.options.relayPairIdleMs) break;
      this.pairs.delete(k);
    }
  }

  /** Takes `bytes` from the pair's budget (refilled at relayBytesPerSecond), if there is enough. */
  private spend(pair: RelayPair, bytes: number, now: number): boolean {
    const { relayBytesPerSecond, relayBurstBytes, relayPairIdleMs } = this.options;
    if (now - pair.updatedAt > relayPairIdleMs) return false;
    pair.tokens = Math.min(
      relayBurstBytes,
      pair.tokens + ((now - pair.updatedAt) / 1000) * relayBytesPerSecond,
    );
    pair.updatedAt = now;
    if (pair.tokens < bytes) return false;
    pair.tokens -= bytes;
    return true;
  }

  private newTag(): number {
    while (this.byTag.has(this.nextTag) || this.nextTag === 0) this.nextTag = (this.nextTag + 1) >>> 0;
    return this.nextTag++;
  }

  /** The registration for a fingerprint, if its channel is still open (else it is forgotten). */
  private find(name: string): (ChannelView & { registration: Registration }) | undefined {
    const registration = this.registrations.get(name);
    if (!registration) return undefined;
    const channel = this.host.openChannel(registration.channelId);
    if (!channel || !sameKey(channel.remoteKey, registration.key)) {
      this.registrations.delete(name);
      return undefined;
    }
    return { ...channel, registration };
  }

  private reply(channel: ChannelView, message: Parameters<typeof encodeRendezvous>[0], now: number): void {
    this.host.sendControl(channel.id, encodeRendezvous(message), now);
  }

  private send(channel: ChannelView, message: Parameters<typeof encodeRendezvous>[0], now: number): void {
    this.host.sendControl(channel.id, encodeRendezvous(message), now);
  }
}

/** The same channel gives the same key object; compare bytes only when it does not. */
function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  return a === b || Buffer.compare(a, b) === 0;
}

function introduction(
  request: number,
  role: 'requester' | 'introduced',
  other: { remoteKey: Uint8Array; address: Address },
  startIn: number,
  relayTag: number,
) {
  return {
    type: 'introduction' as const,
    request,
    role,
    key: other.remoteKey,
    ...addressToWire(other.address),
    startIn,
    relayTag,
  };
}

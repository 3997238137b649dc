/**
 * The rendezvous role: clients register their key (proven by the channel's handshake) and whom
 * they accept introductions from; a registered client that asks for a registered fingerprint,
 * and is accepted by its owner, is introduced: each side learns the address the rendezvous sees
 * for the other and when to start sending handshakes (hole punching), and the pair may use the
 * relay (relay-forwarder.ts) if no direct path opens.
 *
 * Whom it serves is the operator's: rendezvous messages are acted on only on a channel that
 * carries an open session, so only peers the application's policy and limits accepted (the
 * bot's --accept, --allow, --max-sessions) may register, be introduced or relay. A registration
 * lives while its session does: when the last open session on its channel ends it is forgotten
 * at once, with everything kept for it (registration-table.ts). When the table is full a new
 * client is refused (`register_failed`, `full`): a live registration is never evicted.
 *
 * Every answer goes over the asker's channel, so to an address a handshake or path validation
 * proved, and is no longer than the request it answers (tested). Requests are limited per host.
 */
import type { Address } from '../address.js';
import { fingerprint, toHex } from '../secure/crypto.js';
import { hostKey } from '../secure/host-key.js';
import { TokenBuckets } from '../token-buckets.js';
import type { ChannelView, EndpointExtension, EndpointHost } from './extension.js';
import { fingerprintText } from './fingerprint.js';
import {
  addressToWire,
  decodeRendezvous,
  encodeRendezvous,
  type Introduce,
  KEY_BYTES,
  RELAY_KEY_BYTES,
  type Register,
  type RendezvousMessage,
} from './messages.js';
import { type Registration, RegistrationTable } from './registration-table.js';
import { type RelayBudget, RelayForwarder, type RelayStats } from './relay-forwarder.js';
import { type RelayPair, RelayPairs } from './relay-pairs.js';

export interface RendezvousServerOptions {
  /** Registrations kept at most; past it new clients are refused (live ones are never evicted). */
  maxRegistrations: number;
  /** Requests (register, introduce) a second from one host, and the burst. */
  requestsPerSecond: number;
  requestBurst: number;
  /** Bytes a second one client may send through the relay, and receive (0: no relay); the burst (bytes). */
  relayBytesPerSecond: number;
  relayBurstBytes: number;
  /** Introduced pairs kept for relaying at most, in all and per client; how long one is kept unused (ms). */
  maxRelayPairs: number;
  maxRelayPairsPerClient: number;
  relayPairIdleMs: number;
  /** A new pair cannot be evicted for this long, though it has relayed nothing yet (ms). */
  relayPairGraceMs: number;
  /**
   * A client whose share is full may lose, to a new introduction, its pair made longest ago that it
   * did not ask for, once that pair is this old (ms), whether it relays or not.
   */
  relayPairTenureMs: number;
  /** Added to half the slower client's round trip: how far ahead both are told to start. */
  startMarginMs: number;
  /**
   * How much later the requester starts than the introduced side: its first init should find the
   * other NAT already opened by the punch. On a LAN-fast path a start that is simultaneous to the
   * millisecond loses that race by timer jitter alone, and costs a 500 ms init resend (lab: 690 ms).
   */
  requesterLagMs: number;
}

export const DEFAULT_RELAY_BYTES_PER_SECOND = 64 * 1024;

export const DEFAULT_RENDEZVOUS_SERVER_OPTIONS: RendezvousServerOptions = {
  maxRegistrations: 10_000,
  requestsPerSecond: 5,
  requestBurst: 10,
  relayBytesPerSecond: DEFAULT_RELAY_BYTES_PER_SECOND,
  relayBurstBytes: 2 * DEFAULT_RELAY_BYTES_PER_SECOND,
  maxRelayPairs: 10_000,
  maxRelayPairsPerClient: 16,
  relayPairIdleMs: 120_000,
  relayPairGraceMs: 10_000,
  relayPairTenureMs: 30_000,
  startMarginMs: 50,
  requesterLagMs: 20,
};

/** The relay options for a rate in bytes a second: bursts of two seconds' worth. */
export function relayRate(
  bytesPerSecond: number,
): Pick<RendezvousServerOptions, 'relayBytesPerSecond' | 'relayBurstBytes'> {
  return { relayBytesPerSecond: bytesPerSecond, relayBurstBytes: 2 * bytesPerSecond };
}

/** The largest relay budget `relay_rate` can say. */
const MAX_U32 = 0xffff_ffff;
/** Assumed for a client whose round trip is not measured yet. */
const UNMEASURED_RTT_MS = 200;

export interface RendezvousServerStats extends RelayStats {
  /** `register` messages answered `registered`. */
  registrations: number;
  /** `register` messages refused because the table was full. */
  registrationsRefused: number;
  introductions: number;
  /** Introductions refused: the peer unknown, gone, or not accepting the asker (or the asker unregistered). */
  refused: number;
  rateLimited: number;
  /** Rendezvous messages that did not decode, or that only a rendezvous sends. */
  malformed: number;
  /** Rendezvous messages on a channel with no open session (a peer the application did not accept): dropped. */
  unadmitted: number;
}

export class RendezvousServer implements EndpointExtension {
  private readonly counts = {
    registrations: 0,
    registrationsRefused: 0,
    introductions: 0,
    refused: 0,
    rateLimited: 0,
    malformed: 0,
    unadmitted: 0,
  };
  private readonly table = new RegistrationTable();
  private readonly pairs: RelayPairs;
  private readonly relay: RelayForwarder;
  private readonly limits: TokenBuckets;

  constructor(
    private readonly host: EndpointHost,
    private readonly options: RendezvousServerOptions = DEFAULT_RENDEZVOUS_SERVER_OPTIONS,
  ) {
    this.limits = new TokenBuckets(options.requestsPerSecond, options.requestBurst);
    this.pairs = new RelayPairs({
      maxPairs: options.maxRelayPairs,
      maxPairsPerClient: options.maxRelayPairsPerClient,
      idleMs: options.relayPairIdleMs,
      graceMs: options.relayPairGraceMs,
      tenureMs: options.relayPairTenureMs,
    });
    this.table.onRemoved((record) => this.pairs.forget(record));
    this.relay = new RelayForwarder(host, this.table, this.pairs, {
      bytesPerSecond: options.relayBytesPerSecond,
      burstBytes: options.relayBurstBytes,
    } satisfies RelayBudget);
  }

  /** Registrations held now. */
  get size(): number {
    return this.table.size;
  }

  get stats(): Readonly<RendezvousServerStats> {
    return { ...this.counts, ...this.relay.stats };
  }

  /** What is held, for leak tests and benchmarks: every figure falls back when clients go. */
  get sizes(): {
    registrations: number;
    byFingerprint: number;
    byTag: number;
    byChannel: number;
    relayPairs: number;
    relayPairTags: number;
    relayAccounts: number;
    rateLimitedHosts: number;
  } {
    return {
      registrations: this.table.size,
      ...this.table.indexSizes,
      relayPairs: this.pairs.size,
      relayPairTags: this.pairs.indexedTags,
      relayAccounts: this.relay.size,
      rateLimitedHosts: this.limits.size,
    };
  }

  // ---- EndpointExtension ----------------------------------------------------------------------

  onDatagram(bytes: Uint8Array, _from: Address, now: number): boolean {
    return this.relay.onDatagram(bytes, now);
  }

  onControl(channel: ChannelView, bytes: Uint8Array, now: number): void {
    const decoded = decodeRendezvous(bytes);
    if (!decoded.ok) {
      this.counts.malformed++;
      return;
    }
    const message = decoded.datagram;
    if (
      message.type !== 'register' &&
      message.type !== 'introduce' &&
      message.type !== 'relay_rate_request'
    ) {
      this.counts.malformed++; // only a rendezvous sends the others
      return;
    }
    if (!this.host.admitted(channel.id)) {
      this.counts.unadmitted++;
      return;
    }
    if (!this.limits.tryTake(hostKey(channel.address), now)) {
      this.counts.rateLimited++;
      if (message.type === 'introduce')
        this.send(
          channel,
          { type: 'introduce_failed', request: message.request, reason: 'rate_limited' },
          now,
        );
      return;
    }
    if (message.type === 'register') this.register(channel, message, now);
    else if (message.type === 'introduce') this.introduce(channel, message, now);
    else {
      // The operator's budget, the same for everyone: what the client's relayed paths are capped to.
      // (A u32 on the wire: a budget beyond 4 GB/s is told as that, no cap that matters.)
      const bytesPerSecond = Math.min(MAX_U32, Math.floor(this.options.relayBytesPerSecond));
      this.send(channel, { type: 'relay_rate', request: message.request, bytesPerSecond }, now);
    }
  }

  /** A session ended: a registration whose channel has no open session left is forgotten now. */
  onSessionEnded(channelId: number): void {
    const record = this.table.onChannel(channelId);
    if (record && !this.host.admitted(channelId)) this.table.remove(record);
  }

  onEvent(): void {}
  handleTimeout(): void {}
  nextTimeout(): number | undefined {
    return undefined;
  }

  // ---- requests -------------------------------------------------------------------------------

  private register(channel: ChannelView, message: Register, now: number): void {
    const listed = new Set<string>();
    for (let at = 0; at < message.keys.length; at += KEY_BYTES)
      listed.add(toHex(message.keys.subarray(at, at + KEY_BYTES)));
    let record = this.table.onChannel(channel.id);
    if (record) {
      // Registered again on the same channel: the same record (tag, relay key), maybe with new
      // terms. Pairs its owner no longer accepts end now.
      record.acceptFrom = message.acceptFrom;
      record.listed = listed;
      this.pairs.prune(record, allowed);
    } else {
      const name = fingerprint(channel.remoteKey);
      const replaces = this.table.byFingerprintText(name);
      if (!replaces && this.table.size >= this.options.maxRegistrations) {
        this.counts.registrationsRefused++;
        this.send(channel, { type: 'register_failed', request: message.request, reason: 'full' }, now);
        return;
      }
      record = {
        channelId: channel.id,
        key: channel.remoteKey,
        keyHex: toHex(channel.remoteKey),
        fingerprint: name,
        acceptFrom: message.acceptFrom,
        listed,
        tag: this.newTag(),
        relayKey: this.host.random(RELAY_KEY_BYTES),
      };
      this.table.add(record);
    }
    this.counts.registrations++;
    this.send(
      channel,
      {
        type: 'registered',
        request: message.request,
        ...addressToWire(channel.address),
        tag: record.tag,
        relayKey: record.relayKey,
      },
      now,
    );
  }

  private introduce(asker: ChannelView, message: Introduce, now: number): void {
    const own = this.live(this.table.onChannel(asker.id));
    if (!own) {
      // The asker is not registered (it does not know: we restarted, or its record went): it
      // registers again when told so, and then asks again.
      this.counts.refused++;
      this.send(asker, { type: 'introduce_failed', request: message.request, reason: 'not_registered' }, now);
      return;
    }
    const target = this.live(this.table.byFingerprintText(fingerprintText(message.fingerprint)));
    const to = target && this.host.openChannel(target.channelId);
    if (!target || !to || target === own || !accepts(target, own)) {
      this.counts.refused++;
      this.send(asker, { type: 'introduce_failed', request: message.request, reason: 'unavailable' }, now);
      return;
    }
    // Both should send their first handshake at the same moment: each is told to wait the
    // difference between half the slower round trip (plus a margin) and half its own.
    const rttAsker = this.host.rtt(asker.id) ?? UNMEASURED_RTT_MS;
    const rttTarget = this.host.rtt(to.id) ?? UNMEASURED_RTT_MS;
    const at = Math.max(rttAsker, rttTarget) / 2 + this.options.startMarginMs;
    const startIn = (rtt: number) => Math.min(65_535, Math.round(at - rtt / 2));
    this.counts.introductions++;
    // No relay tag when the relay is off or has no room for the pair: the two may still punch.
    const pair = this.relay.enabled ? this.pairs.introduce(own, target, now) : undefined;
    const relayTag = (record: Registration) => (pair ? record.tag : 0);
    this.send(to, introduction(0, 'introduced', asker, startIn(rttTarget), relayTag(own)), now);
    const lagged = Math.min(65_535, startIn(rttAsker) + this.options.requesterLagMs);
    this.send(asker, introduction(message.request, 'requester', to, lagged, relayTag(target)), now);
  }

  /** The record, if its channel still carries an open session; else it is forgotten now. */
  private live(record: Registration | undefined): Registration | undefined {
    if (!record) return undefined;
    if (this.host.admitted(record.channelId)) return record;
    this.table.remove(record);
    return undefined;
  }

  /** A random non-zero tag no registration has: tags tell nothing of how many came before. */
  private newTag(): number {
    for (;;) {
      const bytes = this.host.random(4);
      const tag =
        (((bytes[0] as number) << 24) |
          ((bytes[1] as number) << 16) |
          ((bytes[2] as number) << 8) |
          (bytes[3] as number)) >>>
        0;
      if (tag !== 0 && !this.table.hasTag(tag)) return tag;
    }
  }

  private send(channel: ChannelView, message: RendezvousMessage, now: number): void {
    this.host.sendControl(channel.id, encodeRendezvous(message), now);
  }
}

/** Whether `target` accepts introductions to `asker`. */
function accepts(target: Registration, asker: Registration): boolean {
  return target.acceptFrom === 'anyone' || target.listed.has(asker.keyHex);
}

/** A pair stays while an introduction that made it is still accepted by the side that was asked for. */
function allowed(pair: RelayPair): boolean {
  return (pair.aAsked && accepts(pair.b, pair.a)) || (pair.bAsked && accepts(pair.a, pair.b));
}

function introduction(
  request: number,
  role: 'requester' | 'introduced',
  other: { remoteKey: Uint8Array; address: Address },
  startIn: number,
  relayTag: number,
): RendezvousMessage {
  return {
    type: 'introduction',
    request,
    role,
    key: other.remoteKey,
    ...addressToWire(other.address),
    startIn,
    relayTag,
  };
}

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
import type { Address } from '../address.js';
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

export interface RendezvousServerOptions {
  /** Registered keys kept at most (the least recently registered is dropped first). */
  maxRegistrations: number;
  /** Requests (register, introduce) a second from one host, and the burst. */
  requestsPerSecond: number;
  requestBurst: number;
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
  startMarginMs: 50,
  requesterLagMs: 20,
};

/** Assumed for a client whose round trip is not measured yet. */
const UNMEASURED_RTT_MS = 200;

export interface RendezvousServerStats {
  registrations: number;
  introductions: number;
  /** Introductions refused: the peer unknown, gone, or not accepting the asker. */
  refused: number;
  rateLimited: number;
  malformed: number;
}

interface Registration {
  readonly channelId: number;
  readonly key: Uint8Array;
  readonly acceptFrom: AcceptFrom;
  readonly listed: ReadonlySet<string>;
}

export class RendezvousServer implements EndpointExtension {
  readonly stats: RendezvousServerStats = {
    registrations: 0,
    introductions: 0,
    refused: 0,
    rateLimited: 0,
    malformed: 0,
  };
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
    this.registrations.delete(name);
    this.registrations.set(name, {
      channelId: channel.id,
      key: channel.remoteKey,
      acceptFrom: message.acceptFrom,
      listed,
    });
    if (this.registrations.size > this.options.maxRegistrations)
      this.registrations.delete(this.registrations.keys().next().value as string);
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
    this.send(target, introduction(0, 'introduced', asker, startIn(rttTarget)), now);
    const lagged = Math.min(65_535, startIn(rttAsker) + this.options.requesterLagMs);
    this.reply(asker, introduction(message.request, 'requester', target, lagged), now);
  }

  /** The registration for a fingerprint, if its channel is still open (else it is forgotten). */
  private find(name: string): (ChannelView & { registration: Registration }) | undefined {
    const registration = this.registrations.get(name);
    if (!registration) return undefined;
    const channel = this.host.openChannel(registration.channelId);
    if (!channel || toHex(channel.remoteKey) !== toHex(registration.key)) {
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

function introduction(
  request: number,
  role: 'requester' | 'introduced',
  other: { remoteKey: Uint8Array; address: Address },
  startIn: number,
) {
  return {
    type: 'introduction' as const,
    request,
    role,
    key: other.remoteKey,
    ...addressToWire(other.address),
    startIn,
  };
}

/**
 * A client's relay paths: the peers it was introduced to with a relay tag, and what it still
 * does about each (PROTOCOL.md, "Relay"): move our own connect to the relay if it has not
 * opened in RELAY_AFTER_MS, and while a chat is relayed, send a path challenge straight to the
 * peer's public address now and then, so that path validation moves the chat to a direct path
 * once one opens. And the relay packets themselves: ours go out under our tag, counter and
 * relay key (from `registered`); the rendezvous's come in under the same key, each counter once.
 * The relayed addresses share the budget the rendezvous told in `relay_rate`, less the relay's
 * 32 bytes a packet (relay-shares.ts): each is capped (Endpoint.setPathRateLimit) so that all
 * of them together never send more than the budget, and a bulk stream is paced, not dropped.
 *
 * A relayed peer has a virtual address: host `relay`, and as port a small number of our own
 * for its tag (tags are random u32, and an address's port is 1..65535 wherever it is shown or
 * kept), given when the tag is first met and kept for the latest MAX_ALIASES tags.
 */
import { type Address, formatAddress } from '../address.js';
import { equalBytes } from '../secure/crypto.js';
import { ReplayWindow } from '../secure/replay-window.js';
import { MAX_DATAGRAM_BYTES } from '../wire/header.js';
import type { EndpointHost } from './extension.js';
import {
  authentic,
  decodeRelay,
  isNetchatPacket,
  RELAY_OVERHEAD_BYTES,
  relayAddress,
  sealRelay,
} from './relay.js';
import { RelayShares } from './relay-shares.js';

/** A connect that has not opened its channel by then goes through the relay. */
export const RELAY_AFTER_MS = 3_000;
/** While relayed, a path challenge goes straight to the peer's public address this often, for this long. */
export const DIRECT_PROBE_EVERY_MS = 5_000;
export const DIRECT_PROBE_FOR_MS = 60_000;
/** Relay paths followed at most (older ones stop probing). */
const MAX_PATHS = 16;
/** Counters are u32 and never wrap. */
const MAX_COUNTER = 0xffff_ffff;
/** Relay tags given a local number at most (the least recently met is forgotten first). */
const MAX_ALIASES = 4_096;
const MAX_PORT = 65_535;
/** The largest packet a relay packet carries: a bulk stream's packets are this size. */
const FULL_INNER_BYTES = 1_200;

/**
 * What we send to a relayed peer is capped at this (bytes a second of our own packets) when the
 * rendezvous's budget is `bytesPerSecond` of relay packets: each of ours travels 32 bytes larger,
 * so full packets at the cap spend the budget exactly (PROTOCOL.md, "Relay": pacing).
 */
export function relayedPathCap(bytesPerSecond: number): number {
  return (bytesPerSecond * FULL_INNER_BYTES) / (FULL_INNER_BYTES + RELAY_OVERHEAD_BYTES);
}

/** An introduced peer: its public address, its relayed address, and what we still do about the path. */
interface PeerPath {
  readonly direct: Address;
  readonly relayed: Address;
  /** For our own connect: when to give up on the direct path. */
  switchAt: number | undefined;
  nextProbe: number;
  readonly probeUntil: number;
}

/** What `registered` gave us: our tag and key, and the counters under that key. */
interface Credentials {
  readonly tag: number;
  readonly key: Uint8Array;
  sent: number;
  readonly received: ReplayWindow;
}

export interface RelayPathStats {
  /** Connects moved to the relay, and path challenges sent straight to a relayed peer's public address. */
  relayedConnects: number;
  directProbes: number;
  /** Relay packets dropped: undecodable, not for us, a bad MAC or a copy, or an inner packet that is no netchat packet. */
  relayDropped: number;
  /** Packets of ours too large for a relay packet (over 1200 bytes), dropped instead of relayed. */
  relayTooLarge: number;
}

export class RelayPaths {
  readonly stats: RelayPathStats = { relayedConnects: 0, directProbes: 0, relayDropped: 0, relayTooLarge: 0 };
  private paths: PeerPath[] = [];
  private credentials: Credentials | undefined;
  /** Relay tag → the port of its virtual address, and back; the Map's order is least recently met first. */
  private readonly portOfTag = new Map<number, number>();
  private readonly tagOfPort = new Map<number, number>();
  private lastPort = 0;
  /** The rendezvous's relay budget (bytes a second), once told; 0: no relay. */
  private relayRate: number | undefined;
  /** How the relayed addresses share the budget. */
  private readonly shares: RelayShares;

  constructor(private readonly host: EndpointHost) {
    this.shares = new RelayShares((address, cap) => host.setPathRateLimit(address, cap));
  }

  /**
   * The relay budget the rendezvous told (undefined: not told, or no longer registered): the
   * relayed addresses share it, so bulk streams are paced under the budget rather than dropped
   * against it. A new value re-caps them all.
   */
  setRelayRate(bytesPerSecond: number | undefined): void {
    if (bytesPerSecond === this.relayRate) return;
    this.relayRate = bytesPerSecond;
    this.shares.setTotal(bytesPerSecond ? relayedPathCap(bytesPerSecond) : undefined);
    for (const port of this.tagOfPort.keys()) if (!this.shares.has(port)) this.capIdle(relayAddress(port));
  }

  /** An address that sends nothing yet is capped at the whole budget (its first packet makes it share). */
  private capIdle(relayed: Address): void {
    this.host.setPathRateLimit(relayed, this.shares.idleCap);
  }

  /** Measures the relayed addresses' use and shares the budget again (relay-shares.ts). */
  sweepShares(now: number): void {
    this.shares.sweep(now);
  }

  nextShareSweep(now: number): number | undefined {
    return this.shares.next(now);
  }

  /** Our relay tag and key (a new pair starts the counters over); undefined: not registered. */
  setCredentials(given: { tag: number; key: Uint8Array } | undefined): void {
    const now = this.credentials;
    if (given && now && now.tag === given.tag && equalBytes(now.key, given.key)) return;
    this.credentials = given && { tag: given.tag, key: given.key, sent: 0, received: new ReplayWindow() };
    // Not registered: nothing can be relayed, and the next registration tells the budget again.
    if (!given) this.setRelayRate(undefined);
  }

  /** The virtual address of the peer with relay tag `tag`. */
  relayedAddress(tag: number): Address {
    let port = this.portOfTag.get(tag);
    if (port !== undefined) {
      this.portOfTag.delete(tag); // met again: last in the order
      this.portOfTag.set(tag, port);
      return relayAddress(port);
    }
    if (this.portOfTag.size >= MAX_ALIASES) {
      const [oldTag, oldPort] = this.portOfTag.entries().next().value as [number, number];
      this.portOfTag.delete(oldTag);
      this.tagOfPort.delete(oldPort);
      this.shares.forget(oldPort);
      this.host.setPathRateLimit(relayAddress(oldPort), undefined);
    }
    // The next number not in use (at most MAX_ALIASES are: there is always one).
    port = this.lastPort;
    do port = (port % MAX_PORT) + 1;
    while (this.tagOfPort.has(port));
    this.lastPort = port;
    this.portOfTag.set(tag, port);
    this.tagOfPort.set(port, tag);
    const relayed = relayAddress(port);
    if (this.relayRate) this.capIdle(relayed);
    return relayed;
  }

  /** Follows a peer we were introduced to with a relay tag; `requester`: our own connect may move to the relay. */
  follow(direct: Address, tag: number, requester: boolean, now: number): void {
    const relayed = this.relayedAddress(tag);
    // The same peer at the same places again (an open chat's peer asked for by either side: a
    // claim, relay-claims.ts): its direct-path probes go on as planned, not 8 s later again.
    const known = this.paths.find(
      (p) =>
        formatAddress(p.direct) === formatAddress(direct) &&
        formatAddress(p.relayed) === formatAddress(relayed),
    );
    if (known && !requester && now <= known.probeUntil) return;
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
   * relayed, both sides now and then send a path challenge straight to the other's public address:
   * the first one answered moves the sender's channel there, and the other side, hearing it from
   * there, validates and follows. Returns the connects moved.
   */
  due(now: number): { direct: Address; relayed: Address }[] {
    const moved: { direct: Address; relayed: Address }[] = [];
    for (const path of this.paths) {
      if (path.switchAt !== undefined && now >= path.switchAt) {
        path.switchAt = undefined;
        if (!this.host.openTo(path.direct) && this.host.relayConnect(path.direct, path.relayed, now)) {
          this.stats.relayedConnects++;
          moved.push({ direct: path.direct, relayed: path.relayed });
        }
      }
      if (now >= path.nextProbe && path.nextProbe <= path.probeUntil) {
        path.nextProbe = now + DIRECT_PROBE_EVERY_MS;
        if (this.host.probeDirect(path.relayed, path.direct, now)) this.stats.directProbes++;
      }
    }
    this.paths = this.paths.filter((p) => p.switchAt !== undefined || p.nextProbe <= p.probeUntil);
    return moved;
  }

  next(): number | undefined {
    let next: number | undefined;
    for (const path of this.paths) {
      for (const at of [path.switchAt, path.nextProbe <= path.probeUntil ? path.nextProbe : undefined])
        if (at !== undefined && (next === undefined || at < next)) next = at;
    }
    return next;
  }

  /** The relay packet for a packet to the relayed address `to`, to go to `rendezvous`; undefined if we cannot relay now. */
  wrap(
    to: Address,
    inner: Uint8Array,
    rendezvous: Address | undefined,
  ): { to: Address; data: Uint8Array } | undefined {
    const own = this.credentials;
    const tag = this.tagOfPort.get(to.port);
    if (!own || !rendezvous || own.sent > MAX_COUNTER || tag === undefined) return undefined;
    if (inner.length > MAX_DATAGRAM_BYTES) {
      // A relay packet carries at most 1200 bytes inside: a larger one is lost, as on a path
      // that cannot carry it (the sender's loss recovery sends its bytes again, smaller).
      this.stats.relayTooLarge++;
      return undefined;
    }
    const data = sealRelay({ from: own.tag, to: tag, counter: own.sent++, inner }, own.key);
    this.shares.sent(to.port, to, inner.length);
    return { to: rendezvous, data };
  }

  /** A relay packet that came in: its inner packet goes to the secure layer, from the sender's relayed address. */
  unwrap(bytes: Uint8Array, now: number): void {
    const own = this.credentials;
    const decoded = decodeRelay(bytes);
    if (!own || !decoded.ok) {
      this.stats.relayDropped++;
      return;
    }
    const packet = decoded.datagram;
    if (
      packet.to !== own.tag ||
      !own.received.mayAccept(packet.counter) ||
      !authentic(bytes, packet, own.key) ||
      !isNetchatPacket(packet.inner)
    ) {
      this.stats.relayDropped++;
      return;
    }
    own.received.mark(packet.counter);
    this.host.receive(packet.inner, this.relayedAddress(packet.from), now);
  }
}

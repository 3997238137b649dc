/**
 * The pairs of clients the relay may carry packets between: two registrations the rendezvous
 * introduced to each other. One record per pair (both directions), filed under each side's tag,
 * plus one order of activity for expiry.
 *
 * A pair is kept `idleMs` after its introduction or its last relayed packet. A pair in use (it
 * relayed within `idleMs`) or just introduced (within `graceMs`: its relay starts a few seconds
 * after the introduction) is never evicted: when the table, or one client's share of it, is
 * full of such pairs, a new pair is refused instead (its introduction goes out without a relay
 * tag). Only pairs introduced and never used since the grace time may make room early.
 */
import type { Registration } from './registration-table.js';

export interface RelayPairsOptions {
  /** Pairs kept at most, in all. */
  maxPairs: number;
  /** Pairs one client may be part of at most. */
  maxPairsPerClient: number;
  /** How long a pair is kept after its introduction or its last relayed packet (ms). */
  idleMs: number;
  /** How long a new pair that relayed nothing yet cannot be evicted (ms). */
  graceMs: number;
}

export interface RelayPair {
  readonly a: Registration;
  readonly b: Registration;
  /** Which sides asked for an introduction that made or refreshed the pair. */
  aAsked: boolean;
  bAsked: boolean;
  introducedAt: number;
  /** When it last relayed a packet; undefined: never. */
  relayedAt: number | undefined;
  /** Its place in the activity order was last refreshed then. */
  touchedAt: number;
}

/** A relayed pair is moved to the back of the activity order at most this often (ms). */
const TOUCH_EVERY_MS = 1_000;
/** Candidates looked at for eviction from the front of the order (bounded work per introduction). */
const EVICTION_CANDIDATES = 8;

export class RelayPairs {
  /** tag → the other side's tag → the pair. */
  private readonly byTag = new Map<number, Map<number, RelayPair>>();
  /** Every pair, least recently active first. */
  private readonly order = new Set<RelayPair>();

  constructor(private readonly options: RelayPairsOptions) {}

  get size(): number {
    return this.order.size;
  }

  /** How many tags have pairs filed under them (for leak tests: back to 0 when all are gone). */
  get indexedTags(): number {
    return this.byTag.size;
  }

  between(fromTag: number, toTag: number): RelayPair | undefined {
    return this.byTag.get(fromTag)?.get(toTag);
  }

  /** The pair of `asker` and `target` after an introduction: refreshed, or new if there is room. */
  introduce(asker: Registration, target: Registration, now: number): RelayPair | undefined {
    this.expire(now);
    const known = this.between(asker.tag, target.tag);
    if (known) {
      if (known.a === asker) known.aAsked = true;
      else known.bAsked = true;
      known.introducedAt = now;
      this.touch(known, now);
      return known;
    }
    if (!this.roomFor(asker, now) || !this.roomFor(target, now) || !this.roomInAll(now)) return undefined;
    const pair: RelayPair = {
      a: asker,
      b: target,
      aAsked: true,
      bAsked: false,
      introducedAt: now,
      relayedAt: undefined,
      touchedAt: now,
    };
    this.file(asker.tag, target.tag, pair);
    this.file(target.tag, asker.tag, pair);
    this.order.add(pair);
    return pair;
  }

  /** The pair relayed a packet: it is in use, and stays. */
  relayed(pair: RelayPair, now: number): void {
    pair.relayedAt = now;
    if (now - pair.touchedAt >= TOUCH_EVERY_MS) this.touch(pair, now);
  }

  /** Whether the pair has expired (it is then forgotten). */
  expired(pair: RelayPair, now: number): boolean {
    if (now - lastActive(pair) < this.options.idleMs) return false;
    this.remove(pair);
    return true;
  }

  /** Forgets every pair `record` is part of (its registration is gone). */
  forget(record: Registration): void {
    for (const pair of [...(this.byTag.get(record.tag)?.values() ?? [])]) this.remove(pair);
  }

  /** Forgets the pairs of `record` that `allowed` no longer allows (its owner changed whom it accepts). */
  prune(record: Registration, allowed: (pair: RelayPair) => boolean): void {
    for (const pair of [...(this.byTag.get(record.tag)?.values() ?? [])])
      if (!allowed(pair)) this.remove(pair);
  }

  /** Pairs idle past idleMs, from the least recently active: forgotten. */
  private expire(now: number): void {
    for (const pair of this.order) {
      if (now - lastActive(pair) < this.options.idleMs) return;
      this.remove(pair);
    }
  }

  private roomFor(record: Registration, now: number): boolean {
    const pairs = this.byTag.get(record.tag);
    if (!pairs || pairs.size < this.options.maxPairsPerClient) return true;
    let oldest: RelayPair | undefined;
    for (const pair of pairs.values())
      if (this.evictable(pair, now) && (!oldest || lastActive(pair) < lastActive(oldest))) oldest = pair;
    if (!oldest) return false;
    this.remove(oldest);
    return true;
  }

  private roomInAll(now: number): boolean {
    if (this.order.size < this.options.maxPairs) return true;
    let looked = 0;
    for (const pair of this.order) {
      if (this.evictable(pair, now)) {
        this.remove(pair);
        return true;
      }
      if (++looked >= EVICTION_CANDIDATES) break;
    }
    return false;
  }

  /** Never relayed, and past its grace time: it may make room for a new pair. */
  private evictable(pair: RelayPair, now: number): boolean {
    return pair.relayedAt === undefined && now - pair.introducedAt >= this.options.graceMs;
  }

  private touch(pair: RelayPair, now: number): void {
    pair.touchedAt = now;
    this.order.delete(pair);
    this.order.add(pair);
  }

  private file(tag: number, other: number, pair: RelayPair): void {
    let pairs = this.byTag.get(tag);
    if (!pairs) {
      pairs = new Map();
      this.byTag.set(tag, pairs);
    }
    pairs.set(other, pair);
  }

  private unfile(tag: number, other: number): void {
    const pairs = this.byTag.get(tag);
    pairs?.delete(other);
    if (pairs?.size === 0) this.byTag.delete(tag);
  }

  private remove(pair: RelayPair): void {
    if (!this.order.delete(pair)) return;
    this.unfile(pair.a.tag, pair.b.tag);
    this.unfile(pair.b.tag, pair.a.tag);
  }
}

function lastActive(pair: RelayPair): number {
  return Math.max(pair.introducedAt, pair.relayedAt ?? 0);
}

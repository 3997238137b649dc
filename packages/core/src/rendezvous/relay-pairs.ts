/**
 * The pairs of clients the relay may carry packets between: two registrations the rendezvous
 * introduced to each other. One record per pair (both directions), filed under each side's tag,
 * plus one order of activity for expiry.
 *
 * A pair is kept `idleMs` after its introduction or its last relayed packet. A pair in use (it
 * relayed within `idleMs`) or just introduced (within `graceMs`: its relay starts a few seconds
 * after the introduction) is not evicted to make room in the table as a whole: when the table is
 * full of such pairs, a new pair is refused instead (its introduction goes out without a relay
 * tag). Only pairs introduced and never used since the grace time may make room there.
 *
 * One client's share is different: strangers who ask for a client that takes introductions from
 * anyone, and relay a packet now and then, would otherwise hold all its pairs for as long as they
 * like, and no one else's introduction to it would carry a relay tag. So when a client's share
 * is full, a new introduction may also take the place of its pair made longest ago that it did
 * not ask for itself, once that pair is `tenureMs` old: a pair it asked for is its own choice, and
 * a chat whose pair is taken asks for its peer again (open-chats.ts) and is paired anew. Only
 * when it asked for all of them does one of those give way, the one made longest ago past its
 * tenure (one it claimed, asked for after another made it, before one it made): a client that
 * accepts anyone claims the strangers' chats it accepted too, and they would otherwise hold its
 * whole share for good.
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
  /** How long a pair keeps its place in a full share against a new introduction, if its client did not ask for it (ms). */
  tenureMs: number;
}

export interface RelayPair {
  readonly a: Registration;
  readonly b: Registration;
  /** Which sides asked for an introduction that made or refreshed the pair. */
  aAsked: boolean;
  bAsked: boolean;
  introducedAt: number;
  /** When it was made (an introduction that refreshes it leaves this as it was). */
  readonly madeAt: number;
  /** When it last relayed a packet; undefined: never. */
  relayedAt: number | undefined;
  /** Its place in the activity order was last refreshed then. */
  touchedAt: number;
}

/** Room in a client's share for a new pair: there is (`free`), this pair gives way, or none may (`none`). */
type ShareRoom = RelayPair | 'free' | 'none';

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
    // What gives way is chosen first, and removed only once the pair has room in both shares and
    // in all: a share that has none must not cost the other side a pair (one in use, its own).
    const giving = [this.roomFor(asker, now), this.roomFor(target, now)];
    if (giving.includes('none') || !this.roomInAll(now, giving)) return undefined;
    for (const pair of giving) if (typeof pair === 'object') this.remove(pair);
    const pair: RelayPair = {
      a: asker,
      b: target,
      aAsked: true,
      bAsked: false,
      introducedAt: now,
      madeAt: now,
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

  /**
   * Room in `record`'s share (`free`), else the pair that would give way for a new one (`none`: no
   * pair may): a pair never used past its grace makes it (the one idle longest), else the pair
   * made longest ago that `record` did not ask for, past its tenure. Only when `record`
   * asked for every pair of its share, the one made longest ago past its tenure, a pair another
   * made and `record` claimed (asked for later: relay-claims.ts) before one it made itself: a
   * client that accepts anyone claims strangers' chats too (and asks for them again when their
   * pair dies), and 16 of them kept in use would otherwise hold its share for good.
   */
  private roomFor(record: Registration, now: number): ShareRoom {
    const pairs = this.byTag.get(record.tag);
    if (!pairs || pairs.size < this.options.maxPairsPerClient) return 'free';
    let unused: RelayPair | undefined;
    let oldest: RelayPair | undefined;
    let oldestClaimed: RelayPair | undefined;
    let oldestOwn: RelayPair | undefined;
    let allAsked = true;
    for (const pair of pairs.values()) {
      if (this.evictable(pair, now) && (!unused || lastActive(pair) < lastActive(unused))) unused = pair;
      const asked = askedBy(pair, record);
      allAsked &&= asked;
      if (now - pair.madeAt < this.options.tenureMs) continue;
      if (!asked) oldest = madeFirst(oldest, pair);
      else if (pair.a === record) oldestOwn = madeFirst(oldestOwn, pair);
      else oldestClaimed = madeFirst(oldestClaimed, pair);
    }
    return unused ?? oldest ?? (allAsked ? (oldestClaimed ?? oldestOwn) : undefined) ?? 'none';
  }

  /** Room for one more pair in all: a pair giving way in a share makes it, else a pair never used (removed here). */
  private roomInAll(now: number, giving: readonly ShareRoom[]): boolean {
    const freed = giving.filter((pair) => typeof pair === 'object').length;
    if (this.order.size - freed < this.options.maxPairs) return true;
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

/** Whether `record` asked for an introduction that made or refreshed the pair. */
function askedBy(pair: RelayPair, record: Registration): boolean {
  return pair.a === record ? pair.aAsked : pair.bAsked;
}

/** Of the pair chosen so far (none yet: undefined) and `pair`, the one made first. */
function madeFirst(chosen: RelayPair | undefined, pair: RelayPair): RelayPair {
  return chosen && chosen.madeAt <= pair.madeAt ? chosen : pair;
}

function lastActive(pair: RelayPair): number {
  return Math.max(pair.introducedAt, pair.relayedAt ?? 0);
}

/**
 * Token buckets by key (a string, or any Map key): each key may take `rate` tokens a second, in bursts of `burst`. A bucket
 * idle long enough to be full again is the same as a new one, so idle buckets are dropped and
 * the table stays as small as the set of keys active in the last refill time; `maxKeys` bounds
 * it even under a flood of new keys (the oldest are dropped first, which only forgives them).
 */
interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class TokenBuckets<K = string> {
  private readonly buckets = new Map<K, Bucket>();
  private lastSweep = 0;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Takes `count` tokens for `key` at time `now` (ms) if that many are left (none taken if not). */
  tryTake(key: K, now: number, count = 1): boolean {
    this.sweep(now);
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, updatedAt: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.rate);
    bucket.updatedAt = now;
    this.buckets.delete(key); // re-inserted last: the Map's order is least recently used first
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as K);
    if (bucket.tokens < count) return false;
    bucket.tokens -= count;
    return true;
  }

  get size(): number {
    return this.buckets.size;
  }

  /**
   * Drops the keys idle long enough to be full again (at most once per refill time; tryTake does
   * it too). For a table that is consulted only sometimes (under load), so that what a flood
   * left in it goes once the flood is over.
   */
  sweep(now: number): void {
    const refillMs = (this.burst / this.rate) * 1000;
    if (now - this.lastSweep < refillMs) return;
    this.lastSweep = now;
    for (const [key, bucket] of this.buckets)
      if (now - bucket.updatedAt >= refillMs) this.buckets.delete(key);
  }
}

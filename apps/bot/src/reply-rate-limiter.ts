/**
 * A token bucket per peer: at most `rate` replies a second, in bursts of at most `rate`, so no
 * peer can make the bot flood anyone. A bucket idle for a second is full again, the same as a
 * new one, so idle buckets are dropped: the table stays as small as the set of active peers,
 * and reconnecting does not reset a peer's allowance early.
 */
interface Bucket {
  tokens: number;
  updatedAt: number;
}

const REFILL_MS = 1000;

export class ReplyRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweep = 0;

  constructor(
    private readonly rate: number,
    private readonly clock: () => number,
  ) {}

  /** Takes a token for `peer` if one is left; false means: do not reply now. */
  tryTake(peer: string): boolean {
    const now = this.clock();
    this.sweep(now);
    const bucket = this.buckets.get(peer) ?? { tokens: this.rate, updatedAt: now };
    bucket.tokens = Math.min(this.rate, bucket.tokens + ((now - bucket.updatedAt) / REFILL_MS) * this.rate);
    bucket.updatedAt = now;
    this.buckets.set(peer, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  get trackedPeers(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < REFILL_MS) return;
    this.lastSweep = now;
    for (const [peer, bucket] of this.buckets)
      if (now - bucket.updatedAt >= REFILL_MS) this.buckets.delete(peer);
  }
}

import { describe, expect, it } from 'vitest';
import { TokenBuckets } from '../src/index.js';

describe('token buckets', () => {
  it('allow a burst, then `rate` a second, per key', () => {
    const buckets = new TokenBuckets(5, 5);
    expect(Array.from({ length: 8 }, () => buckets.tryTake('a', 0))).toEqual([
      true,
      true,
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
    expect(buckets.tryTake('b', 0)).toBe(true); // another key has its own bucket
    expect([buckets.tryTake('a', 200), buckets.tryTake('a', 200)]).toEqual([true, false]); // one token back
    expect(Array.from({ length: 6 }, () => buckets.tryTake('a', 10_000)).filter(Boolean)).toHaveLength(5);
  });

  it('forget idle keys (a full bucket is the same as a new one), and bound the table under a flood', () => {
    const buckets = new TokenBuckets(1, 1, 500);
    for (let i = 0; i < 1000; i++) buckets.tryTake(`key${i}`, 0);
    expect(buckets.size).toBe(500);
    buckets.tryTake('fresh', 5_000);
    expect(buckets.size).toBe(1);
  });
});

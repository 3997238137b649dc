/** The ack aggregation estimate BBR's window adds (Linux's extra_acked), on its own. */
import { describe, expect, it } from 'vitest';
import { AckAggregation, EXTRA_ACKED_MAX_MS, EXTRA_ACKED_ROUNDS } from '../src/congestion/ack-aggregation.js';

const RATE = 1_000_000; // bytes/s: 1000 bytes a ms

describe('ack aggregation', () => {
  it('acks at the modelled rate add nothing beyond the last ack; a burst adds what outran the model', () => {
    const a = new AckAggregation();
    for (let ms = 1; ms <= 10; ms++) a.update(ms, 1000, false, RATE, 1e9);
    // Each ack ran at most one ack ahead of the model.
    expect(a.allowance(1e12)).toBeLessThanOrEqual(2000);
    const steady = a.allowance(1e12);
    // 10 ms of silence, then 30,000 bytes at once: the model expected 10,000 of them.
    a.update(20, 30_000, false, RATE, 1e9);
    expect(a.allowance(1e12)).toBeGreaterThan(steady);
    expect(a.allowance(1e12)).toBe(30_000);
  });

  it('is capped by the window and by EXTRA_ACKED_MAX_MS of the bandwidth', () => {
    const a = new AckAggregation();
    a.update(0, 500_000, false, RATE, 50_000);
    expect(a.allowance(1e12)).toBe(50_000);
    expect(a.allowance(RATE)).toBe((RATE * EXTRA_ACKED_MAX_MS) / 1000);
  });

  it('forgets a burst after two windows of EXTRA_ACKED_ROUNDS rounds', () => {
    const a = new AckAggregation();
    a.update(0, 40_000, false, RATE, 1e9);
    expect(a.allowance(1e12)).toBe(40_000);
    let now = 1000; // far behind the model: every ack starts a new epoch
    for (let round = 0; round < 2 * EXTRA_ACKED_ROUNDS; round++) {
      now += 1000;
      a.update(now, 100, true, RATE, 1e9);
    }
    expect(a.allowance(1e12)).toBe(100);
  });

  it('an idle restart begins a new epoch', () => {
    const a = new AckAggregation();
    a.update(0, 5_000, false, RATE, 1e9);
    a.restartEpoch();
    a.update(1, 5_000, false, RATE, 1e9);
    // Without the restart the epoch would hold 10,000 against 1,000 expected: 9,000.
    expect(a.allowance(1e12)).toBe(5_000);
  });
});

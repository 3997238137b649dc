import { describe, expect, it } from 'vitest';
import { MAX_ACK_DELAY_MS, RttEstimator } from '../src/session/rtt-estimator.js';

describe('RttEstimator', () => {
  it('times out after 1 s before any sample (RFC 6298 2.1), within the bounds', () => {
    expect(new RttEstimator(200, 10_000).rto).toBe(1_000);
    expect(new RttEstimator(1_500, 10_000).rto).toBe(1_500);
    expect(new RttEstimator(10, 800).rto).toBe(800);
    expect(new RttEstimator(200, 10_000).srtt).toBeUndefined();
  });

  it('takes the first sample whole, then smooths as RFC 6298 does', () => {
    const rtt = new RttEstimator(1, 60_000);
    rtt.sample(100);
    expect(rtt.srtt).toBe(100);
    // rttvar = 50: RTO = 100 + 4 × 50 + max ack delay.
    expect(rtt.rto).toBe(100 + 200 + MAX_ACK_DELAY_MS);
    rtt.sample(200);
    // rttvar = 0.75 × 50 + 0.25 × |100 − 200| = 62.5; srtt = 0.875 × 100 + 0.125 × 200 = 112.5.
    expect(rtt.srtt).toBe(112.5);
    expect(rtt.rto).toBe(112.5 + 250 + MAX_ACK_DELAY_MS);
  });

  it('leaves room for the clock granularity and the peer ack delay even on a steady path', () => {
    const rtt = new RttEstimator(0.001, 60_000);
    for (let i = 0; i < 200; i++) rtt.sample(0.2);
    expect(rtt.srtt).toBeCloseTo(0.2, 6);
    expect(rtt.rto).toBeCloseTo(0.2 + 1 + MAX_ACK_DELAY_MS, 3);
  });

  it('takes the peer ack delay off a sample, at most max_ack_delay, never below the minimum', () => {
    const rtt = new RttEstimator(1, 60_000);
    rtt.sample(0.4); // a heartbeat's answer: immediate, so a minimum
    rtt.sample(5.5, 5);
    expect(rtt.srtt).toBeCloseTo(0.4 * 0.875 + 0.5 * 0.125, 9);
    // A delay beyond 10 ms is believed only up to 10 ms.
    const capped = new RttEstimator(1, 60_000);
    capped.sample(20);
    capped.sample(300, 290);
    expect(capped.srtt).toBeCloseTo(0.875 * 20 + 0.125 * 290, 9);
    // Claiming nearly the whole sample as delay cannot take it below the smallest seen.
    const floored = new RttEstimator(1, 60_000);
    floored.sample(3);
    floored.sample(8, 8);
    expect(floored.srtt).toBe(3);
    expect(floored.minRtt).toBe(3);
    // Before any immediate answer, delayed samples lose their delay: nothing to hold them up.
    const delayedOnly = new RttEstimator(1, 60_000);
    delayedOnly.sample(6.9, 6.6);
    expect(delayedOnly.srtt).toBeCloseTo(0.3, 9);
    expect(delayedOnly.minRtt).toBeUndefined();
  });

  it('starts from the handshake round trip, which the first real sample replaces', () => {
    const rtt = new RttEstimator(1, 60_000);
    rtt.seed(9.5); // a cold handshake: key exchanges included
    expect(rtt.srtt).toBe(9.5);
    expect(rtt.minRtt).toBeUndefined();
    rtt.sample(0.3);
    expect(rtt.srtt).toBe(0.3);
    rtt.seed(50); // only ever the first estimate
    expect(rtt.srtt).toBe(0.3);
    rtt.sample(0.5);
    expect(rtt.srtt).toBeCloseTo(0.3 * 0.875 + 0.5 * 0.125, 9);
  });

  it('clamps the timeout to its bounds', () => {
    const slow = new RttEstimator(200, 10_000);
    slow.sample(8_000);
    expect(slow.rto).toBe(10_000);
    const fast = new RttEstimator(200, 10_000);
    fast.sample(1);
    expect(fast.rto).toBe(200);
  });

  it('doubles the timeout per backoff step, never past the maximum', () => {
    const rtt = new RttEstimator(200, 10_000);
    expect(rtt.backedOff(0)).toBe(1_000);
    expect(rtt.backedOff(3)).toBe(8_000);
    expect(rtt.backedOff(4)).toBe(10_000);
  });
});

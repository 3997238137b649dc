/** Progress numbers on an injected clock: rate over a sliding window, ETA, stalls, resumes, report pacing. */
import { describe, expect, it } from 'vitest';
import { ProgressEstimator } from '../src/index.js';

const MB = 1_000_000;

describe('ProgressEstimator', () => {
  it('a steady 10 MB/s gives that rate and the time left at it', () => {
    const progress = new ProgressEstimator(100 * MB, 0, 0);
    for (let t = 100; t <= 3000; t += 100) progress.update((t / 1000) * 10 * MB, t);
    const at = progress.snapshot(3000);
    expect(at.bytes).toBe(30 * MB);
    expect(at.fraction).toBeCloseTo(0.3);
    expect(at.rate).toBeCloseTo(10 * MB, -3);
    expect(at.eta).toBeCloseTo(7, 2);
    expect(at.elapsed).toBe(3);
    expect(at.averageRate).toBeCloseTo(10 * MB);
  });

  it('follows a change of rate within the window, while the average does not', () => {
    const progress = new ProgressEstimator(1000 * MB, 0, 0);
    let bytes = 0;
    // 10 s at 10 MB/s, then 10 s at 1 MB/s, updated every 50 ms.
    for (let t = 50; t <= 20_000; t += 50) {
      bytes += t <= 10_000 ? 0.5 * MB : 0.05 * MB;
      progress.update(bytes, t);
    }
    const at = progress.snapshot(20_000);
    expect(at.rate).toBeGreaterThan(0.95 * MB);
    expect(at.rate).toBeLessThan(1.1 * MB);
    expect(at.averageRate).toBeCloseTo(5.5 * MB, -4);
    expect(at.eta).toBeCloseTo(((1000 - 110) / at.rate) * MB, 0);
  });

  it('a stall shows as a falling rate, then as no rate and no ETA', () => {
    const progress = new ProgressEstimator(100 * MB, 0, 0);
    for (let t = 100; t <= 5000; t += 100) progress.update((t / 1000) * MB, t);
    const moving = progress.snapshot(5000).rate;
    expect(moving).toBeCloseTo(MB, -3);
    const slowing = progress.snapshot(7000).rate;
    expect(slowing).toBeLessThan(moving);
    expect(slowing).toBeGreaterThan(0);
    const stalled = progress.snapshot(11_000);
    expect(stalled.rate).toBe(0);
    expect(stalled.eta).toBeUndefined();
  });

  it('a resume starts from what was held: only bytes moved in this run count toward the rates', () => {
    const progress = new ProgressEstimator(100 * MB, 60 * MB, 1000);
    expect(progress.snapshot(1000)).toMatchObject({ bytes: 60 * MB, fraction: 0.6, rate: 0, eta: undefined });
    progress.update(62 * MB, 2000);
    const at = progress.snapshot(2000);
    expect(at.rate).toBeCloseTo(2 * MB);
    expect(at.averageRate).toBeCloseTo(2 * MB);
    expect(at.eta).toBeCloseTo(19);
  });

  it('complete: ETA 0; an empty file is complete from the start', () => {
    const progress = new ProgressEstimator(10, 0, 0);
    progress.update(10, 500);
    expect(progress.snapshot(500)).toMatchObject({ fraction: 1, eta: 0 });
    expect(new ProgressEstimator(0, 0, 0).snapshot(0)).toMatchObject({ fraction: 1, eta: 0, rate: 0 });
  });

  it('keeps a bounded number of samples however often it is updated', () => {
    const progress = new ProgressEstimator(1e12, 0, 0);
    for (let t = 1; t <= 100_000; t++) progress.update(t * 1000, t);
    // 1000 bytes a millisecond: 1 MB/s, from samples within the window only.
    expect(progress.snapshot(100_000).rate).toBeCloseTo(MB, -3);
    expect((progress as unknown as { times: Float64Array }).times.length).toBeLessThanOrEqual(34);
  });

  it('a report is due at most every 250 ms', () => {
    const progress = new ProgressEstimator(100, 0, 0);
    const due = [0, 100, 249, 250, 400, 500, 1000].filter((t) => progress.reportDue(t));
    expect(due).toEqual([0, 250, 500, 1000]);
  });
});

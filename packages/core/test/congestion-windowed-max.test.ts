/** The windowed maximum (BBR's bandwidth filter), against a plain maximum over the window. */
import { describe, expect, it } from 'vitest';
import { WindowedMax } from '../src/congestion/windowed-max.js';
import { seededRandom } from './support/random.js';

describe('WindowedMax', () => {
  it('holds the maximum until it leaves the window, then the best that is left', () => {
    const filter = new WindowedMax(10);
    filter.update(0, 5);
    filter.update(1, 9);
    filter.update(2, 3);
    expect(filter.value).toBe(9);
    filter.update(11, 4); // 9 (time 1) is 10 old: still in
    expect(filter.value).toBe(9);
    filter.update(12, 4); // 9 is 11 old: out; the best since is 4
    expect(filter.value).toBe(4);
    filter.update(13, 8);
    expect(filter.value).toBe(8);
    filter.reset(20, 1);
    expect(filter.value).toBe(1);
  });

  it('reports between the newest sample and the true windowed maximum', () => {
    const random = seededRandom(3);
    const filter = new WindowedMax(10);
    const samples: [number, number][] = [];
    for (let t = 0; t < 500; t++) {
      const value = Math.round(random() * 1000);
      filter.update(t, value);
      samples.push([t, value]);
      const truth = Math.max(...samples.filter(([at]) => t - at <= 10).map(([, v]) => v));
      expect(filter.value).toBeLessThanOrEqual(truth);
      expect(filter.value).toBeGreaterThanOrEqual(value);
    }
    // Falling values (the worst case for three samples): within half a window of the truth.
    const falling = new WindowedMax(8);
    for (let t = 0; t < 40; t++) {
      falling.update(t, 100 - t);
      const truth = 100 - Math.max(0, t - 8);
      expect(falling.value).toBeLessThanOrEqual(truth);
      expect(falling.value).toBeGreaterThanOrEqual(truth - 4);
    }
  });
});

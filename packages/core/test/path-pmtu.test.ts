/** The path's datagram size search (RFC 8899; PROTOCOL.md, Datagram size), on its own. */
import { describe, expect, it } from 'vitest';
import {
  BASE_PLPMTU,
  BLACK_HOLE_LOSSES,
  MAX_PLPMTU,
  MAX_PROBES,
  PmtuSearch,
  RAISE_INTERVAL_MS,
  SEARCH_STEP,
} from '../src/path/pmtu.js';

/** Runs a search against a path that carries datagrams of up to `mtu` bytes; returns the sizes probed. */
function search(p: PmtuSearch, mtu: number, now = 0): number[] {
  const probed: number[] = [];
  for (let i = 0; i < 100; i++) {
    const size = p.probeSize(now);
    if (size === 0) break;
    probed.push(size);
    p.onProbeSent();
    if (size <= mtu) p.onProbeAcked(size, now);
    else p.onProbeLost(size, now);
  }
  return probed;
}

describe('PmtuSearch', () => {
  it('starts at 1200 bytes and probes nothing until enabled', () => {
    const p = new PmtuSearch();
    expect(p.size).toBe(BASE_PLPMTU);
    expect(p.state).toBe('disabled');
    expect(p.probeSize(0)).toBe(0);
  });

  it('tries 1452 first and is done when it gets through (loopback, Ethernet)', () => {
    const p = new PmtuSearch();
    p.enable();
    expect(search(p, 1500)).toEqual([MAX_PLPMTU]);
    expect(p.size).toBe(MAX_PLPMTU);
    expect(p.state).toBe('complete');
    expect(p.probeSize(10 * RAISE_INTERVAL_MS)).toBe(0); // nothing above 1452 to look for
  });

  it('keeps one probe in flight at a time', () => {
    const p = new PmtuSearch();
    p.enable();
    expect(p.probeSize(0)).toBe(MAX_PLPMTU);
    p.onProbeSent();
    expect(p.probeSize(0)).toBe(0);
  });

  it('counts a size as too large only after MAX_PROBES of its probes were lost, then halves the interval', () => {
    const p = new PmtuSearch();
    p.enable();
    const probed = search(p, 1300);
    // 1452 three times, then between 1200 (confirmed) and 1452 (failed) down to the step.
    expect(probed.slice(0, MAX_PROBES)).toEqual([MAX_PLPMTU, MAX_PLPMTU, MAX_PLPMTU]);
    expect(probed[MAX_PROBES]).toBe(Math.floor((BASE_PLPMTU + MAX_PLPMTU) / 2));
    expect(p.state).toBe('complete');
    expect(p.size).toBeLessThanOrEqual(1300);
    expect(1300 - p.size).toBeLessThan(SEARCH_STEP);
    expect(probed.length).toBeLessThan(40);
  });

  it('stays at 1200 where nothing larger gets through, and never goes below it', () => {
    const p = new PmtuSearch();
    p.enable();
    search(p, BASE_PLPMTU);
    expect(p.size).toBe(BASE_PLPMTU);
    expect(p.state).toBe('complete');
    expect(p.stats.probesLost).toBeGreaterThanOrEqual(MAX_PROBES);
  });

  it('a single lost probe (congestion) does not fail a size the path carries', () => {
    const p = new PmtuSearch();
    p.enable();
    p.onProbeSent();
    p.onProbeLost(MAX_PLPMTU, 0);
    expect(search(p, 1500)).toEqual([MAX_PLPMTU]);
    expect(p.size).toBe(MAX_PLPMTU);
  });

  it('searches again after PMTU_RAISE_TIMER when it ended below 1452', () => {
    const p = new PmtuSearch();
    p.enable();
    search(p, 1300, 1000);
    const found = p.size;
    expect(p.probeSize(1000 + RAISE_INTERVAL_MS - 1)).toBe(0);
    // The path now carries 1452 (a route change): the next search finds it.
    expect(search(p, 1500, 1000 + RAISE_INTERVAL_MS)).toEqual([MAX_PLPMTU]);
    expect(p.size).toBe(MAX_PLPMTU);
    expect(found).toBeLessThan(MAX_PLPMTU);
  });

  it('falls back to 1200 when BLACK_HOLE_LOSSES large packets are lost in a row and a later small one got through', () => {
    const p = new PmtuSearch();
    p.enable();
    search(p, 1500);
    for (let pn = 100; pn < 100 + BLACK_HOLE_LOSSES; pn++) p.onLargeLost(pn);
    // Only large packets went, and nothing small came back yet: a burst of congestion looks the same.
    expect(p.checkBlackHole()).toBe(false);
    p.onSmallAcked(99); // sent before the losses: says nothing
    expect(p.checkBlackHole()).toBe(false);
    p.onSmallAcked(120); // a probe timeout's 1200-byte packet, sent after them, arrived
    expect(p.checkBlackHole()).toBe(true);
    expect(p.size).toBe(BASE_PLPMTU);
    expect(p.state).toBe('searching');
    expect(p.stats.blackHoles).toBe(1);
    // The path now carries only 1200: the new search stays there.
    search(p, BASE_PLPMTU);
    expect(p.size).toBe(BASE_PLPMTU);
  });

  it('fewer losses than BLACK_HOLE_LOSSES, or a large packet acknowledged between them, is no black hole', () => {
    const p = new PmtuSearch();
    p.enable();
    search(p, 1500);
    for (let pn = 0; pn < BLACK_HOLE_LOSSES - 1; pn++) p.onLargeLost(pn);
    p.onSmallAcked(50);
    expect(p.checkBlackHole()).toBe(false);
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < BLACK_HOLE_LOSSES - 1; i++) p.onLargeLost(100 * round + i);
      p.onLargeAcked();
      p.onLargeLost(100 * round + 50);
      p.onSmallAcked(100 * round + 60);
      expect(p.checkBlackHole()).toBe(false);
      p.onLargeAcked();
    }
    expect(p.size).toBe(MAX_PLPMTU);
  });

  it('disable: back to 1200, no probes; a probe answered late changes nothing', () => {
    const p = new PmtuSearch();
    p.enable();
    p.onProbeSent();
    p.disable();
    p.onProbeAcked(MAX_PLPMTU, 0);
    expect(p.size).toBe(BASE_PLPMTU);
    expect(p.probeSize(0)).toBe(0);
  });
});

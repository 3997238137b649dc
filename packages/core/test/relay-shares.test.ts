/**
 * RelayShares on its own (rendezvous/relay-shares.ts): whatever the relayed addresses send, in
 * whatever order they come and go, the caps set on them add up to at most C, a lone address has
 * all of C, and none is ever capped at 0 (Endpoint.setPathRateLimit refuses it).
 */
import { describe, expect, it } from 'vitest';
import { type Address, formatAddress } from '../src/index.js';
import { RelayShares, SWEEP_MS } from '../src/rendezvous/relay-shares.js';

const C = 63_834;

const at = (port: number): Address => ({ host: 'relay', port });

function shares() {
  const caps = new Map<string, number | undefined>();
  const s = new RelayShares((address, cap) => caps.set(formatAddress(address), cap));
  /** As RelayPaths does: an address not taking part is capped at all of C. */
  const setTotal = (total: number) => {
    s.setTotal(total);
    for (let port = 1; port <= 12; port++) if (!s.has(port)) caps.set(formatAddress(at(port)), total);
  };
  setTotal(C);
  /** The caps of the addresses taking part. */
  const partCaps = (ports: number[]) =>
    ports.filter((p) => s.has(p)).map((p) => caps.get(formatAddress(at(p))) as number);
  return { s, setTotal, partCaps };
}

describe('relay shares', () => {
  it('a lone address has all of C; a second one starts with C / 32; both busy share equally, even when one wants a little more than half', () => {
    const { s, partCaps } = shares();
    s.sent(1, at(1), 1200);
    expect(partCaps([1])).toEqual([C]);
    s.sent(2, at(2), 1200);
    expect(partCaps([1, 2])).toEqual([C - C / 32, C / 32]);
    let now = 0;
    for (let i = 0; i < 3; i++) {
      s.sent(1, at(1), 20_000); // 40 kB/s: under 3/4 of C, over half of it
      s.sent(2, at(2), 20_000);
      now += SWEEP_MS;
      s.sweep(now);
    }
    expect(partCaps([1, 2])).toEqual([C / 2, C / 2]);
  });

  it('an address silent for two sweeps leaves, and its share goes back; with none left no sweep is due', () => {
    const { s, partCaps } = shares();
    let now = 0;
    for (let i = 0; i < 3; i++) {
      s.sent(1, at(1), 20_000);
      s.sent(2, at(2), 20_000);
      now += SWEEP_MS;
      s.sweep(now);
    }
    for (let i = 0; i < 2; i++) {
      s.sent(1, at(1), 20_000);
      now += SWEEP_MS;
      s.sweep(now);
    }
    expect(s.has(2)).toBe(false);
    expect(partCaps([1])).toEqual([C]);
    expect(s.next(now)).toBe(now + SWEEP_MS);
    // The last one falls silent too: nothing takes part, and no sweep is due (no timer while idle).
    for (let i = 0; i < 2; i++) {
      now += SWEEP_MS;
      s.sweep(now);
    }
    expect(s.size).toBe(0);
    expect(s.next(now)).toBeUndefined();
  });

  it('random traffic over 1 to 12 addresses that come and go: the caps never add up to more than C', () => {
    const { s, setTotal, partCaps } = shares();
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let now = 0;
    const ports = Array.from({ length: 12 }, (_, i) => i + 1);
    for (let round = 0; round < 2_000; round++) {
      const port = 1 + Math.floor(random() * 12);
      if (random() < 0.9) s.sent(port, at(port), Math.floor(random() * 30_000));
      if (random() < 0.2) {
        now += SWEEP_MS;
        s.sweep(now);
      }
      if (random() < 0.01) s.forget(port);
      if (random() < 0.005) setTotal(C * (0.5 + random()));
      const caps = partCaps(ports);
      const sum = caps.reduce((x, y) => x + y, 0);
      expect(sum).toBeLessThanOrEqual((s.idleCap as number) * (1 + 1e-9));
      for (const cap of caps) expect(cap).toBeGreaterThan(0);
    }
  });
});

/** The pacer (RFC 9002 §7.7): a token bucket at 1.25 × window / RTT, or the controller's own rate. */
import { describe, expect, it } from 'vitest';
import {
  burstCapacity,
  MAX_BURST_DATAGRAMS,
  MIN_BURST_DATAGRAMS,
  PACING_GAIN,
  Pacer,
} from '../src/congestion/pacer.js';
import { seededRandom } from './support/random.js';

const D = 1200;

/** Sends as fast as the pacer allows from `from` to `to` ms, polling at each time it names. */
function drain(pacer: Pacer, from: number, to: number, window: number, srtt: number, rate?: number) {
  const times: number[] = [];
  let now = from;
  for (let i = 0; i < 1_000_000 && now < to; i++) {
    const at = pacer.nextSendTime(now, D, window, srtt, rate);
    if (at > now) {
      now = at;
      continue;
    }
    pacer.onSent(D);
    times.push(now);
  }
  return times;
}

describe('Pacer', () => {
  it('does not pace before any RTT sample (nothing to derive a rate from)', () => {
    const pacer = new Pacer();
    expect(pacer.rate(12_000, undefined, undefined)).toBeUndefined();
    for (let i = 0; i < 100; i++) expect(pacer.nextSendTime(0, D, 12_000, undefined, undefined)).toBe(0);
  });

  it('paces at 1.25 × window / smoothed RTT, in bursts of about 1 ms', () => {
    const pacer = new Pacer();
    const window = 1_250_000; // 100 Mbit/s at 100 ms
    expect(pacer.rate(window, 100, undefined)).toBe((PACING_GAIN * window * 1000) / 100);
    const times = drain(pacer, 0, 1_000, window, 100);
    const rate = PACING_GAIN * window * 10; // bytes per second
    // A second's worth at the rate, within one burst.
    expect(Math.abs(times.length * D - rate)).toBeLessThanOrEqual(burstCapacity(rate) + D);
    // No burst larger than the bucket: at most capacity / D datagrams at one instant.
    const perInstant = new Map<number, number>();
    for (const t of times) perInstant.set(t, (perInstant.get(t) ?? 0) + 1);
    expect(Math.max(...perInstant.values())).toBeLessThanOrEqual(Math.ceil(burstCapacity(rate) / D) + 1);
  });

  it('sizes the bucket to 1 ms of sending, between 10 and 256 datagrams, and at most 10 ms', () => {
    expect(burstCapacity(100_000_000)).toBe(100_000); // 1 ms at 100 MB/s
    expect(burstCapacity(1e12)).toBe(MAX_BURST_DATAGRAMS * D);
    expect(burstCapacity(5_000_000)).toBe(MIN_BURST_DATAGRAMS * D); // 1 ms would be 5000 bytes
    expect(burstCapacity(200_000)).toBe(2_000); // slow: 10 datagrams would be 60 ms, so 10 ms
    expect(burstCapacity(10_000)).toBe(D); // never below one datagram
  });

  it('lets a burst of at most the bucket go after an idle period', () => {
    const pacer = new Pacer();
    const window = 120_000;
    drain(pacer, 0, 100, window, 10);
    // Idle for 10 s: the bucket is full, not 10 s worth of tokens.
    const after = drain(pacer, 10_100, 10_100.0001, window, 10);
    const rate = (PACING_GAIN * window * 1000) / 10;
    expect(after.length).toBe(Math.floor(burstCapacity(rate) / D));
  });

  it('waits for a whole burst once the bucket is empty, and names the time', () => {
    const pacer = new Pacer();
    const window = 12_000;
    const srtt = 100;
    const rate = (PACING_GAIN * window * 1000) / srtt; // 150,000 bytes/s
    const capacity = burstCapacity(rate); // 10 ms of sending: 1500 bytes
    expect(drain(pacer, 0, 0.0001, window, srtt)).toHaveLength(1);
    // 300 bytes of tokens left: it waits until the bucket is full again, 1200 bytes later.
    const next = pacer.nextSendTime(0, D, window, srtt, undefined);
    expect(capacity).toBe(1_500);
    expect(next).toBeCloseTo((D * 1000) / rate, 6);
    expect(pacer.nextSendTime(next, D, window, srtt, undefined)).toBe(next);
  });

  it("uses the controller's rate when it has one, and a cap (a relay's budget) above all", () => {
    const pacer = new Pacer();
    expect(pacer.rate(12_000, 100, 5_000_000)).toBe(5_000_000);
    pacer.setMaxRate(65_536);
    expect(pacer.rate(12_000, 100, 5_000_000)).toBe(65_536);
    expect(pacer.rate(12_000, undefined, undefined)).toBe(65_536); // capped even before an RTT sample
    const times = drain(pacer, 0, 10_000, 12_000, 100, 5_000_000);
    expect(Math.abs(times.length * D - 655_360)).toBeLessThanOrEqual(burstCapacity(65_536) + D);
    pacer.setMaxRate(undefined);
    expect(pacer.rate(12_000, 100, undefined)).toBe(150_000);
  });

  it('lets a datagram larger than the bucket (1452 bytes at a low rate) go once it has waited for it', () => {
    // At 100 kB/s the bucket holds 10 ms of sending: 1000 bytes, less than the datagram.
    const pacer = new Pacer();
    const rate = 100_000;
    let now = 0;
    pacer.nextSendTime(now, 1452, 12_000, 50, rate);
    pacer.onSent(pacer.rate(12_000, 50, rate) ?? 0); // empty
    let sent = 0;
    for (let i = 0; i < 100 && sent < 3; i++) {
      const at = pacer.nextSendTime(now, 1452, 12_000, 50, rate);
      if (at > now) {
        now = at;
        continue;
      }
      pacer.onSent(1452);
      sent++;
    }
    expect(sent).toBe(3);
    // Still paced: three datagrams of 1452 bytes take about their time at the rate.
    expect(now).toBeGreaterThanOrEqual(((2 * 1452) / rate) * 1000);
  });

  it('answers as the full computation would when asked again within one instant (its shortcut)', () => {
    // `reference` computes everything on every call: setMaxRate(undefined) (no cap, as before)
    // forgets the inputs the shortcut compares.
    const pacer = new Pacer();
    const reference = new Pacer();
    const random = seededRandom(19);
    let now = 0;
    for (let i = 0; i < 20_000; i++) {
      // Mostly the same instant (a burst in one pump), sometimes later; sizes, windows, RTTs and
      // rates change now and then, a wake-up is late now and then.
      if (random() < 0.03) now += random() * 10;
      const bytes = random() < 0.9 ? 1452 : random() < 0.5 ? 1200 : 40;
      const window = random() < 0.95 ? 300_000 : 10_000 + Math.floor(random() * 500_000);
      const srtt = random() < 0.95 ? 2 : random() < 0.5 ? undefined : random() * 50;
      // 3 MB/s: a bucket between its floor and its ceiling, which a late wake-up resizes;
      // 100 kB/s: one under 1452 bytes; 150 MB/s: a bulk stream on loopback.
      const usual = [3e6, 100e3, 150e6][Math.floor(i / 2000) % 3] as number;
      const rate = random() < 0.9 ? usual : random() < 0.5 ? undefined : random() * 200e6;
      if (random() < 0.02) {
        const late = random() * 16;
        pacer.noteWakeLateness(late);
        reference.noteWakeLateness(late);
      }
      reference.setMaxRate(undefined);
      const at = pacer.nextSendTime(now, bytes, window, srtt, rate);
      expect(at).toBe(reference.nextSendTime(now, bytes, window, srtt, rate));
      if (at === now) {
        pacer.onSent(bytes);
        reference.onSent(bytes);
      }
    }
  });
});

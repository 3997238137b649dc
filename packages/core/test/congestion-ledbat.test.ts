/** LEDBAT++'s rules (draft-irtf-iccrg-ledbat-plus-plus), fed one acknowledgement at a time. */
import { describe, expect, it } from 'vitest';
import { INITIAL_WINDOW, MINIMUM_WINDOW } from '../src/congestion/controller.js';
import { Ledbat, SLOWDOWN_SPACING } from '../src/congestion/ledbat.js';
import { RttEstimator } from '../src/session/rtt-estimator.js';

const D = 1200;

function setup(target?: number, srtt = 100) {
  const rtt = new RttEstimator(1, 60_000);
  rtt.sample(srtt, 0);
  const cc = new Ledbat(rtt, target === undefined ? {} : { target });
  let now = 0;
  /** One acknowledgement of `bytes` with an RTT sample of `sample` ms, `dt` ms after the last. */
  const ack = (sample: number, bytes = D, dt = 1) => {
    now += dt;
    cc.onAck(now, { sentAt: now - sample, bytes, appLimited: false });
    cc.onAckEnd(now, {
      latestRtt: sample,
      ackDelay: 0,
      ackedBytes: bytes,
      lostBytes: 0,
      priorInFlight: cc.window(),
      bytesInFlight: cc.window(),
      delivered: 0,
      priorDelivered: -1,
      deliveryRate: 0,
      rateAppLimited: false,
    });
  };
  return { cc, ack, at: () => now, set: (t: number) => (now = t) };
}

describe('LEDBAT++', () => {
  it('scales its gain with the base delay: 1 / min(16, ceil(2 × target / base))', () => {
    const long = setup(60);
    long.ack(200);
    expect(long.cc.gain).toBe(1);
    const mid = setup(60);
    mid.ack(50);
    expect(mid.cc.gain).toBe(1 / 3);
    const short = setup(60);
    short.ack(1);
    expect(short.cc.gain).toBe(1 / 16);
    expect(setup(60).cc.gain).toBe(1 / 16); // no sample yet: the slowest
  });

  it('measures queueing delay as the least of the last 4 RTTs minus the base RTT', () => {
    const { cc, ack } = setup();
    ack(50);
    for (const sample of [80, 70, 90, 75]) ack(sample);
    expect(cc.baseDelay).toBe(50);
    expect(cc.queueingDelay).toBe(20); // min(80, 70, 90, 75) - 50
    ack(95);
    expect(cc.queueingDelay).toBe(20); // 70 is still among the last 4
    ack(95);
    expect(cc.queueingDelay).toBe(25);
  });

  it('slow-starts by GAIN × the bytes acknowledged, and stops at 3/4 of the target', () => {
    const { cc, ack } = setup(60);
    ack(50); // gain 1/3
    expect(cc.phase).toBe('slow_start');
    const before = cc.window();
    ack(50, 3 * D);
    expect(cc.window()).toBeCloseTo(before + D, 6);
    ack(50 + 44); // 44 ms of queue: under 45 (3/4 of 60)
    expect(cc.phase).toBe('slow_start');
    ack(50 + 46, D);
    ack(50 + 46, D);
    ack(50 + 46, D);
    ack(50 + 46, D); // the least of the last 4 is now 46 ms over the base
    expect(cc.phase).toBe('avoidance');
    expect(cc.ssthresh).toBe(cc.window());
  });

  it('adds GAIN datagrams per window under the target, and takes off W × (delay/target − 1), at most W/2, above it', () => {
    const { cc, ack } = setup(20, 1_000); // a long smoothed RTT: no slowdown during this test
    ack(50); // gain = 1 / ceil(40/50) = 1
    cc.onCongestionEvent(2, 1, false, D); // into avoidance at half the window
    expect(cc.phase).toBe('avoidance');
    const w0 = cc.window();
    expect(w0).toBe((INITIAL_WINDOW + D) / 2); // the first ack grew it by GAIN × 1200 in slow start
    // Under the target: one whole window acknowledged adds GAIN × 1 datagram.
    ack(60, w0, 100); // sent after the recovery period began
    expect(cc.window()).toBeCloseTo(w0 + D, 6);
    // At 30 ms of queue (1.5 × target): per window acknowledged, + GAIN − W × 0.5 datagrams.
    for (let i = 0; i < 4; i++) ack(80, 0, 1); // the filter fills with 80 ms samples
    const w1 = cc.window();
    ack(80, w1, 1); // a whole window at once
    expect(cc.window()).toBeCloseTo(w1 + D * (1 - (w1 / D) * 0.5), 6);
    // Far above the target the cut is at most half the window per window acknowledged.
    for (let i = 0; i < 4; i++) ack(500, 0, 1);
    const w2 = cc.window();
    ack(500, w2, 1_000);
    expect(cc.window()).toBeCloseTo(Math.max(MINIMUM_WINDOW, w2 / 2), 6);
  });

  it('halves on loss once per recovery period, and never goes below 2 datagrams', () => {
    const { cc } = setup();
    cc.onCongestionEvent(100, 50, false, D);
    expect(cc.window()).toBe(INITIAL_WINDOW / 2);
    cc.onCongestionEvent(110, 90, false, D); // sent before the period began
    expect(cc.window()).toBe(INITIAL_WINDOW / 2);
    for (let t = 200; t < 2_000; t += 100) cc.onCongestionEvent(t, t - 1, false, D);
    expect(cc.window()).toBe(MINIMUM_WINDOW);
  });

  it('slows down 2 round trips after slow start, to 2 datagrams for 2 round trips, then ramps back and spaces the next by 9 times its length', () => {
    const srtt = 100;
    const { cc, ack, at } = setup(60, srtt);
    ack(100); // base 100
    for (let i = 0; i < 4; i++) ack(150, D); // 50 ms of queue: slow start ends
    expect(cc.phase).toBe('avoidance');
    const exitAt = at();
    const window = cc.window();
    while (at() < exitAt + 2 * srtt) ack(100, 0, 10); // no growth (nothing acknowledged), delay at base
    expect(cc.phase).toBe('slowdown');
    expect(cc.window()).toBe(MINIMUM_WINDOW);
    expect(cc.ssthresh).toBeCloseTo(window, 6);
    const slowdownAt = at();
    // Frozen for 2 round trips, however much is acknowledged.
    while (at() < slowdownAt + 2 * srtt - 10) {
      ack(100, D, 10);
      expect(cc.window()).toBe(MINIMUM_WINDOW);
    }
    ack(100, D, 10);
    ack(100, D, 10);
    expect(cc.phase).toBe('ramp');
    // The ramp slow-starts back to where the window was, then the next slowdown is scheduled.
    for (let i = 0; i < 10_000 && cc.phase === 'ramp'; i++) ack(100, D, 1);
    expect(cc.phase).toBe('avoidance');
    const length = at() - slowdownAt;
    for (let i = 0; i < 100_000 && cc.phase === 'avoidance'; i++) ack(100, 0, 1);
    expect(at() - slowdownAt).toBeCloseTo(length + SLOWDOWN_SPACING * length, -1);
  });

  it('does not grow on acknowledgements of packets sent while application-limited', () => {
    const { cc, at } = setup();
    cc.onAck(at() + 1, { sentAt: 0, bytes: 10 * D, appLimited: true });
    cc.onAckEnd(at() + 1, {
      latestRtt: 100,
      ackDelay: 0,
      ackedBytes: 10 * D,
      lostBytes: 0,
      priorInFlight: D,
      bytesInFlight: 0,
      delivered: 0,
      priorDelivered: -1,
      deliveryRate: 0,
      rateAppLimited: true,
    });
    expect(cc.window()).toBe(INITIAL_WINDOW);
  });
});

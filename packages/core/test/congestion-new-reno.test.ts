/** NewReno against RFC 9002 §7 and Appendix B, rule by rule. */
import { describe, expect, it } from 'vitest';
import { INITIAL_WINDOW, MAX_DATAGRAM_SIZE, MINIMUM_WINDOW } from '../src/congestion/controller.js';
import { NewReno } from '../src/congestion/new-reno.js';
import { RttEstimator } from '../src/session/rtt-estimator.js';

const D = MAX_DATAGRAM_SIZE;

function reno(rttSample = 100) {
  const rtt = new RttEstimator(1, 60_000);
  rtt.sample(rttSample, 0);
  return new NewReno(rtt);
}

/** Acknowledges `count` full datagrams sent at `sentAt`. */
function ack(cc: NewReno, count: number, sentAt: number, appLimited = false): void {
  for (let i = 0; i < count; i++) cc.onAck(sentAt + 1, { sentAt, bytes: D, appLimited });
}

describe('NewReno (RFC 9002 §7)', () => {
  it('starts at the initial window, min(10 × 1200, max(2 × 1200, 14720)) = 12000, with no ssthresh', () => {
    const cc = reno();
    expect(INITIAL_WINDOW).toBe(12_000);
    expect(MINIMUM_WINDOW).toBe(2_400);
    expect(cc.window()).toBe(12_000);
    expect(cc.ssthresh).toBe(Number.POSITIVE_INFINITY);
    expect(cc.pacingRate()).toBeUndefined();
  });

  it('grows by every acknowledged byte in slow start (§7.3.1)', () => {
    const cc = reno();
    cc.onAck(10, { sentAt: 0, bytes: 700, appLimited: false });
    expect(cc.window()).toBe(12_700);
    ack(cc, 10, 0);
    expect(cc.window()).toBe(12_700 + 10 * D);
  });

  it('halves on loss, keyed by sent time: one reduction per recovery period (§7.3.2, B.6)', () => {
    const cc = reno();
    ack(cc, 10, 0); // 24000
    cc.onCongestionEvent(100, 50, false, D);
    expect(cc.ssthresh).toBe(12_000);
    expect(cc.window()).toBe(12_000);
    // Another loss of a packet sent before the period began: no second reduction.
    cc.onCongestionEvent(120, 90, false, D);
    expect(cc.window()).toBe(12_000);
    // Nor does the window grow from packets sent before the period began (B.5).
    ack(cc, 5, 99);
    expect(cc.window()).toBe(12_000);
    // Sent at the very moment recovery began still counts as inside (sent_time <= start).
    ack(cc, 1, 100);
    expect(cc.window()).toBe(12_000);
    // A loss of a packet sent after it started is a new congestion event.
    cc.onCongestionEvent(200, 150, false, D);
    expect(cc.window()).toBe(6_000);
    expect(cc.ssthresh).toBe(6_000);
  });

  it('grows by about one datagram per window in congestion avoidance (§7.3.3), counting bytes', () => {
    const cc = reno();
    cc.onCongestionEvent(100, 50, false, D); // window 6000 = ssthresh: avoidance
    expect(cc.window()).toBe(6_000);
    ack(cc, 4, 150); // 4800 bytes of a 6000-byte window
    expect(cc.window()).toBe(6_000);
    ack(cc, 1, 150); // 6000: one datagram more
    expect(cc.window()).toBe(7_200);
    ack(cc, 5, 150); // 6000 of 7200
    expect(cc.window()).toBe(7_200);
    ack(cc, 1, 150);
    expect(cc.window()).toBe(8_400);
    // A whole window more, a datagram more: one per round trip, not one per ack.
    ack(cc, 7, 150);
    expect(cc.window()).toBe(9_600);
  });

  it('never goes below the minimum window of 2 datagrams (§7.2)', () => {
    const cc = reno();
    let now = 100;
    for (let i = 0; i < 10; i++) {
      cc.onCongestionEvent(now, now - 1, false, D);
      now += 100;
    }
    expect(cc.window()).toBe(MINIMUM_WINDOW);
    // ssthresh may go lower (B.6 sets it before the floor), the window may not.
    expect(cc.ssthresh).toBeLessThan(MINIMUM_WINDOW);
  });

  it('collapses to the minimum window on persistent congestion, and ends the recovery period (§7.6, B.8)', () => {
    const cc = reno();
    ack(cc, 20, 0); // 36000
    cc.onCongestionEvent(1_000, 900, true, 10 * D);
    expect(cc.window()).toBe(MINIMUM_WINDOW);
    expect(cc.ssthresh).toBe(18_000);
    // congestion_recovery_start_time = 0: a packet sent before the event grows the window again.
    ack(cc, 1, 950);
    expect(cc.window()).toBe(MINIMUM_WINDOW + D);
  });

  it('does not grow while the window is not used (app-limited, §7.8)', () => {
    const cc = reno();
    ack(cc, 10, 0, true);
    expect(cc.window()).toBe(INITIAL_WINDOW);
    cc.onCongestionEvent(100, 50, false, D);
    ack(cc, 20, 150, true);
    expect(cc.window()).toBe(6_000);
  });

  it('after an idle period halves once per PTO of idleness, down to the initial window, keeping ssthresh ≥ 3/4', () => {
    const rtt = new RttEstimator(1, 60_000);
    rtt.sample(100, 0); // PTO = 100 + 4 × 50 + 10 = 310
    const cc = new NewReno(rtt);
    cc.onPacketSent(0, D, 0, false);
    expect(cc.window()).toBe(INITIAL_WINDOW); // the first packet is no restart
    ack(cc, 40, 0); // 60000
    cc.onCongestionEvent(10, 5, false, D); // 30000, ssthresh 30000
    while (cc.window() < 48_000) ack(cc, 1, 20); // congestion avoidance up to 48000
    expect(cc.window()).toBe(48_000);
    // Idle for less than a PTO: nothing changes.
    cc.onPacketSent(300, D, 0, false);
    expect(cc.window()).toBe(48_000);
    // Something in flight: never a restart, however long since.
    cc.onPacketSent(2_000, D, D, false);
    expect(cc.window()).toBe(48_000);
    // 1.5 PTOs idle with nothing in flight: halved once; ssthresh keeps 3/4 of the old window.
    cc.onPacketSent(2_000 + 1.5 * 310, D, 0, false);
    expect(cc.window()).toBe(24_000);
    expect(cc.ssthresh).toBe(36_000);
    // It slow-starts back (window < ssthresh).
    ack(cc, 1, 3_000);
    expect(cc.window()).toBe(25_200);
    // A very long idle period stops at min(initial window, window).
    cc.onPacketSent(1e9, D, 0, false);
    expect(cc.window()).toBe(INITIAL_WINDOW);
    expect(cc.ssthresh).toBe(36_000);
  });
});

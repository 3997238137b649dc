/**
 * BBR's rules (draft-cardwell-iccrg-bbr-congestion-control-00 and netchat's deviations), fed
 * one round trip at a time: each `round` call is one acknowledgement that ends a round, with a
 * delivery-rate sample, an RTT sample and what is in flight.
 */
import { describe, expect, it } from 'vitest';
import { Bbr } from '../src/congestion/bbr.js';
import {
  HIGH_GAIN,
  LOSS_BETA,
  MIN_PIPE_CWND,
  PACING_MARGIN,
  PROBE_QUEUE_MS,
  PROBE_RTT_DURATION_MS,
  RTPROP_FILTER_MS,
} from '../src/congestion/bbr-parameters.js';
import { type AckSummary, INITIAL_WINDOW } from '../src/congestion/controller.js';
import { burstCapacity } from '../src/congestion/pacer.js';
import { seededU32 } from './support/random.js';

const D = 1200;

interface Round {
  /** Delivery rate (bytes/s). */
  rate: number;
  rtt?: number;
  inflight?: number;
  lost?: number;
  appLimited?: boolean;
}

/** Drives a Bbr one round trip per call. */
function driver(bbr = new Bbr({ randomU32: seededU32(1) })) {
  let now = 0;
  let delivered = 0;
  let lastRoundDelivered = 0;
  const round = ({ rate, rtt = 100, inflight, lost = 0, appLimited = false }: Round) => {
    now += rtt;
    const acked = Math.max(D, Math.round((rate * rtt) / 1000));
    if (lost > 0) bbr.onCongestionEvent(now, now - rtt / 2, false, lost);
    bbr.onAck(now, { sentAt: now - rtt, bytes: acked, appLimited });
    delivered += acked;
    const inFlight = inflight ?? bbr.window();
    const summary: AckSummary = {
      latestRtt: rtt,
      ackDelay: 0,
      ackedBytes: acked,
      lostBytes: lost,
      priorInFlight: inFlight,
      bytesInFlight: inFlight,
      delivered,
      priorDelivered: lastRoundDelivered,
      deliveryRate: rate,
      rateAppLimited: appLimited,
    };
    bbr.onAckEnd(now, summary);
    lastRoundDelivered = delivered;
    return bbr;
  };
  return { bbr, round, at: () => now };
}

/** Startup at a 1 MB/s bottleneck (100 ms: BDP 100 KB) until the pipe is full, then Drain, then ProbeBW. */
function toProbeBw() {
  const d = driver();
  for (const rate of [120_000, 250_000, 500_000, 1_000_000]) d.round({ rate });
  for (let i = 0; i < 3; i++) d.round({ rate: 1_000_000 });
  d.round({ rate: 1_000_000, inflight: 100_000 });
  return d;
}

describe('BBR', () => {
  it('starts in Startup at the initial window, paced at 2/ln2 × initial window / first RTT', () => {
    const { bbr, round } = driver();
    expect(bbr.mode).toBe('startup');
    expect(bbr.window()).toBe(INITIAL_WINDOW);
    expect(bbr.pacingRate()).toBeUndefined(); // no RTT yet: the pacer does not pace
    round({ rate: 50_000, rtt: 100 });
    // The first RTT sample sets the rate; the bandwidth sample at high gain is lower, and
    // Startup never lowers it.
    expect(bbr.pacingRate()).toBeCloseTo((HIGH_GAIN * INITIAL_WINDOW * 1000) / 100, 6);
    expect(bbr.pacingGain).toBeCloseTo(HIGH_GAIN, 9);
    expect(bbr.cwndGain).toBeCloseTo(HIGH_GAIN, 9);
  });

  it('takes the maximum delivery rate, ignoring application-limited samples below it', () => {
    const { bbr, round } = driver();
    round({ rate: 400_000 });
    expect(bbr.bandwidth).toBe(400_000);
    round({ rate: 300_000 });
    expect(bbr.bandwidth).toBe(400_000);
    round({ rate: 100_000, appLimited: true });
    expect(bbr.bandwidth).toBe(400_000);
    round({ rate: 900_000, appLimited: true }); // app-limited yet higher: the path can carry it
    expect(bbr.bandwidth).toBe(900_000);
    expect(bbr.minRtt).toBe(100);
  });

  it('leaves Startup after 3 rounds without 25 % growth, drains to one BDP, then probes', () => {
    const d = driver();
    for (const rate of [120_000, 250_000, 500_000, 1_000_000, 1_100_000, 1_100_000]) d.round({ rate });
    expect(d.bbr.mode).toBe('startup'); // 1.1 < 1.25 × 1.0: two rounds without growth so far
    d.round({ rate: 1_100_000, inflight: 300_000 });
    expect(d.bbr.mode).toBe('drain');
    expect(d.bbr.pacingGain).toBeCloseTo(1 / HIGH_GAIN, 9);
    expect(d.bbr.pacingRate()).toBeCloseTo((1_100_000 * (1 - PACING_MARGIN)) / HIGH_GAIN, 3);
    d.round({ rate: 1_100_000, inflight: 200_000 }); // still above the BDP (110 KB)
    expect(d.bbr.mode).toBe('drain');
    d.round({ rate: 1_100_000, inflight: 100_000 });
    expect(d.bbr.mode).toBe('probe_bw');
    expect(d.bbr.cwndGain).toBe(2);
  });

  it('keeps 2 BDP, a pacer burst and the ack aggregation in flight in ProbeBW', () => {
    const { bbr, round } = toProbeBw();
    const bdp = (1_000_000 * 100) / 1000;
    for (let i = 0; i < 20; i++) round({ rate: 1_000_000, inflight: bdp });
    // Each ack here acknowledges a whole round at once: 100 KB more than the rate explains at
    // that instant, which is what extra_acked measures (a stretch ack must not starve the link),
    // but the window holds at most EXTRA_ACKED_MAX_MS (20 ms) of it: 20 KB, not 100 KB (a chat
    // line waits behind whatever the window holds beyond the model).
    expect(bbr.window()).toBeCloseTo(2 * bdp + burstCapacity(1_000_000) + 20_000, 0);
  });

  it('cycles the pacing gain, probing by at most PROBE_QUEUE_MS of queue', () => {
    const { bbr, round } = toProbeBw();
    const gains = new Set<number>();
    for (let i = 0; i < 24; i++) {
      // What is in flight follows the gain (a probe fills the pipe up, a drain empties it).
      round({ rate: 1_000_000, rtt: 100, inflight: bbr.pacingGain * 100_000 + burstCapacity(1e6) });
      gains.add(Math.round(bbr.pacingGain * 1000) / 1000);
    }
    // At 100 ms, 10 ms of queue is a gain of 1.1 (the draft's 1.25 would be 25 ms), and the drain 0.9.
    expect([...gains].sort()).toEqual([0.9, 1, 1 + PROBE_QUEUE_MS / 100]);

    const short = driver();
    for (const rate of [1e6, 2e6, 4e6, 8e6, 8e6, 8e6, 8e6]) short.round({ rate, rtt: 10 });
    short.round({ rate: 8e6, rtt: 10, inflight: 10_000 });
    const shortGains = new Set<number>();
    for (let i = 0; i < 24; i++) {
      short.round({ rate: 8e6, rtt: 10, inflight: short.bbr.pacingGain * 80_000 + burstCapacity(8e6) });
      shortGains.add(short.bbr.pacingGain);
    }
    expect([...shortGains].sort()).toEqual([0.75, 1, 1.25]); // 10 ms path: the draft's gains
  });

  it('enters ProbeRTT when the minimum RTT is 10 s old: 4 datagrams for 200 ms and a round, then back', () => {
    const d = toProbeBw();
    const before = d.bbr.window();
    const lastMinimum = d.at();
    while (d.at() <= lastMinimum + RTPROP_FILTER_MS) {
      expect(d.bbr.mode).not.toBe('probe_rtt');
      d.round({ rate: 1_000_000, rtt: 120, inflight: 120_000 });
    }
    expect(d.bbr.mode).toBe('probe_rtt');
    expect(d.bbr.window()).toBe(MIN_PIPE_CWND);
    // The flight drains to 4 datagrams: then it holds 200 ms and at least a round.
    d.round({ rate: 200_000, rtt: 100, inflight: MIN_PIPE_CWND });
    const drainedAt = d.at();
    while (d.at() <= drainedAt + PROBE_RTT_DURATION_MS) {
      expect(d.bbr.mode).toBe('probe_rtt');
      d.round({ rate: 50_000, rtt: 100, inflight: MIN_PIPE_CWND });
    }
    d.round({ rate: 50_000, rtt: 100, inflight: MIN_PIPE_CWND });
    expect(d.bbr.mode).toBe('probe_bw');
    expect(d.bbr.minRtt).toBe(100); // the new, lower minimum
    expect(d.bbr.window()).toBeGreaterThanOrEqual(before); // the window before ProbeRTT comes back
    // The low rate samples of the drained pipe did not lower the bandwidth estimate.
    expect(d.bbr.bandwidth).toBe(1_000_000);
  });

  it('bounds what is in flight at 0.7 of the peak after a round that lost more than 2 %', () => {
    const { bbr, round } = toProbeBw();
    expect(bbr.inflightBound).toBe(Number.POSITIVE_INFINITY);
    // 1 % random loss: no bound.
    round({ rate: 1_000_000, inflight: 200_000, lost: 1_200 });
    round({ rate: 1_000_000, inflight: 200_000 });
    expect(bbr.inflightBound).toBe(Number.POSITIVE_INFINITY);
    // 5 %: bounded at 0.7 × the round's peak in flight.
    round({ rate: 1_000_000, inflight: 200_000, lost: 6_000 });
    round({ rate: 1_000_000, inflight: 100_000 });
    expect(bbr.inflightBound).toBeCloseTo(LOSS_BETA * 200_000, 6);
    expect(bbr.window()).toBeLessThanOrEqual(LOSS_BETA * 200_000);
    // Each round spent against the bound raises it: by 1, 2, 4 datagrams...
    const bound = bbr.inflightBound;
    round({ rate: 1_000_000, inflight: bound });
    round({ rate: 1_000_000, inflight: bound + D });
    expect(bbr.inflightBound).toBeCloseTo(bound + 3 * D, 6);
  });

  it('counts a round as spent against the bound by the largest datagram sent (1452-byte datagrams leave up to 1451 bytes unused)', () => {
    const bounded = () => {
      const d = toProbeBw();
      d.round({ rate: 1_000_000, inflight: 200_000, lost: 6_000 });
      d.round({ rate: 1_000_000, inflight: 100_000 });
      return d;
    };
    // Only 1200-byte datagrams: a round 1300 bytes under the bound had room for one more.
    const small = bounded();
    const smallBound = small.bbr.inflightBound;
    small.bbr.onPacketSent(small.at(), D, 50_000, false);
    small.round({ rate: 1_000_000, inflight: smallBound - 1_300 });
    expect(small.bbr.inflightBound).toBe(smallBound);
    // 1452-byte datagrams: the next one did not fit, so the round was limited by the bound.
    const large = bounded();
    const largeBound = large.bbr.inflightBound;
    large.bbr.onPacketSent(large.at(), 1452, 50_000, false);
    large.round({ rate: 1_000_000, inflight: largeBound - 1_300 });
    expect(large.bbr.inflightBound).toBeCloseTo(largeBound + D, 6);
  });

  it('counts the loss minimums and the raises of the bound in datagrams of the size the flow sends (1452 bytes after a PMTU raise)', () => {
    const L = 1452;
    // Startup: 7 lost 1452-byte datagrams (10,164 bytes, more than 8 × 1200) are not yet 8 datagrams.
    const d = driver();
    d.bbr.onPacketSent(d.at(), L, 50_000, false);
    for (const rate of [120_000, 250_000, 500_000]) d.round({ rate });
    d.round({ rate: 1_000_000, inflight: 150_000, lost: 7 * L });
    d.round({ rate: 1_500_000 });
    expect(d.bbr.mode).toBe('startup');
    d.round({ rate: 2_000_000, inflight: 400_000, lost: 9 * L });
    d.round({ rate: 2_200_000, inflight: 300_000 });
    expect(d.bbr.mode).not.toBe('startup');
    // ProbeBW: after a loss the bound rises by one datagram of 1452 bytes, then two.
    const p = toProbeBw();
    p.bbr.onPacketSent(p.at(), L, 50_000, false);
    p.round({ rate: 1_000_000, inflight: 200_000, lost: 6_000 });
    p.round({ rate: 1_000_000, inflight: 100_000 });
    const bound = p.bbr.inflightBound;
    p.round({ rate: 1_000_000, inflight: bound });
    p.round({ rate: 1_000_000, inflight: bound + L });
    expect(p.bbr.inflightBound).toBeCloseTo(bound + 3 * L, 6);
  });

  it('ends Startup on a round that lost more than 2 % (8 datagrams at least): the buffer is full', () => {
    const d = driver();
    for (const rate of [120_000, 250_000, 500_000]) d.round({ rate });
    d.round({ rate: 1_000_000, inflight: 150_000, lost: 5 * D }); // 5 datagrams: not yet
    d.round({ rate: 1_500_000 });
    expect(d.bbr.mode).toBe('startup');
    d.round({ rate: 2_000_000, inflight: 400_000, lost: 12 * D });
    d.round({ rate: 2_200_000, inflight: 300_000 });
    expect(d.bbr.mode).not.toBe('startup');
  });

  it('sends one for one during the first round of a recovery period, and restores the window after', () => {
    const { bbr, round, at } = toProbeBw();
    const before = bbr.window();
    bbr.onCongestionEvent(at() + 1, at(), false, D);
    round({ rate: 1_000_000, inflight: 60_000 });
    // Packet conservation: what is in flight plus what this ack delivered.
    expect(bbr.window()).toBe(60_000 + 100_000);
    // A packet sent after the period began is acknowledged: the window before it is back.
    bbr.onAck(at() + 50, { sentAt: at() + 10, bytes: D, appLimited: false });
    expect(bbr.window()).toBeGreaterThanOrEqual(before);
  });

  it('falls to 4 datagrams on persistent congestion', () => {
    const { bbr, at } = toProbeBw();
    bbr.onCongestionEvent(at() + 1, at(), true, 50 * D);
    expect(bbr.window()).toBe(MIN_PIPE_CWND);
  });

  it('restarts from idle at the estimated rate, without probing into a queue', () => {
    const { bbr, round } = toProbeBw();
    for (let i = 0; i < 16 && bbr.pacingGain <= 1; i++) round({ rate: 1_000_000, inflight: 100_000 });
    expect(bbr.pacingGain).toBeGreaterThan(1); // probing when the sender went idle
    bbr.onPacketSent(1e6, D, 0, true);
    expect(bbr.pacingRate()).toBeCloseTo(1_000_000 * (1 - PACING_MARGIN), 3);
  });

  it('lowers the bandwidth it paces at to what a round that lost more than 2 % delivered (at least 0.7 of it), until its next probe', () => {
    const { bbr, round } = toProbeBw();
    const bdp = 100_000;
    // Into a phase at gain 1 (not probing: the bound is not applied while probing up).
    for (let i = 0; i < 16 && bbr.pacingGain !== 1; i++) round({ rate: 1_000_000, inflight: bdp });
    expect(bbr.pacingGain).toBe(1);
    // 1 % random loss, another flow taking 40 % of the link: the model keeps the maximum.
    round({ rate: 600_000, inflight: 200_000 });
    round({ rate: 600_000, inflight: 200_000, lost: 1_200 });
    expect(bbr.pacingRate()).toBeCloseTo(1_000_000 * (1 - PACING_MARGIN), 3);
    // A round that lost 5 % and delivered at 600 KB/s: paced at max(600 KB/s, 0.7 × 1 MB/s).
    round({ rate: 600_000, inflight: 200_000, lost: 6_000 });
    expect(bbr.pacingRate()).toBeCloseTo(LOSS_BETA * 1_000_000 * (1 - PACING_MARGIN), 3);
    expect(bbr.bandwidth).toBe(1_000_000); // the max filter itself is unchanged
    expect(bbr.bandwidthBound).toBeCloseTo(LOSS_BETA * 1_000_000, 6);
    // Another such round: 0.7 of the bound again, but never under what the round delivered.
    round({ rate: 600_000, inflight: 200_000, lost: 6_000 });
    expect(bbr.bandwidthBound).toBeCloseTo(600_000, 6);
    // The next probe starts from the whole estimate (BtlBw) again.
    for (let i = 0; i < 16 && bbr.pacingGain <= 1; i++) round({ rate: 700_000, inflight: bdp });
    expect(bbr.pacingGain).toBeGreaterThan(1);
    expect(bbr.bandwidthBound).toBe(Number.POSITIVE_INFINITY);
    expect(bbr.bandwidth).toBe(700_000); // the 10-round filter forgot 1 MB/s meanwhile
    expect(bbr.pacingRate()).toBeCloseTo(bbr.pacingGain * 700_000 * (1 - PACING_MARGIN), 3);
  });
});

/** Loss detection against RFC 9002 §6 and §7.6: thresholds, the probe timeout, persistent congestion. */
import { describe, expect, it } from 'vitest';
import type { AckedPacket, AckSummary, CongestionController } from '../src/congestion/controller.js';
import {
  GRANULARITY,
  LossDetection,
  PACKET_THRESHOLD,
  PERSISTENT_CONGESTION_THRESHOLD,
  PROBES_PER_PTO,
  TIME_THRESHOLD,
} from '../src/congestion/loss-detection.js';
import { RttEstimator } from '../src/session/rtt-estimator.js';

const D = 1200;

/** A controller that lets everything through and writes down what it was told. */
class Recorder implements CongestionController {
  readonly name = 'recorder';
  readonly sent: number[] = [];
  readonly acked: { sentAt: number; bytes: number; appLimited: boolean }[] = [];
  readonly congestion: { now: number; sentAt: number; persistent: boolean; lostBytes: number }[] = [];
  readonly summaries: AckSummary[] = [];
  onPacketSent(_now: number, bytes: number): void {
    this.sent.push(bytes);
  }
  onAck(_now: number, p: AckedPacket): void {
    this.acked.push({ ...p });
  }
  onCongestionEvent(now: number, sentAt: number, persistent: boolean, lostBytes: number): void {
    this.congestion.push({ now, sentAt, persistent, lostBytes });
  }
  onAckEnd(_now: number, s: AckSummary): void {
    this.summaries.push({ ...s });
  }
  window(): number {
    return 1e9;
  }
  pacingRate(): undefined {
    return undefined;
  }
}

function setup() {
  const rtt = new RttEstimator(1, 60_000);
  const cc = new Recorder();
  return { rtt, cc, loss: new LossDetection(rtt, cc) };
}

/** Sends `count` packets at `at`, each tagged with its index + 100. */
function send(loss: LossDetection, at: number, count: number): number[] {
  return Array.from({ length: count }, () => loss.onPacketSent(at, D, loss.sent.next + 100));
}

const ack = (loss: LossDetection, now: number, ranges: [number, number][], ackDelay = 0) =>
  loss.onAckReceived(now, ranges.flat(), ranges.length, ackDelay);

describe('LossDetection (RFC 9002 §6)', () => {
  it('numbers packets from 0, counts bytes in flight, and reports what an ACK newly acknowledged', () => {
    const { loss, cc } = setup();
    expect(send(loss, 0, 5)).toEqual([0, 1, 2, 3, 4]);
    expect(loss.bytesInFlight).toBe(5 * D);
    expect(ack(loss, 100, [[0, 4]])).toBe(5);
    expect(loss.acked).toEqual([0, 1, 2, 3, 4]);
    expect(loss.ackedTags).toEqual([100, 101, 102, 103, 104]);
    expect(loss.bytesInFlight).toBe(0);
    expect(cc.acked).toHaveLength(5);
    // The same ACK again acknowledges nothing new.
    expect(ack(loss, 110, [[0, 4]])).toBe(0);
    expect(loss.acked).toEqual([]);
    expect(cc.acked).toHaveLength(5);
  });

  it('takes one RTT sample per ACK, from its largest packet if newly acknowledged (§5.1)', () => {
    const { loss, rtt, cc } = setup();
    send(loss, 0, 2);
    send(loss, 20, 1);
    ack(loss, 100, [[0, 0]], 3);
    expect(loss.latestRtt).toBe(100);
    expect(rtt.srtt).toBe(97); // the ack delay is taken off (the first sample, so not below a minimum)
    expect(cc.summaries.at(-1)?.latestRtt).toBe(100);
    expect(cc.summaries.at(-1)?.ackDelay).toBe(3);
    // Largest (1) newly acknowledged, with 2 sent later: the sample is from packet 1.
    ack(loss, 130, [[0, 1]], 0);
    expect(loss.latestRtt).toBe(130);
    // Largest not newly acknowledged: no sample, even though packet 2 is new... it is the largest here.
    ack(loss, 150, [[2, 2]], 50);
    expect(loss.latestRtt).toBe(130);
    expect(cc.summaries.at(-1)?.ackDelay).toBe(10); // believed only up to max_ack_delay
    ack(loss, 170, [[0, 2]], 0);
    expect(cc.summaries.at(-1)).toBeDefined();
  });

  it(`declares a packet lost ${PACKET_THRESHOLD} below an acknowledged one, and the rest by time (§6.1)`, () => {
    const { loss, cc, rtt } = setup();
    send(loss, 0, 1);
    ack(loss, 100, [[0, 0]]); // srtt 100
    send(loss, 100, 4); // 1, 2, 3, 4
    expect(ack(loss, 200, [[4, 4]])).toBe(1);
    // 1 is 3 below 4: lost. 2 and 3 are not yet: they wait for the time threshold.
    expect(loss.lost).toEqual([1]);
    expect(loss.lostTags).toEqual([101]);
    expect(cc.congestion).toEqual([{ now: 200, sentAt: 100, persistent: false, lostBytes: D }]);
    const lossDelay = TIME_THRESHOLD * Math.max(100, rtt.srtt as number);
    expect(loss.deadline).toBe(100 + lossDelay);
    expect(loss.bytesInFlight).toBe(2 * D);
    // Nothing before the deadline; at it exactly (the sum loss_time, not now - loss_delay), both go.
    expect(loss.onTimeout(100 + lossDelay - 0.001)).toBe('none');
    expect(loss.onTimeout(100 + lossDelay)).toBe('lost');
    expect(loss.lost).toEqual([2, 3]);
    expect(loss.bytesInFlight).toBe(0);
    expect(cc.congestion).toHaveLength(2);
    expect(loss.deadline).toBeUndefined();
  });

  it('on a new path (RFC 9000 §9.4): the old packets leave the flight, stay held, and are settled with no congestion event', () => {
    const { loss, cc: old, rtt } = setup();
    send(loss, 0, 1);
    ack(loss, 20, [[0, 0]]);
    send(loss, 20, 6); // 1-6 in flight on the old path
    expect(loss.bytesInFlight).toBe(6 * D);
    const cc = new Recorder();
    rtt.reset();
    loss.newPath(cc);
    expect(loss.bytesInFlight).toBe(0);
    expect(rtt.srtt).toBeUndefined();
    expect(loss.minRtt).toBe(Number.POSITIVE_INFINITY);
    // Still held, and still ack-eliciting: the probe timer runs from their sending, PTO 1 s (no sample).
    expect(loss.deadline).toBe(20 + 1000);
    send(loss, 100, 3); // 7-9 on the new path
    expect(loss.bytesInFlight).toBe(3 * D);
    // An ACK of an old packet settles it but tells the new controller nothing of it.
    expect(ack(loss, 150, [[1, 1]])).toBe(1);
    expect(cc.acked).toEqual([]);
    expect(rtt.srtt).toBeUndefined(); // nor a round-trip sample (it crossed the old path)
    // New packets acknowledged past the old ones: those left are lost, with no congestion event.
    expect(ack(loss, 160, [[7, 9]])).toBe(3);
    expect(loss.lost).toEqual([2, 3, 4, 5, 6]);
    expect(cc.congestion).toEqual([]);
    expect(cc.acked.map((p) => p.sentAt)).toEqual([100, 100, 100]);
    expect(loss.bytesInFlight).toBe(0);
    expect(loss.latestRtt).toBe(60);
    expect(old.acked).toHaveLength(1); // the old controller heard nothing after the move
  });

  it('finds the packet lost when its timer fires, whatever the rounding of now - loss_delay', () => {
    // Times where (sent + delay) - delay < sent in floating point: judged by "sent <= now -
    // loss_delay", the timer at loss_time would find nothing lost and fire again at once, forever.
    const { loss } = setup();
    const rtt = 15 * 1.37 + 0.013;
    const sent = 3000 + 7 / 997;
    send(loss, 0, 1);
    ack(loss, rtt, [[0, 0]]);
    send(loss, sent, 4);
    ack(loss, sent + rtt, [[4, 4]]);
    const deadline = loss.deadline as number;
    expect(loss.onTimeout(deadline)).toBe('lost');
    expect(loss.lost).toEqual([2, 3]);
  });

  it('uses at least kGranularity as the loss delay', () => {
    const { loss } = setup();
    send(loss, 0, 1);
    ack(loss, 0.1, [[0, 0]]);
    send(loss, 1, 2);
    ack(loss, 1.1, [[2, 2]]);
    expect(loss.deadline).toBeCloseTo(1 + Math.max(GRANULARITY, TIME_THRESHOLD * 0.1), 9);
  });

  it('arms a probe timeout after the last ack-eliciting packet and doubles it each time (§6.2)', () => {
    const { loss, rtt, cc } = setup();
    send(loss, 0, 1);
    ack(loss, 100, [[0, 0]]);
    const pto = rtt.rto; // srtt + max(4 rttvar, 1) + max_ack_delay
    expect(pto).toBe(100 + 200 + 10);
    send(loss, 200, 2);
    expect(loss.deadline).toBe(200 + pto);
    expect(loss.onTimeout(200 + pto)).toBe('probe');
    expect(loss.ptoCount).toBe(1);
    expect(loss.probesDue).toBe(PROBES_PER_PTO);
    expect(loss.lost).toEqual([]); // a PTO declares nothing lost
    expect(cc.congestion).toEqual([]);
    // The probes go (whatever the window), and the next PTO is twice as long, from the last of them.
    send(loss, 520, 2);
    expect(loss.probesDue).toBe(0);
    expect(loss.deadline).toBe(520 + 2 * pto);
    expect(loss.onTimeout(520 + 2 * pto)).toBe('probe');
    send(loss, 1200, 1);
    expect(loss.deadline).toBe(1200 + 4 * pto);
    // An acknowledgement resets the backoff.
    ack(loss, 1300, [[5, 5]]);
    expect(loss.ptoCount).toBe(0);
  });

  it('has no timer with nothing ack-eliciting in flight', () => {
    const { loss } = setup();
    expect(loss.deadline).toBeUndefined();
    loss.onPacketSent(0, 50, 0, false, false); // an ACK-only packet: not in flight, no timer
    expect(loss.deadline).toBeUndefined();
    expect(loss.bytesInFlight).toBe(0);
    expect(loss.onTimeout(1e6)).toBe('none');
  });

  it('detects persistent congestion: lost ack-eliciting packets spanning 3 PTOs, none acknowledged between (§7.6)', () => {
    const { loss, rtt, cc } = setup();
    send(loss, 0, 1);
    ack(loss, 100, [[0, 0]]); // first RTT sample at 100
    const period = rtt.rto * PERSISTENT_CONGESTION_THRESHOLD; // 930
    send(loss, 200, 1); // 1
    send(loss, 600, 1); // 2
    send(loss, 200 + period + 1, 1); // 3: more than the period after 1
    send(loss, 1_200, 3); // 4, 5, 6
    expect(ack(loss, 1_300, [[6, 6]])).toBe(1);
    expect(loss.lost).toEqual([1, 2, 3]);
    expect(cc.congestion.at(-1)).toMatchObject({ persistent: true, lostBytes: 3 * D });
  });

  it('finds no persistent congestion when an acknowledged packet lies between the lost ones', () => {
    const { loss, rtt, cc } = setup();
    send(loss, 0, 1);
    ack(loss, 100, [[0, 0]]);
    const period = rtt.rto * PERSISTENT_CONGESTION_THRESHOLD;
    send(loss, 200, 1); // 1
    send(loss, 600, 1); // 2 (acknowledged below)
    send(loss, 200 + period + 1, 1); // 3
    send(loss, 1_200, 3);
    ack(loss, 1_300, [
      [6, 6],
      [2, 2],
    ]);
    expect(loss.lost).toEqual([1, 3]);
    expect(cc.congestion.at(-1)?.persistent).toBe(false);
  });

  it('finds no persistent congestion when the span is not longer than the period, or began before the first RTT sample', () => {
    const short = setup();
    send(short.loss, 0, 1);
    ack(short.loss, 100, [[0, 0]]);
    // The ACK that reveals the losses brings a second 100 ms sample first (rttvar 37.5): the
    // PTO is then 100 + 150 + 10 = 260, and the period 780.
    const period = 780;
    send(short.loss, 200, 1);
    send(short.loss, 200 + period, 1); // exactly the period apart: not more
    send(short.loss, 1_200, 3);
    ack(short.loss, 1_300, [[5, 5]]);
    expect(short.rtt.rto * PERSISTENT_CONGESTION_THRESHOLD).toBe(period);
    expect(short.loss.lost).toEqual([1, 2]);
    expect(short.cc.congestion.at(-1)?.persistent).toBe(false);

    const early = setup();
    send(early.loss, 0, 1); // 0: sent before any RTT sample
    send(early.loss, 5_000, 4); // 1-4
    ack(early.loss, 5_100, [[4, 4]]); // the first sample comes only now
    expect(early.loss.lost).toEqual([0, 1]);
    expect(early.cc.congestion.at(-1)?.persistent).toBe(false);
  });

  it('refuses an ACK for a packet never sent, or with ranges out of order, and changes nothing', () => {
    const { loss, cc } = setup();
    send(loss, 0, 3);
    expect(ack(loss, 10, [[0, 3]])).toBe(-1);
    expect(
      ack(loss, 10, [
        [0, 0],
        [2, 2],
      ]),
    ).toBe(-1); // lowest range first
    expect(
      ack(loss, 10, [
        [1, 2],
        [0, 1],
      ]),
    ).toBe(-1); // overlapping
    expect(ack(loss, 10, [[2, 1]])).toBe(-1);
    expect(ack(loss, 10, [[-1, 0]])).toBe(-1);
    expect(ack(loss, 10, [[0.5, 1]])).toBe(-1);
    expect(loss.onAckReceived(10, [0, 1], 0, 0)).toBe(-1);
    expect(loss.onAckReceived(10, [0], 1, 0)).toBe(-1);
    expect(loss.bytesInFlight).toBe(3 * D);
    expect(loss.largestAcked).toBe(-1);
    expect(cc.acked).toEqual([]);
  });

  it('keeps thousands of packets in flight, acknowledged in scattered ranges, each resolved exactly once', () => {
    const { loss } = setup();
    send(loss, 0, 5_000);
    // The 32 highest ranges of "every packet but the multiples of 7", highest first.
    const ranges: [number, number][] = [[4_984, 4_999]];
    for (let high = 4_982; ranges.length < 32; high -= 7) ranges.push([high - 5, high]);
    const acked = new Set<number>();
    const lost = new Set<number>();
    const note = () => {
      for (const [from, into] of [
        [loss.acked, acked],
        [loss.lost, lost],
      ] as const) {
        for (const pn of from) {
          expect(acked.has(pn) || lost.has(pn)).toBe(false);
          into.add(pn);
        }
      }
    };
    ack(loss, 50, ranges);
    expect(loss.acked).toEqual([...loss.acked].sort((a, b) => a - b));
    note();
    // Everything below the lowest range and every hole 3 or more below the largest is lost.
    expect(lost.has(0)).toBe(true);
    expect(lost.has(4_976)).toBe(true);
    expect(acked.size).toBe(16 + 31 * 6);
    // Then an ACK of everything: only what was still outstanding is new.
    ack(loss, 60, [[0, 4_999]]);
    note();
    expect(acked.size + lost.size).toBe(5_000);
    expect(loss.bytesInFlight).toBe(0);
    expect(loss.sent.base).toBe(5_000);
  });

  it('marks packets sent while application-limited, and the controller sees the mark', () => {
    const { loss, cc } = setup();
    send(loss, 0, 2);
    loss.onApplicationLimited();
    send(loss, 1, 1);
    ack(loss, 100, [[0, 2]]);
    expect(cc.acked.map((p) => p.appLimited)).toEqual([false, false, true]);
  });
});

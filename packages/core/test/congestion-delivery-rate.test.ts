/** Delivery-rate samples (draft-cheng-iccrg-delivery-rate-estimation) through loss detection. */
import { describe, expect, it } from 'vitest';
import type { AckSummary, CongestionController } from '../src/congestion/controller.js';
import { LossDetection } from '../src/congestion/loss-detection.js';
import { RttEstimator } from '../src/session/rtt-estimator.js';

const D = 1200;

function setup() {
  const summaries: AckSummary[] = [];
  const cc: CongestionController = {
    name: 'recorder',
    onPacketSent() {},
    onAck() {},
    onCongestionEvent() {},
    onAckEnd: (_now, s) => summaries.push({ ...s }),
    window: () => 1e9,
    pacingRate: () => undefined,
  };
  return { summaries, loss: new LossDetection(new RttEstimator(1, 60_000), cc) };
}

describe('DeliveryRate', () => {
  it('samples the bytes delivered over the longer of the send and ack intervals', () => {
    const { loss, summaries } = setup();
    // A paced flow: one packet every 1 ms (for 100 ms), each acknowledged 50 ms after it left.
    for (let t = 0; t < 150; t++) {
      if (t >= 50) loss.onAckReceived(t, [t - 50, t - 50], 1, 0);
      if (t < 100) loss.onPacketSent(t, D);
    }
    const last = summaries.at(-1) as AckSummary;
    expect(last.delivered).toBe(100 * D);
    // Packet 99 left when 50 were delivered (0-49, the last at 99): 50 delivered since, over 50 ms.
    expect(last.priorDelivered).toBe(50 * D);
    expect(last.deliveryRate).toBeCloseTo((50 * D * 1000) / 50, 6); // 1.2 MB/s
    expect(last.rateAppLimited).toBe(false);
  });

  it('does not let a compressed burst of acks report more than the send rate', () => {
    const { loss, summaries } = setup();
    for (let i = 0; i < 20; i++) loss.onPacketSent(i * 10, D); // 120 KB/s
    loss.onAckReceived(300, [0, 9], 1, 0);
    loss.onAckReceived(300.5, [0, 19], 1, 0); // ten acknowledged in 0.5 ms
    const last = summaries.at(-1) as AckSummary;
    expect(last.deliveryRate).toBeLessThanOrEqual(120_000 + 1e-6);
  });

  it('marks samples application-limited until what was in flight at the bubble is delivered', () => {
    const { loss, summaries } = setup();
    for (let i = 0; i < 4; i++) loss.onPacketSent(i, D);
    loss.onApplicationLimited();
    loss.onPacketSent(10, D); // 4: sent while application-limited
    loss.onAckReceived(60, [0, 3], 1, 0);
    expect(summaries.at(-1)?.rateAppLimited).toBe(false);
    loss.onAckReceived(70, [0, 4], 1, 0);
    expect(summaries.at(-1)?.rateAppLimited).toBe(true);
    loss.onPacketSent(71, D); // the bubble is delivered: no longer limited
    loss.onAckReceived(130, [5, 5], 1, 0);
    expect(summaries.at(-1)?.rateAppLimited).toBe(false);
  });
});

/**
 * When a path's receiver acknowledges (PROTOCOL.md, Streams, Packets and acknowledgements): at
 * once after ACK_EVERY (16) packets in order or on a gap, else within the ack delay.
 */
import { describe, expect, it } from 'vitest';
import { ACK_EVERY, AckTracker } from '../src/path/ack-tracker.js';

describe('AckTracker', () => {
  it('holds in-order packets back until the 16th, then asks for the acknowledgement at once', () => {
    expect(ACK_EVERY).toBe(16);
    const acks = new AckTracker(5);
    for (let pn = 0; pn < ACK_EVERY - 1; pn++) expect(acks.onReceived(pn, 1, 100 + pn)).toBe(false);
    // The held-back acknowledgement is due within the ack delay of the first packet held.
    expect(acks.deadline).toBe(105);
    expect(acks.onReceived(ACK_EVERY - 1, 1, 200)).toBe(true);
    acks.sent();
    expect(acks.deadline).toBe(Number.POSITIVE_INFINITY);
    // The count starts again after an acknowledgement went.
    for (let pn = ACK_EVERY; pn < 2 * ACK_EVERY - 1; pn++) expect(acks.onReceived(pn, 1, 300)).toBe(false);
    expect(acks.onReceived(2 * ACK_EVERY - 1, 1, 300)).toBe(true);
  });

  it('asks at once for a gap and for the packet that fills it; a duplicate asks nothing', () => {
    const acks = new AckTracker(5);
    expect(acks.onReceived(0, 1, 0)).toBe(false);
    expect(acks.onReceived(2, 1, 0)).toBe(true);
    expect(acks.onReceived(1, 1, 0)).toBe(true);
    expect(acks.onReceived(1, 1, 0)).toBeUndefined();
    expect(Array.from(acks.ranges.subarray(0, 2 * acks.count))).toEqual([0, 2]);
  });
});

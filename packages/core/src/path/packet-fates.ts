/**
 * What becomes of the packets loss detection just resolved (an acknowledgement or a loss
 * timeout): each owner hears of its packets (SentFrames), and the size search (pmtu.ts) of its
 * probes and of the large packets.
 */
import type { LossDetection } from '../congestion/loss-detection.js';
import { MAX_STREAM_PAYLOAD_BYTES } from '../wire/stream-messages.js';
import type { PmtuSearch } from './pmtu.js';
import { DATA, PROBE, type SentFrames } from './sent-frames.js';

/** Tells the owners and the size search what `loss.lost` and `loss.acked` name; returns how many were lost. */
export function settleResolved(
  loss: LossDetection,
  frames: SentFrames,
  pmtu: PmtuSearch,
  now: number,
): number {
  const lost = loss.lost;
  for (let i = 0; i < lost.length; i++) {
    const pn = lost[i] as number;
    const kind = frames.kind(pn);
    if (kind === PROBE) {
      pmtu.onProbeLost(frames.length(pn), now);
      frames.forget(pn);
      continue;
    }
    if (kind === DATA && frames.length(pn) > MAX_STREAM_PAYLOAD_BYTES) pmtu.onLargeLost(pn);
    frames.settle(pn, false, now);
  }
  const acked = loss.acked;
  for (let i = 0; i < acked.length; i++) {
    const pn = acked[i] as number;
    const kind = frames.kind(pn);
    if (kind === PROBE) {
      pmtu.onProbeAcked(frames.length(pn), now);
      frames.forget(pn);
      continue;
    }
    if (kind === DATA && frames.length(pn) > MAX_STREAM_PAYLOAD_BYTES) pmtu.onLargeAcked();
    else pmtu.onSmallAcked(pn);
    frames.settle(pn, true, now);
  }
  pmtu.checkBlackHole();
  return lost.length;
}

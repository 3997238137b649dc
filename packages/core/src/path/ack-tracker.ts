/**
 * The receiving side of a path's stream packet space: which packet numbers arrived, as ranges
 * (highest first, as `stream_ack` names them), and when to acknowledge them (PROTOCOL.md,
 * Streams, Acknowledgements): at once when a packet arrives out of order (a gap, or one that
 * fills one), after ACK_EVERY packets in order, and otherwise within the ack delay, as QUIC
 * receivers do (RFC 9000 §13.2). It keeps at most MAX_RANGES ranges; older ones fall off (they
 * were acknowledged long ago, and an acknowledgement may always say less than it could).
 */
import { ackDelayToWire, type StreamAck } from '../wire/messages.js';
import { encodeAckRanges, MAX_ACK_EXTRA_RANGES } from '../wire/stream-messages.js';

/**
 * In-order ack-eliciting packets acknowledged together. QUIC's default is 2; every acknowledgement
 * costs both sides a datagram (a system call each on loopback, the dearest part of a datagram
 * there), and BBR counts acknowledgements that come in bursts (its ack aggregation), so 16 (as
 * text's ackEvery): within 1 % of the goodput of 2 on every simulated path. A slow stream is
 * acknowledged within the ack delay anyway, and a gap at once. 32 kept every simulated goal and
 * halved the acknowledgements, but on loopback (both processes CPU-bound, the sender stopped by
 * its window at every acknowledgement) it lost rate: 36-81 MB/s against 62-114 for 16 in five
 * back-to-back pairs (2026-12-06), with no CPU a datagram saved that the load let show.
 */
export const ACK_EVERY = 16;
export const MAX_RANGES = 1 + MAX_ACK_EXTRA_RANGES;

export class AckTracker {
  /** (smallest, largest) pairs, highest first. */
  readonly ranges = new Float64Array(2 * MAX_RANGES);
  count = 0;
  /** When the largest packet arrived (its acknowledgement's delay counts from then). */
  largestAt = 0;
  /** When the held-back acknowledgement must go, or Infinity. */
  deadline = Number.POSITIVE_INFINITY;
  /** The session of the latest packet: the acknowledgement goes as a message of it. */
  session = 0;
  private unacknowledged = 0;

  constructor(private readonly ackDelay: number) {}

  /**
   * Packet `pn` arrived (`session`: the wire id it came with). Returns true if the
   * acknowledgement should go at once, false if it may wait for `deadline`; undefined for a
   * packet already recorded (nothing to do).
   */
  onReceived(pn: number, session: number, now: number): boolean | undefined {
    const outOfOrder = this.record(pn);
    if (outOfOrder === undefined) return undefined;
    this.session = session;
    if (pn === this.ranges[1]) this.largestAt = now;
    this.unacknowledged++;
    if (outOfOrder || this.unacknowledged >= ACK_EVERY) return true;
    if (this.deadline === Number.POSITIVE_INFINITY) this.deadline = now + this.ackDelay;
    return false;
  }

  /** The `stream_ack` of what arrived, to go now (the delay counts from the largest's arrival); taken, nothing is held back. */
  take(now: number): StreamAck {
    const { largest, firstRange, ranges } = encodeAckRanges(this.ranges, this.count);
    this.sent();
    return {
      type: 'stream_ack',
      session: this.session,
      largest,
      ackDelay: ackDelayToWire(now - this.largestAt),
      firstRange,
      ranges,
    };
  }

  /** The acknowledgement went (its fields are `ranges`, `count`): nothing is held back now. */
  sent(): void {
    this.unacknowledged = 0;
    this.deadline = Number.POSITIVE_INFINITY;
  }

  /** Adds `pn`; whether it came out of order, undefined if already recorded (or older than every range kept). */
  private record(pn: number): boolean | undefined {
    const r = this.ranges;
    if (this.count === 0) {
      r[0] = r[1] = pn;
      this.count = 1;
      return pn !== 0;
    }
    const largest = r[1] as number;
    if (pn === largest + 1) {
      r[1] = pn;
      return false;
    }
    if (pn > largest + 1) {
      const keep = Math.min(this.count, MAX_RANGES - 1);
      r.copyWithin(2, 0, 2 * keep);
      r[0] = r[1] = pn;
      this.count = keep + 1;
      return true;
    }
    for (let i = 0; i < this.count; i++) {
      const smallest = r[2 * i] as number;
      const high = r[2 * i + 1] as number;
      if (pn >= smallest && pn <= high) return undefined;
      if (pn > high) {
        this.insertBelow(i, pn);
        return true;
      }
    }
    return undefined;
  }

  /** Puts `pn` into the hole just above range `i` (which is below it; i ≥ 1), merging neighbours. */
  private insertBelow(i: number, pn: number): void {
    const r = this.ranges;
    const above = i - 1;
    const joinsAbove = (r[2 * above] as number) === pn + 1;
    const joinsBelow = (r[2 * i + 1] as number) === pn - 1;
    if (joinsAbove && joinsBelow) {
      r[2 * above] = r[2 * i] as number;
      r.copyWithin(2 * i, 2 * i + 2, 2 * this.count);
      this.count--;
    } else if (joinsAbove) r[2 * above] = pn;
    else if (joinsBelow) r[2 * i + 1] = pn;
    else {
      const keep = Math.min(this.count, MAX_RANGES - 1);
      r.copyWithin(2 * i + 2, 2 * i, 2 * keep);
      r[2 * i] = r[2 * i + 1] = pn;
      this.count = keep + 1;
    }
  }
}

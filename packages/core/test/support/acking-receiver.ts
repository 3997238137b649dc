/**
 * The receiving end of a simulated bulk flow, acknowledging as QUIC does (RFC 9000 §13.2): an
 * ACK with ranges after every second packet (`ackEvery`), or `maxAckDelay` after the first unacknowledged
 * one, and at once when a packet arrives out of order. It counts the payload it got once (a
 * chunk retransmitted after a spurious loss counts once), in 100 ms buckets, so a benchmark can
 * take the goodput of any interval.
 */
import type { Link } from './link.js';

/** A simulated data datagram: its flow, packet number and the chunk of the stream it carries. */
export interface DataDatagram {
  flow: number;
  pn: number;
  chunk: number;
  bytes: number;
}

/** A simulated ACK: ranges as loss detection takes them (smallest, largest pairs, highest first). */
export interface AckDatagram {
  flow: number;
  ranges: Float64Array;
  count: number;
  ackDelay: number;
}

/** Ranges kept and sent (QUIC receivers bound them too; older holes are long resolved). */
export const MAX_ACK_RANGES = 32;
/** The ACK's size on the wire: a small header and 8 bytes a range (about what stream_ack takes). */
const ackBytes = (ranges: number) => 48 + 8 * ranges;
export const BUCKET_MS = 100;

export class AckingReceiver {
  /** Received packet numbers as (smallest, largest) pairs, highest first. */
  private readonly ranges = new Float64Array(2 * MAX_ACK_RANGES);
  private rangeCount = 0;
  private largestAt = 0;
  private unacknowledged = 0;
  /** When the delayed ACK goes, Infinity if none is due. */
  ackDeadline = Number.POSITIVE_INFINITY;
  /** Chunks below this all arrived; `early` holds the ones above it that did. */
  private contiguous = 0;
  private readonly early = new Set<number>();
  /** Goodput: unique payload bytes per 100 ms bucket. */
  readonly goodput: number[] = [];
  duplicates = 0;
  acksSent = 0;
  /** ACKs the sender is done with, for reuse (a simulation sends hundreds of thousands). */
  private readonly spare: AckDatagram[] = [];

  constructor(
    private readonly flow: number,
    private readonly reverse: Link<AckDatagram | DataDatagram>,
    private readonly maxAckDelay = 10,
    private readonly ackEvery = 2,
  ) {}

  onData(now: number, datagram: DataDatagram): void {
    const priorLargest = this.rangeCount === 0 ? -1 : (this.ranges[1] as number);
    const outOfOrder = this.record(datagram.pn);
    if (outOfOrder === undefined) {
      this.duplicates++;
      return;
    }
    if (datagram.pn > priorLargest) this.largestAt = now;
    this.count(now, datagram.chunk, datagram.bytes);
    this.unacknowledged++;
    if (outOfOrder || this.unacknowledged >= this.ackEvery) this.sendAck(now);
    else if (this.ackDeadline === Number.POSITIVE_INFINITY) this.ackDeadline = now + this.maxAckDelay;
  }

  onTimer(now: number): void {
    if (now >= this.ackDeadline) this.sendAck(now);
  }

  /** Unique bytes that arrived in [from, to) ms (whole buckets). */
  bytesBetween(from: number, to: number): number {
    let sum = 0;
    for (let b = Math.floor(from / BUCKET_MS); b < Math.floor(to / BUCKET_MS); b++)
      sum += this.goodput[b] ?? 0;
    return sum;
  }

  /** Takes back an ACK the sender has read. */
  recycle(ack: AckDatagram): void {
    this.spare.push(ack);
  }

  private sendAck(now: number): void {
    const ack = this.spare.pop() ?? {
      flow: this.flow,
      ranges: new Float64Array(2 * MAX_ACK_RANGES),
      count: 0,
      ackDelay: 0,
    };
    ack.ranges.set(this.ranges.subarray(0, 2 * this.rangeCount));
    ack.count = this.rangeCount;
    ack.ackDelay = now - this.largestAt;
    this.reverse.send(now, ackBytes(this.rangeCount), ack);
    this.acksSent++;
    this.unacknowledged = 0;
    this.ackDeadline = Number.POSITIVE_INFINITY;
  }

  /** Adds `pn` to the ranges; whether it came out of order, undefined for a duplicate. */
  private record(pn: number): boolean | undefined {
    const r = this.ranges;
    if (this.rangeCount === 0) {
      r[0] = r[1] = pn;
      this.rangeCount = 1;
      return pn !== 0;
    }
    const largest = r[1] as number;
    if (pn === largest + 1) {
      r[1] = pn;
      return false;
    }
    if (pn > largest + 1) {
      // A gap: a new highest range; the oldest falls off when there are too many.
      const keep = Math.min(this.rangeCount, MAX_ACK_RANGES - 1);
      r.copyWithin(2, 0, 2 * keep);
      r[0] = r[1] = pn;
      this.rangeCount = keep + 1;
      return true;
    }
    // Below the largest: fills (part of) a hole, or is a duplicate.
    for (let i = 0; i < this.rangeCount; i++) {
      const smallest = r[2 * i] as number;
      const high = r[2 * i + 1] as number;
      if (pn >= smallest && pn <= high) return undefined;
      if (pn > high) {
        // Range i is the first below pn: pn sits in the hole above it.
        this.insertBelow(i, pn);
        return true;
      }
    }
    // Below every range kept: older than anything remembered; take it as a duplicate.
    return undefined;
  }

  /** Puts `pn` into the hole just above range `i` (which is below it), merging neighbours. */
  private insertBelow(i: number, pn: number): void {
    const r = this.ranges;
    const above = i - 1; // range i - 1 is above pn (i ≥ 1 here, since pn < largest)
    const joinsAbove = (r[2 * above] as number) === pn + 1;
    const joinsBelow = (r[2 * i + 1] as number) === pn - 1;
    if (joinsAbove && joinsBelow) {
      r[2 * above] = r[2 * i] as number;
      r.copyWithin(2 * i, 2 * i + 2, 2 * this.rangeCount);
      this.rangeCount--;
    } else if (joinsAbove) r[2 * above] = pn;
    else if (joinsBelow) r[2 * i + 1] = pn;
    else {
      const keep = Math.min(this.rangeCount, MAX_ACK_RANGES - 1);
      r.copyWithin(2 * i + 2, 2 * i, 2 * keep);
      r[2 * i] = r[2 * i + 1] = pn;
      this.rangeCount = keep + 1;
    }
  }

  private count(now: number, chunk: number, bytes: number): void {
    if (chunk < this.contiguous || this.early.has(chunk)) return;
    if (chunk === this.contiguous) {
      this.contiguous++;
      while (this.early.delete(this.contiguous)) this.contiguous++;
    } else this.early.add(chunk);
    const bucket = Math.floor(now / BUCKET_MS);
    while (this.goodput.length <= bucket) this.goodput.push(0);
    this.goodput[bucket] = (this.goodput[bucket] as number) + bytes;
  }
}

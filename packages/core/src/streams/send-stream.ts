/**
 * The sending half of one stream (PROTOCOL.md, Streams): what the application wrote and the peer
 * has not acknowledged yet, what is lost and must go again, and the peer's credit.
 *
 * Offsets: [0, acked) acknowledged; `sent` is the first byte never sent (new bytes go in order);
 * `written` is the first byte the application has not written; the peer's credit `maxOffset`
 * bounds what may be sent. Acknowledgements beyond `acked` wait in a range set; lost ranges wait
 * in a queue and go again before new bytes (each in a new packet, QUIC style), skipping what was
 * acknowledged meanwhile. The `fin` travels with the stream's last byte (or alone), and is
 * acknowledged, lost and sent again like a byte.
 *
 * Room for the application is bounded twice: by the peer's credit (a slow reader stops the
 * writer) and by `bufferLimit` (what we hold for one stream).
 */
import { ByteRing } from './byte-ring.js';
import { RangeSet } from './range-set.js';

export type SendState =
  /** The application may write. */
  | 'open'
  /** The application finished: the rest goes, then the fin. */
  | 'finishing'
  /** Every byte and the fin were acknowledged. */
  | 'done'
  /** Cancelled (by us, or the peer asked us to stop): a stream_reset goes until acknowledged. */
  | 'reset';

/** What the next packet of this stream carries (reused: read it before asking again). */
export interface Chunk {
  offset: number;
  length: number;
  fin: boolean;
}

/** At least this much room before the application is told it may write again (or all was acknowledged). */
export const WRITABLE_THRESHOLD = 32 * 1024;

export class SendStream {
  readonly kind = 'send';
  state: SendState = 'open';
  readonly buffer = new ByteRing();
  /** The first byte not yet acknowledged (all below it were). */
  acked = 0;
  sent = 0;
  written = 0;
  /** The peer's credit: bytes stay below it. */
  maxOffset: number;
  /** The application was given less room than it wanted: tell it when there is room (stream_writable). */
  wantsWritable = false;
  /** The reason code of a reset, once cancelled. */
  resetCode = 0;
  /** Who cancelled, once cancelled. */
  cancelledBy: 'local' | 'peer' | undefined;
  /** The stream_reset was acknowledged: nothing more to send. */
  resetAcked = false;
  /** What was written on it goes before a close (OpenStreamOptions.lingers): a close lingers for it. */
  lingers = false;
  private readonly ackedAbove = new RangeSet();
  /**
   * Lost ranges, merged, sent again lowest offset first (as TCP retransmits from the left edge):
   * the receiver's in-order front waits for the lowest. In the order they were lost, the bytes a
   * probe timeout sent again (the oldest, in the newest packets) would go last.
   */
  private readonly lost = new RangeSet();
  private finSent = false;
  private finLost = false;
  private finAcked = false;

  constructor(
    readonly id: number,
    initialCredit: number,
  ) {
    this.maxOffset = initialCredit;
  }

  /** Bytes the application may write now, under the credit and `bufferLimit`. */
  room(bufferLimit: number): number {
    if (this.state !== 'open') return 0;
    return Math.max(0, Math.floor(Math.min(this.maxOffset, this.acked + bufferLimit) - this.written));
  }

  /** Takes up to `room` bytes of `data`; returns how many. */
  write(data: Uint8Array, room: number): number {
    const accepted = Math.min(room, data.length);
    if (accepted > 0) {
      this.buffer.write(this.written, data, 0, accepted);
      this.written += accepted;
    }
    if (accepted < data.length) this.wantsWritable = true;
    return accepted;
  }

  finish(): void {
    if (this.state === 'open') this.state = 'finishing';
  }

  /** A new credit from the peer; a lower one is ignored (credits only grow). Returns whether it grew. */
  credit(maxOffset: number): boolean {
    if (maxOffset <= this.maxOffset) return false;
    this.maxOffset = maxOffset;
    return true;
  }

  /** Every byte written, and the fin once finished, was acknowledged. */
  get delivered(): boolean {
    return this.acked >= this.written && (this.state === 'open' || this.finAcked);
  }

  /** A close waits for this stream (StreamSet.linger): opened with `lingers`, live, not all delivered. */
  get holdsClose(): boolean {
    return this.lingers && (this.state === 'open' || this.state === 'finishing') && !this.delivered;
  }

  /** Whether a packet of this stream could go now. */
  get sendable(): boolean {
    if (this.state === 'reset' || this.state === 'done') return false;
    if (this.lost.count > 0 || this.finLost) return true;
    if (this.sent < Math.min(this.written, this.maxOffset)) return true;
    return this.state === 'finishing' && !this.finSent && this.sent === this.written;
  }

  /**
   * Fills `chunk` with the next packet's bytes (at most `max`): lost bytes first, then new ones.
   * False if there is nothing (call only when `sendable`).
   */
  next(max: number, chunk: Chunk): boolean {
    const lost = this.lost;
    while (lost.count > 0) {
      const start = lost.first;
      const end = lost.firstEnd;
      // Skip what was acknowledged since it was lost (it went again in a packet that arrived).
      const from = Math.max(start, this.acked, this.ackedAbove.contiguousEnd(start));
      if (from >= end) {
        lost.removeBelow(end);
        continue;
      }
      const next = Math.min(end, from + max, this.ackedAbove.nextPresent(from));
      lost.removeBelow(next);
      chunk.offset = from;
      chunk.length = next - from;
      chunk.fin = this.finLost && next === this.written && this.state === 'finishing';
      if (chunk.fin) this.finLost = false;
      return true;
    }
    if (this.finLost) {
      this.finLost = false;
      chunk.offset = this.written;
      chunk.length = 0;
      chunk.fin = true;
      return true;
    }
    const end = Math.min(this.written, this.maxOffset, this.sent + max);
    const fin = this.state === 'finishing' && end === this.written;
    if (end <= this.sent && !(fin && !this.finSent)) return false;
    chunk.offset = this.sent;
    chunk.length = end - this.sent;
    chunk.fin = fin;
    this.sent = end;
    if (fin) this.finSent = true;
    return true;
  }

  /** A packet with these bytes was acknowledged; true when the whole stream now is (state done). */
  onAcked(offset: number, length: number, fin: boolean): boolean {
    if (this.state === 'reset') return false;
    if (fin) this.finAcked = true;
    if (length > 0 && offset + length > this.acked && offset <= this.acked && this.ackedAbove.count === 0) {
      // In order (the common case): the bytes join the acknowledged front, nothing waits above it.
      this.acked = offset + length;
      this.buffer.release(this.acked);
    } else if (length > 0 && offset + length > this.acked) {
      this.ackedAbove.add(Math.max(offset, this.acked), offset + length);
      const through = this.ackedAbove.contiguousEnd(this.acked);
      if (through > this.acked) {
        this.acked = through;
        this.ackedAbove.removeBelow(through);
        this.buffer.release(through);
      }
    }
    if (this.finAcked && this.state === 'finishing' && this.acked === this.written) {
      this.state = 'done';
      return true;
    }
    return false;
  }

  /** A packet with these bytes was lost: they go again (unless acknowledged by then). */
  onLost(offset: number, length: number, fin: boolean): void {
    if (this.state === 'reset' || this.state === 'done') return;
    if (fin && !this.finAcked) this.finLost = true;
    if (length === 0 || offset + length <= this.acked) return;
    this.lost.add(offset, offset + length);
  }

  /** Cancels: nothing more of it goes but the reset; returns the final size (bytes ever sent). */
  reset(code: number, by: 'local' | 'peer'): number {
    this.state = 'reset';
    this.resetCode = code;
    this.cancelledBy = by;
    this.wantsWritable = false;
    this.lost.clear();
    this.buffer.dispose();
    return this.sent;
  }

  /** Everything written was acknowledged (so room is as large as it gets). */
  get drained(): boolean {
    return this.acked === this.written;
  }
}

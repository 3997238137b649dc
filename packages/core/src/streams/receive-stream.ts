/**
 * The receiving half of one stream (PROTOCOL.md, Streams, Flow control): bytes that arrived (in
 * any order) wait at their offsets until the application reads them in order; the credit the
 * peer has (`maxOffset`) grows only as the application reads, so a slow reader holds at most one
 * window of the stream in memory.
 *
 * Auto-tuning (as quinn and Chromium's QUIC do): when the application has read half the window
 * since the last credit, a new credit of `read + window` goes; if the window was read within
 * two round trips of the previous credit, the reader keeps up with a path the window limits, so
 * the window doubles first (up to its maximum and what the session may still grant).
 */
import { ByteRing } from './byte-ring.js';
import { RangeSet } from './range-set.js';

/** Out-of-order pieces one stream holds; a packet that would make more is dropped unacknowledged. */
export const MAX_RECEIVE_RANGES = 256;
/** The window doubles when the reader read it within this many round trips. */
export const AUTOTUNE_ROUND_TRIPS = 2;

export type ReceiveState =
  /** Bytes arrive and are read. */
  | 'open'
  /** Every byte was read, through the fin. */
  | 'done'
  /** Cancelled: the peer reset it, or we asked it to stop. */
  | 'reset';

/** What a stream_data did: taken, beyond what we allow (a protocol error), or not taken for now. */
export type DataOutcome = 'taken' | 'violation' | 'refused';

export class ReceiveStream {
  readonly kind = 'receive';
  state: ReceiveState = 'open';
  readonly buffer: ByteRing;
  /** The first byte the application has not read. */
  read = 0;
  /** The credit we granted: the peer's bytes stay below it. */
  maxOffset: number;
  /** The credit the peer was last sent (a credit message carries the latest when it goes). */
  window: number;
  /** The stream's size, once the fin (or a reset) said it. */
  finalSize: number | undefined;
  /** Told the application there is something to read, and it has not read it all since. */
  readableSignalled = false;
  /** We asked the peer to stop (stream_stop); its bytes are dropped from then on. */
  stopSent = false;
  cancelledBy: 'local' | 'peer' | undefined;
  resetCode = 0;
  private readonly received = new RangeSet();
  /** The end of the highest bytes received (a fin or a reset may not say the stream is shorter). */
  private highest = 0;
  /** When the current credit was granted (ms). */
  private creditAt: number;

  constructor(
    readonly id: number,
    window: number,
    now: number,
  ) {
    this.window = window;
    this.maxOffset = window;
    this.creditAt = now;
    this.buffer = new ByteRing(Math.min(window, 16 * 1024));
  }

  /** Bytes the application can read now. */
  get readable(): number {
    // Stopped by us: the buffer was given back, so nothing held before the stop may be read.
    if (this.cancelledBy === 'local') return 0;
    return this.received.contiguousEnd(this.read) - this.read;
  }

  /** Every byte was received and the application read them all but the fin is still to be seen. */
  get atEnd(): boolean {
    return this.finalSize !== undefined && this.read === this.finalSize;
  }

  /** Memory held for this stream (bytes). */
  get heldBytes(): number {
    return this.buffer.capacity;
  }

  onData(offset: number, payload: Uint8Array, fin: boolean): DataOutcome {
    const end = offset + payload.length;
    if (end > this.maxOffset) return 'violation';
    if (this.finalSize !== undefined && (end > this.finalSize || (fin && end !== this.finalSize)))
      return 'violation';
    // A fin below bytes already received contradicts them.
    if (fin && end < this.highest) return 'violation';
    if (fin) this.finalSize = end;
    if (end > this.highest) this.highest = end;
    if (this.state !== 'open' || end <= this.read) return 'taken';
    const start = Math.max(offset, this.read);
    if (this.received.count >= MAX_RECEIVE_RANGES && this.received.wouldAddRange(start, end))
      return 'refused';
    this.buffer.write(start, payload, start - offset, end - start);
    this.received.add(start, end);
    return 'taken';
  }

  /** Copies up to `max` readable bytes out (a new array; empty if none). */
  take(max: number): Uint8Array {
    const out = new Uint8Array(Math.min(max, this.readable));
    this.takeInto(out, 0, out.length);
    return out;
  }

  /** Copies up to `max` readable bytes into `into` at `at` (no allocation); returns how many. */
  takeInto(into: Uint8Array, at: number, max: number): number {
    const length = Math.min(max, this.readable);
    if (length <= 0) return 0;
    this.buffer.copy(this.read, length, into, at);
    this.read += length;
    this.buffer.release(this.read);
    this.received.removeBelow(this.read);
    return length;
  }

  /**
   * After a read: a new credit to send (`maxOffset` moved), or undefined. `rtt` is the path's
   * round trip (ms), `grant(extra)` how much more window the session allows (returns what it gives).
   */
  creditAfterRead(
    now: number,
    rtt: number | undefined,
    maxWindow: number,
    grant: (extra: number) => number,
  ): number | undefined {
    if (this.state !== 'open' || this.finalSize !== undefined) return undefined;
    if (this.maxOffset - this.read > this.window / 2) return undefined;
    if (rtt !== undefined && now - this.creditAt < AUTOTUNE_ROUND_TRIPS * rtt && this.window < maxWindow)
      this.window += grant(Math.min(this.window, maxWindow - this.window));
    this.creditAt = now;
    this.maxOffset = this.read + this.window;
    return this.maxOffset;
  }

  /** The peer reset the stream: returns false if its final size contradicts what we saw. */
  onReset(finalSize: number, code: number): boolean {
    if (finalSize > this.maxOffset || finalSize < this.highest) return false;
    if (this.finalSize !== undefined && finalSize !== this.finalSize) return false;
    this.finalSize = finalSize;
    if (this.state === 'open') {
      this.state = 'reset';
      this.cancelledBy = 'peer';
      this.resetCode = code;
    }
    return true;
  }

  /** We stop reading: everything held is dropped, and later bytes are not kept. */
  stop(code: number): void {
    this.state = 'reset';
    this.cancelledBy = 'local';
    this.resetCode = code;
    this.stopSent = true;
    this.buffer.dispose();
  }
}

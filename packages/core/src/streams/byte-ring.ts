/**
 * The bytes of one stream direction held in memory, addressed by stream offset: a circular
 * buffer over `[base, base + capacity)` that doubles when an offset beyond it must be written,
 * and releases its front as the bytes there are done with (acknowledged by the peer, or read by
 * the application). A send stream copies what the application writes into it once, and each
 * datagram copies its payload out of it; a receive stream copies each payload in at its offset
 * (out of order too) and the application's reads copy out. No allocation per datagram; the
 * capacity is bounded by the caller (flow control), never by the peer.
 */

const INITIAL_CAPACITY = 16 * 1024;

export class ByteRing {
  private bytes: Uint8Array;
  /** The lowest offset held; everything below it was released. */
  private low = 0;

  constructor(initialCapacity = INITIAL_CAPACITY) {
    this.bytes = new Uint8Array(initialCapacity);
  }

  get base(): number {
    return this.low;
  }

  /** Bytes of memory it holds (for the tests that bound memory). */
  get capacity(): number {
    return this.bytes.length;
  }

  /** Writes `data` at stream offset `offset` (≥ base), growing to hold it. */
  write(offset: number, data: Uint8Array, from = 0, length = data.length - from): void {
    if (offset < this.low) {
      // The front was released already: only the part at or beyond it is kept.
      const skip = this.low - offset;
      if (skip >= length) return;
      from += skip;
      length -= skip;
      offset = this.low;
    }
    this.reserve(offset + length);
    const capacity = this.bytes.length;
    const start = offset % capacity;
    const first = Math.min(length, capacity - start);
    // The whole of `data` in one piece (a datagram's payload, in order): no view of it needed.
    if (first === length && from === 0 && length === data.length) this.bytes.set(data, start);
    else this.bytes.set(data.subarray(from, from + first), start);
    if (first < length) this.bytes.set(data.subarray(from + first, from + length), 0);
  }

  /** Copies `length` bytes from stream offset `offset` (held) into `into` at `at`. */
  copy(offset: number, length: number, into: Uint8Array, at: number): void {
    const capacity = this.bytes.length;
    const start = offset % capacity;
    const first = Math.min(length, capacity - start);
    into.set(this.bytes.subarray(start, start + first), at);
    if (first < length) into.set(this.bytes.subarray(0, length - first), at + first);
  }

  /** Gives the memory back (the stream is cancelled): nothing is held from here on. */
  dispose(): void {
    this.low = Number.MAX_SAFE_INTEGER;
    this.bytes = new Uint8Array(1);
  }

  /** Forgets everything below `offset`. */
  release(offset: number): void {
    if (offset > this.low) this.low = offset;
  }

  /** Grows (doubling) until `[base, end)` fits, keeping every held byte at its offset. */
  private reserve(end: number): void {
    let capacity = this.bytes.length;
    if (end - this.low <= capacity) return;
    while (end - this.low > capacity) capacity *= 2;
    const grown = new Uint8Array(capacity);
    // Held offsets: [low, low + old capacity); each moves to offset % new capacity.
    const old = this.bytes;
    const oldCapacity = old.length;
    for (let done = 0; done < oldCapacity; ) {
      const offset = this.low + done;
      const from = offset % oldCapacity;
      const to = offset % capacity;
      const run = Math.min(oldCapacity - from, capacity - to, oldCapacity - done);
      grown.set(old.subarray(from, from + run), to);
      done += run;
    }
    this.bytes = grown;
  }
}

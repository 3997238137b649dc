/**
 * Which packet counters have been seen, as RFC 6479 does it: a ring of 32-bit blocks sliding
 * with the highest counter. Counters older than the window, or seen before, are replays. Check
 * before decrypting (cheap); mark only after the packet authenticated, so forgeries move nothing.
 */
const BLOCK_BITS = 32;
const BLOCKS = 65; // one more than the window needs, so the block being filled never evicts it
/** Counters this far behind the highest are still accepted once. */
export const REPLAY_WINDOW = (BLOCKS - 1) * BLOCK_BITS; // 2048

export class ReplayWindow {
  private highest = -1;
  /**
   * The blocks, as 32-bit integers. A plain array, not a Uint32Array: 65 × 4 bytes is past the
   * 64 bytes V8 keeps a typed array's contents on its heap for, so every channel would take a
   * buffer from the C allocator, which keeps the pages after a churn of many channels.
   */
  private readonly bitmap: number[] = new Array<number>(BLOCKS).fill(0);

  /** False if `counter` was seen already or is too old to tell. */
  mayAccept(counter: number): boolean {
    if (counter > this.highest) return true;
    if (this.highest - counter >= REPLAY_WINDOW) return false;
    const block = Math.floor(counter / BLOCK_BITS) % BLOCKS;
    return ((this.bitmap[block] as number) & (1 << (counter % BLOCK_BITS))) === 0;
  }

  /** Records an authenticated `counter` (which mayAccept allowed). */
  mark(counter: number): void {
    if (counter > this.highest) {
      const from = Math.floor(this.highest / BLOCK_BITS) + 1;
      const to = Math.floor(counter / BLOCK_BITS);
      for (let i = from; i <= to && i - from < BLOCKS; i++) this.bitmap[i % BLOCKS] = 0;
      this.highest = counter;
    }
    const block = Math.floor(counter / BLOCK_BITS) % BLOCKS;
    this.bitmap[block] = (this.bitmap[block] as number) | (1 << (counter % BLOCK_BITS));
  }
}

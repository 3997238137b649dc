/**
 * Short-lived byte arrays (encoded messages, sealed packets, opened plaintexts) are carved out of
 * a shared ArrayBuffer. `new Uint8Array(n)` for n above 64 bytes gets a zeroed off-heap backing
 * store of its own (about 330 ns here, and external memory the GC must account for); a view of a
 * slab costs about 30 ns, and views of it (subarray) are plain typed arrays, cheaper than
 * Buffer's. A new slab is all zeros (the codec's padding fields rely on that) and no byte is
 * handed out twice, so a packet Node still holds in its send queue is never overwritten. An array
 * kept for long keeps its slab alive, so slabs are small: today only pending handshakes and
 * fragments held out of order keep theirs.
 */
const SLAB_BYTES = 16 * 1024;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabUsed = 0;

/** `size` bytes, all zero until written, for writing once. */
export function allocate(size: number): Uint8Array {
  if (size > SLAB_BYTES / 4) return new Uint8Array(size);
  if (slabUsed + size > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  const bytes = new Uint8Array(slab, slabUsed, size);
  slabUsed += (size + 7) & ~7; // 8-byte aligned, as a backing store of its own would be
  return bytes;
}

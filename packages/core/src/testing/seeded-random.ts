/**
 * Seeded randomness for tests on virtual time: the same "random" losses, delays, ids and bytes
 * on every run, so a failure is seen again by running it again. mulberry32: small and fast, and
 * not for anything secret (keys still come from libsodium).
 */

/** mulberry32: numbers in [0, 1) from a 32-bit seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Unsigned 32-bit integers (an endpoint's `randomU32`: its session ids). */
export function seededU32(seed: number): () => number {
  const next = seededRandom(seed);
  return () => Math.floor(next() * 2 ** 32) >>> 0;
}

/** Seeded bytes (an endpoint's `randomBytes`: indices and cookie secrets in virtual-time tests). */
export function seededBytes(seed: number): (length: number) => Uint8Array {
  const next = seededRandom(seed ^ 0x5eed);
  return (length) => Uint8Array.from({ length }, () => Math.floor(next() * 256));
}

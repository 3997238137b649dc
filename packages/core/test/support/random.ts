/** mulberry32: a small seeded generator, so every "random" test is the same on every run. */
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

export function seededU32(seed: number): () => number {
  const next = seededRandom(seed);
  return () => Math.floor(next() * 2 ** 32) >>> 0;
}

/** Seeded bytes (for indices and cookie secrets in virtual-time tests; keys still come from libsodium). */
export function seededBytes(seed: number): (length: number) => Uint8Array {
  const next = seededRandom(seed ^ 0x5eed);
  return (length) => Uint8Array.from({ length }, () => Math.floor(next() * 256));
}

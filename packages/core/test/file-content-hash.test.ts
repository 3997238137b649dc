/** Incremental BLAKE2b-256 with a state that survives a restart: known answers, pieces, export and import. */
import sodium from 'sodium-native';
import { describe, expect, it } from 'vitest';
import { ContentHasher, contentHash, HASH_STATE_BYTES, HASH_STATE_FORMAT } from '../src/index.js';
import { seededRandom } from './support/random.js';

const pattern = (length: number) => Buffer.from(Array.from({ length }, (_, i) => i % 251));

describe('ContentHasher', () => {
  // Known answers from an independent implementation (Python's hashlib.blake2b, digest_size=32).
  it.each([
    ['', Buffer.alloc(0), '0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8'],
    ['"abc"', Buffer.from('abc'), 'bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319'],
    [
      '128 zero bytes (one block)',
      Buffer.alloc(128),
      '378d0caaaa3855f1b38693c1d6ef004fd118691c95c959d4efa950d6d6fcf7c1',
    ],
    [
      '1,000,003 bytes of i % 251',
      pattern(1_000_003),
      '5dd13c21d5d15ee3672fffd056431873359dc5c1f0221b5ef13c4693aa8d13d1',
    ],
  ])('hashes %s to its known answer', (_, data, hash) => {
    expect(contentHash(data)).toBe(hash);
  });

  it('the state is libsodium crypto_generichash_STATEBYTES (384) bytes, and its format names that size', () => {
    expect(HASH_STATE_BYTES).toBe(384);
    expect(HASH_STATE_BYTES).toBe(sodium.crypto_generichash_STATEBYTES);
    expect(HASH_STATE_FORMAT).toMatch(/^blake2b-256\/sodium\/384\/[0-9a-f]{32}$/);
    expect(ContentHasher.start().exportState()).toHaveLength(384);
  });

  it('in pieces of any size, with digests along the way, equals the one-shot hash', () => {
    const data = pattern(1_000_003);
    const next = seededRandom(5);
    const hasher = ContentHasher.start();
    let at = 0;
    while (at < data.length) {
      const piece = Math.min(data.length - at, Math.floor(next() * 70_000));
      hasher.update(data.subarray(at, at + piece));
      at += piece;
      // A digest finishes a copy: the hasher goes on.
      expect(hasher.digestHex()).toBe(contentHash(data.subarray(0, at)));
      if (at > 300_000) break;
    }
    hasher.update(data.subarray(at));
    expect(hasher.bytes).toBe(data.length);
    expect(hasher.digestHex()).toBe('5dd13c21d5d15ee3672fffd056431873359dc5c1f0221b5ef13c4693aa8d13d1');
  });

  it('a state exported mid-block and imported into a fresh hasher finishes to the same hash', () => {
    const data = pattern(1_000_003);
    for (const cut of [0, 1, 127, 128, 129, 255, 256, 257, 65_536, 999_999]) {
      const first = ContentHasher.start().update(data.subarray(0, cut));
      // Through text, as the state file keeps it.
      const saved = Buffer.from(first.exportState()).toString('base64');
      first.update(Buffer.from('something else entirely'));
      const resumed = ContentHasher.resume(Buffer.from(saved, 'base64'), HASH_STATE_FORMAT, cut);
      if (!resumed) throw new Error('refused its own format');
      expect(resumed.bytes).toBe(cut);
      resumed.update(data.subarray(cut));
      expect(resumed.digestHex(), `cut at ${cut}`).toBe(contentHash(data));
    }
  });

  it('exportState into a given array allocates nothing new', () => {
    const target = new Uint8Array(HASH_STATE_BYTES);
    const hasher = ContentHasher.start().update(Buffer.from('abc'));
    expect(hasher.exportState(target)).toBe(target);
    expect(Buffer.from(target)).toEqual(Buffer.from(hasher.exportState()));
  });

  it('refuses a state of another format or size (the caller then hashes again)', () => {
    const state = ContentHasher.start().update(Buffer.from('abc')).exportState();
    expect(
      ContentHasher.resume(state, 'blake2b-256/sodium/384/00000000000000000000000000000000', 3),
    ).toBeUndefined();
    expect(ContentHasher.resume(state.subarray(0, 383), HASH_STATE_FORMAT, 3)).toBeUndefined();
  });
});

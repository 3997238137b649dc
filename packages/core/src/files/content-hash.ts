/**
 * A file's BLAKE2b-256 (libsodium's generichash, 32 bytes, no key), computed piece by piece, with
 * a state that can be saved and taken up again in another run: a receiver that resumes goes on
 * from the bytes it holds without reading them again.
 *
 * The state is libsodium's `crypto_generichash_state`, `crypto_generichash_STATEBYTES` (384)
 * bytes: the chaining value, the counters and the last unhashed block, no pointers, in the
 * machine's byte order. Its layout belongs to libsodium, so a saved state carries `STATE_FORMAT`:
 * the state size and a probe (the state after hashing a fixed text, hashed). A state saved by a
 * libsodium with another layout, or on a machine of other byte order, has another format, and
 * `ContentHasher.resume` refuses it (the caller then hashes the bytes it holds again).
 */
import sodium from 'sodium-native';

export const HASH_BYTES = 32;
export const STATE_BYTES: number = sodium.crypto_generichash_STATEBYTES;

export class ContentHasher {
  private readonly state = Buffer.alloc(STATE_BYTES);
  /** Bytes hashed so far (including those of a resumed state). */
  private hashedBytes: number;

  private constructor(state: Uint8Array | undefined, bytes: number) {
    if (state) this.state.set(state);
    else sodium.crypto_generichash_init(this.state, null, HASH_BYTES);
    this.hashedBytes = bytes;
  }

  /** A new hash, of nothing yet. */
  static start(): ContentHasher {
    return new ContentHasher(undefined, 0);
  }

  /**
   * Takes up a saved state (`exportState`) of `bytes` hashed bytes, or undefined if it was saved in
   * another format (`STATE_FORMAT`) or is not a state's size.
   */
  static resume(state: Uint8Array, format: string, bytes: number): ContentHasher | undefined {
    if (format !== STATE_FORMAT || state.length !== STATE_BYTES) return undefined;
    return new ContentHasher(state, bytes);
  }

  get bytes(): number {
    return this.hashedBytes;
  }

  update(data: Uint8Array): this {
    sodium.crypto_generichash_update(this.state, data);
    this.hashedBytes += data.length;
    return this;
  }

  /** A copy of the state (into `target`, STATE_BYTES long, when given: no allocation). */
  exportState(target: Uint8Array = Buffer.alloc(STATE_BYTES)): Uint8Array {
    target.set(this.state);
    return target;
  }

  /** The hash of everything so far; the hasher can go on (a copy of the state is finished). */
  digest(): Uint8Array {
    const copy = Buffer.from(this.state);
    const out = Buffer.alloc(HASH_BYTES);
    sodium.crypto_generichash_final(copy, out);
    return out;
  }

  digestHex(): string {
    return Buffer.from(this.digest()).toString('hex');
  }
}

/** The BLAKE2b-256 of `data`, in hex (what an offer carries). */
export function contentHash(data: Uint8Array): string {
  return ContentHasher.start().update(data).digestHex();
}

/** The format a state saved here has: its size and a probe of libsodium's layout. */
export const STATE_FORMAT: string = (() => {
  const probe = ContentHasher.start().update(Buffer.from('netchat state probe: the quick brown fox'));
  const probeHash = Buffer.alloc(16);
  sodium.crypto_generichash(probeHash, Buffer.from(probe.exportState()));
  return `blake2b-256/sodium/${STATE_BYTES}/${probeHash.toString('hex')}`;
})();

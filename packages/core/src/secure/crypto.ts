/**
 * The cryptographic primitives netchat uses, all from libsodium (sodium-native): X25519 keys,
 * ChaCha20-Poly1305 (IETF) sealing with Noise's nonce layout, Noise's REKEY, BLAKE2b for
 * fingerprints and cookies. Nothing here is hand-rolled cryptography; it only arranges bytes.
 */
import sodium from 'sodium-native';
/**
 * The per-packet AEAD calls go to sodium-native's addon itself. Its index.js wraps each call in
 * nine argument assertions (about 80 ns a call, four calls a round trip). The addon's own C
 * asserts are compiled out of its release build, so `checkAead` below is the only guard: every
 * array must be a Uint8Array (so that length is bytes) of the size libsodium will read or write.
 */
import aead from 'sodium-native/binding.js';
import { allocate } from '../slab.js';

export interface KeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

export const KEY_BYTES = 32;
export const TAG_BYTES = 16;

export function generateKeyPair(): KeyPair {
  const publicKey = Buffer.alloc(sodium.crypto_kx_PUBLICKEYBYTES);
  const secretKey = Buffer.alloc(sodium.crypto_kx_SECRETKEYBYTES);
  sodium.crypto_kx_keypair(publicKey, secretKey);
  return { publicKey, secretKey };
}

/** The key pair of an X25519 secret key (for keys read from a file, and fixed test keys). */
export function keyPairFromSecret(secret: Uint8Array): KeyPair {
  const secretKey = Buffer.from(secret);
  const publicKey = Buffer.alloc(sodium.crypto_scalarmult_BYTES);
  sodium.crypto_scalarmult_base(publicKey, secretKey);
  return { publicKey, secretKey };
}

export function randomBytes(length: number): Uint8Array {
  const bytes = Buffer.alloc(length);
  sodium.randombytes_buf(bytes);
  return bytes;
}

/** Noise's ChaChaPoly nonce: 32 zero bits, then the 64-bit counter little-endian. */
const nonceScratch = Buffer.alloc(12);
function nonce(counter: number): Buffer {
  // One buffer reused: sodium reads it synchronously, and nothing keeps it. Bytes 0-3 stay 0.
  const n = nonceScratch;
  const low = counter >>> 0;
  const high = Math.floor(counter / 2 ** 32) >>> 0;
  n[4] = low;
  n[5] = low >>> 8;
  n[6] = low >>> 16;
  n[7] = low >>> 24;
  n[8] = high;
  n[9] = high >>> 8;
  n[10] = high >>> 16;
  n[11] = high >>> 24;
  return n;
}

export function seal(key: Uint8Array, counter: number, ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const out = Buffer.alloc(plaintext.length + TAG_BYTES);
  sealInto(out, key, counter, ad, plaintext);
  return out;
}

/** Seals into `out` (plaintext length + 16 bytes), so a packet can be built without a copy. */
export function sealInto(
  out: Uint8Array,
  key: Uint8Array,
  counter: number,
  ad: Uint8Array,
  plaintext: Uint8Array,
): void {
  checkAead(out, plaintext, ad, key);
  aead.crypto_aead_chacha20poly1305_ietf_encrypt(out, plaintext, ad, nonce(counter), key);
}

/**
 * Throws unless `longer` is exactly `shorter` + the tag and every array is a Uint8Array (another
 * typed array's length is not its byte length) with a 32-byte key. Misuse by a caller, never by
 * a peer: every array the data path passes is a Uint8Array it sized itself.
 */
function checkAead(longer: Uint8Array, shorter: Uint8Array, ad: Uint8Array, key: Uint8Array): void {
  const bytes = longer instanceof Uint8Array && shorter instanceof Uint8Array;
  if (!bytes || !(ad instanceof Uint8Array) || !(key instanceof Uint8Array))
    throw new TypeError('AEAD arguments must be Uint8Arrays');
  if (longer.length !== shorter.length + TAG_BYTES || key.length !== KEY_BYTES)
    throw new RangeError('AEAD lengths: the sealed side must be 16 bytes longer, and the key 32 bytes');
}

/**
 * The plaintext, or undefined if the ciphertext, counter or associated data was tampered with.
 * Written to `into` if given (exactly 16 bytes shorter than `ciphertext`), else to a new array.
 */
export function open(
  key: Uint8Array,
  counter: number,
  ad: Uint8Array,
  ciphertext: Uint8Array,
  into?: Uint8Array,
): Uint8Array | undefined {
  if (ciphertext.length < TAG_BYTES) return undefined;
  const out = into ?? allocate(ciphertext.length - TAG_BYTES);
  checkAead(ciphertext, out, ad, key);
  // Negative when the tag does not verify (the wrapper would throw; a forgery is not exceptional).
  const opened = aead.crypto_aead_chacha20poly1305_ietf_decrypt(out, ciphertext, ad, nonce(counter), key);
  return opened < 0 ? undefined : out;
}

/** Noise REKEY(k): the first 32 bytes of ENCRYPT(k, 2^64 - 1, empty, 32 zero bytes). */
export function rekey(key: Uint8Array): Uint8Array {
  const n = Buffer.alloc(sodium.crypto_aead_chacha20poly1305_ietf_NPUBBYTES, 0xff);
  n.fill(0, 0, 4);
  const out = Buffer.alloc(KEY_BYTES + TAG_BYTES);
  sodium.crypto_aead_chacha20poly1305_ietf_encrypt(out, Buffer.alloc(KEY_BYTES), null, null, n, key);
  return out.subarray(0, KEY_BYTES);
}

/** BLAKE2b with an optional key, `length` bytes out. */
export function blake2b(length: number, data: Uint8Array, key?: Uint8Array): Uint8Array {
  const out = Buffer.alloc(length);
  sodium.crypto_generichash(out, Buffer.from(data), key ? Buffer.from(key) : undefined);
  return out;
}

/** Bytes of a `mac16`. */
export const MAC_BYTES = 16;

/**
 * A message authentication code: keyed BLAKE2b (`key` 32 bytes), 16 bytes out, over the
 * concatenation of `parts`, read in place (no copy), written to `out` (a new array if not
 * given: a caller on a per-packet path passes a scratch one). The relay's packets carry one.
 */
export function mac16(
  key: Uint8Array,
  parts: readonly Uint8Array[],
  out: Uint8Array = Buffer.alloc(MAC_BYTES),
): Uint8Array {
  // Typed as Buffers; the addon reads any Uint8Array (tested), so views of a packet need no copy.
  sodium.crypto_generichash_batch(out as Buffer, parts as Buffer[], key as Buffer);
  return out;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const FINGERPRINT_DOMAIN = new TextEncoder().encode('netchat fingerprint v1');

/**
 * A short, read-aloud form of a public key: 80 bits of BLAKE2b over a domain tag and the key,
 * in base32 (no 0/1/8/9 to confuse with letters), in four groups: "MZXW-6YTB-OI4D-LMNQ".
 */
export function fingerprint(publicKey: Uint8Array): string {
  const digest = blake2b(32, new Uint8Array([...FINGERPRINT_DOMAIN, ...publicKey]));
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest.subarray(0, 10)) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return (out.match(/.{4}/g) ?? []).join('-');
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && sodium.sodium_memcmp(Buffer.from(a), Buffer.from(b));
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

// Independent netchat peer, written from PROTOCOL.md only (not from packages/core/src).
//
// The primitives PROTOCOL.md names, on node:crypto: X25519, ChaCha20-Poly1305 (IETF, RFC 8439)
// with Noise's nonce layout, BLAKE2b-512 and HMAC-BLAKE2b (Noise's HASH and HMAC), and the
// fingerprint (BLAKE2b-256, base32).

import crypto from 'node:crypto';
import { blake2b } from './blake2b.mjs';

const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');

export function x25519PrivateKey(secret) {
  return crypto.createPrivateKey({
    key: Buffer.concat([PKCS8_X25519, Buffer.from(secret)]),
    format: 'der',
    type: 'pkcs8',
  });
}

function x25519PublicKeyObject(publicKey) {
  return crypto.createPublicKey({
    key: Buffer.concat([SPKI_X25519, Buffer.from(publicKey)]),
    format: 'der',
    type: 'spki',
  });
}

/** A key pair from a 32-byte secret (or a random one): { secret, publicKey }. */
export function x25519KeyPair(secret = crypto.randomBytes(32)) {
  const der = crypto.createPublicKey(x25519PrivateKey(secret)).export({ format: 'der', type: 'spki' });
  return { secret: new Uint8Array(secret), publicKey: new Uint8Array(der.subarray(der.length - 32)) };
}

export function x25519(secret, publicKey) {
  return new Uint8Array(
    crypto.diffieHellman({ privateKey: x25519PrivateKey(secret), publicKey: x25519PublicKeyObject(publicKey) }),
  );
}

/** Noise's nonce: 4 zero bytes, then the 64-bit counter little-endian. `counter` is a BigInt or number. */
export function nonceFor(counter) {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64LE(BigInt(counter), 4);
  return nonce;
}

export function aeadSeal(key, counter, ad, plaintext) {
  const cipher = crypto.createCipheriv('chacha20-poly1305', key, nonceFor(counter), { authTagLength: 16 });
  cipher.setAAD(ad, { plaintextLength: plaintext.length });
  const body = cipher.update(plaintext);
  cipher.final();
  return new Uint8Array(Buffer.concat([body, cipher.getAuthTag()]));
}

/** The plaintext, or undefined if it does not authenticate. */
export function aeadOpen(key, counter, ad, sealed) {
  if (sealed.length < 16) return undefined;
  const decipher = crypto.createDecipheriv('chacha20-poly1305', key, nonceFor(counter), { authTagLength: 16 });
  decipher.setAAD(ad, { plaintextLength: sealed.length - 16 });
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  const body = decipher.update(sealed.subarray(0, sealed.length - 16));
  try {
    decipher.final();
  } catch {
    return undefined;
  }
  return new Uint8Array(body);
}

/** Noise's REKEY(k): the first 32 bytes of ENCRYPT(k, 2^64 - 1, empty, 32 zero bytes). */
export function rekey(key) {
  return aeadSeal(key, 0xffffffffffffffffn, new Uint8Array(0), new Uint8Array(32)).slice(0, 32);
}

export function hash512(...parts) {
  const h = crypto.createHash('blake2b512');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

export function hmac512(key, ...parts) {
  const h = crypto.createHmac('blake2b512', key);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** Noise's HKDF with HMAC-BLAKE2b: two or three 64-byte outputs. */
export function hkdf(chainingKey, input, outputs) {
  const tempKey = hmac512(chainingKey, input);
  const out1 = hmac512(tempKey, Uint8Array.of(1));
  const out2 = hmac512(tempKey, out1, Uint8Array.of(2));
  if (outputs === 2) return [out1, out2];
  return [out1, out2, hmac512(tempKey, out2, Uint8Array.of(3))];
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32(bytes) {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

export function base32Decode(text) {
  const out = [];
  let bits = 0;
  let value = 0;
  for (const ch of text) {
    const i = BASE32.indexOf(ch);
    if (i < 0) throw new RangeError(`base32: bad character ${ch}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Uint8Array.from(out);
}

const FINGERPRINT_PREFIX = new TextEncoder().encode('netchat fingerprint v1');

/** The 10 fingerprint bytes of a static public key. */
export function fingerprintBytes(publicKey) {
  const input = new Uint8Array(FINGERPRINT_PREFIX.length + publicKey.length);
  input.set(FINGERPRINT_PREFIX, 0);
  input.set(publicKey, FINGERPRINT_PREFIX.length);
  return blake2b(input, 32).slice(0, 10);
}

/** `XXXX-XXXX-XXXX-XXXX` from the 10 fingerprint bytes. */
export function fingerprintText(bytes) {
  return base32(bytes).match(/.{4}/g).join('-');
}

export function fingerprintOf(publicKey) {
  return fingerprintText(fingerprintBytes(publicKey));
}

export { blake2b };

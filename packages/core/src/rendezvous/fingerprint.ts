/**
 * Fingerprints as 10 raw bytes (on the wire) and as the base32 text people read
 * ("MZXW-6YTB-OI4D-LMNQ"): the same 80 bits as `fingerprint(publicKey)` in crypto.ts.
 */
import { FINGERPRINT_BYTES } from './messages.js';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The 10 bytes a fingerprint text stands for (dashes and case do not matter), or undefined. */
export function fingerprintBytes(text: string): Uint8Array | undefined {
  const compact = text.replaceAll('-', '').toUpperCase();
  if (!/^[A-Z2-7]{16}$/.test(compact)) return undefined;
  const out = new Uint8Array(FINGERPRINT_BYTES);
  let bits = 0;
  let value = 0;
  let at = 0;
  for (const char of compact) {
    value = ((value << 5) | BASE32.indexOf(char)) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out[at++] = (value >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  return out;
}

/** The text form of 10 fingerprint bytes, as `fingerprint()` prints it. */
export function fingerprintText(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return (out.match(/.{4}/g) ?? []).join('-');
}

/** Whether a line a person typed looks like a fingerprint (rather than an address or a nick). */
export function isFingerprint(text: string): boolean {
  return fingerprintBytes(text.trim()) !== undefined;
}

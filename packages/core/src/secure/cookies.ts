/**
 * Cookies: proof that an address receives what is sent to it, at no cost in memory. A cookie is
 * `BLAKE2b(key = secret, message = "IP:PORT", 16 bytes)`; the secret changes every
 * cookieRotation and the previous one stays good, so a cookie lives between one and two
 * rotations.
 */
import { type Address, formatAddress } from '../address.js';
import { COOKIE_BYTES } from '../wire/packets.js';
import { blake2b, equalBytes } from './crypto.js';

export const COOKIE_SECRET_BYTES = 32;

export class Cookies {
  private secret: Uint8Array;
  private previous: Uint8Array;
  private since = 0;

  constructor(
    private readonly rotation: number,
    private readonly random: (length: number) => Uint8Array,
  ) {
    this.secret = random(COOKIE_SECRET_BYTES);
    this.previous = random(COOKIE_SECRET_BYTES);
  }

  /** The cookie `address` should come back with. */
  make(address: Address, now: number): Uint8Array {
    this.rotate(now);
    return cookieFor(address, this.secret);
  }

  /** Whether `cookie` is good for `address` under the current or the previous secret. */
  valid(address: Address, cookie: Uint8Array, now: number): boolean {
    this.rotate(now);
    if (isZero(cookie)) return false;
    return (
      equalBytes(cookie, cookieFor(address, this.secret)) ||
      equalBytes(cookie, cookieFor(address, this.previous))
    );
  }

  private rotate(now: number): void {
    if (now - this.since < this.rotation) return;
    this.previous = this.secret;
    this.secret = this.random(COOKIE_SECRET_BYTES);
    this.since = now;
  }
}

export function cookieFor(address: Address, secret: Uint8Array): Uint8Array {
  return blake2b(COOKIE_BYTES, Buffer.from(formatAddress(address)), secret);
}

/** The cookie field of a first init: no cookie (and never a valid one). */
export function isZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

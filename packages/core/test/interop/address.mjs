// Independent netchat peer, written from PROTOCOL.md only (not from packages/core/src).
//
// Addresses: { host, port } as a socket reports them, or a relayed address { host: 'relay',
// port: tag } (PROTOCOL.md *Relay*: a form that can never be a real one; here the port is the
// peer's relay tag itself). Hosts for the per-host limits: an IPv4 address, or the first 64 bits
// of an IPv6 address; every relayed address is one host.

import { ipToWire } from './codec.mjs';

export const RELAY_HOST = 'relay';

/** ::ffff:a.b.c.d is written a.b.c.d (as PROTOCOL.md's cookie address does). */
export function plainHost(host) {
  return host.startsWith('::ffff:') && host.includes('.') ? host.slice(7) : host;
}

export function addressKey(a) {
  return `${plainHost(a.host)}|${a.port}`;
}

export function sameAddress(a, b) {
  return a !== undefined && b !== undefined && addressKey(a) === addressKey(b);
}

export function isRelayed(a) {
  return a.host === RELAY_HOST;
}

export function relayedAddress(tag) {
  return { host: RELAY_HOST, port: tag };
}

export function hostKey(a) {
  if (isRelayed(a)) return RELAY_HOST;
  const host = plainHost(a.host);
  if (!host.includes(':')) return host;
  return Buffer.from(ipToWire(host).subarray(0, 8)).toString('hex');
}

/** The cookie's ADDRESS text: `IP:PORT` for IPv4, `[IPv6]:PORT` (PROTOCOL.md *Cookie*). */
export function cookieAddressText(a) {
  const host = plainHost(a.host);
  return host.includes(':') ? `[${host}]:${a.port}` : `${host}:${a.port}`;
}

/** A token bucket that starts full and refills continuously at `rate` a second, up to `burst`. */
export class TokenBucket {
  constructor(rate, burst, now) {
    this.rate = rate;
    this.burst = burst;
    this.tokens = burst;
    this.last = now;
  }

  take(now, n = 1) {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }
}

/**
 * The source host a limit applies to: an IPv4 address, or an IPv6 /64 (one customer's network:
 * a host can pick any address in its /64, so per-address limits would be no limit).
 */
import { type Address, formatAddress } from '../address.js';

export function hostKey(address: Address): string {
  const host = address.host;
  if (!host.includes(':')) return host;
  return `${ipv6Prefix64(host)}::/64`;
}

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/**
 * The host a limit on what a peer asks for counts it against (a handshake started, a request
 * waiting): `hostKey`, but an address whose host is no IP address counts as itself. That is a
 * relayed peer's (virtual host `relay`, its tag as the port): every peer that comes through the
 * relay shares the host, and one relayed stranger must not use up what every relayed friend may
 * ask (test/relayed-host-attacker.test.ts). What goes *to* an address is still counted by
 * `hostKey` (path packets: every relayed address is the rendezvous).
 */
export function askerHost(address: Address): string {
  return IPV4.test(address.host) || address.host.includes(':') ? hostKey(address) : formatAddress(address);
}

/** The first four groups of an IPv6 address, in canonical lowercase without leading zeros. */
function ipv6Prefix64(host: string): string {
  const bare = host.split('%')[0] as string; // a zone (fe80::1%eth0) is not part of the address
  const [head = '', tail] = bare.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  // An embedded IPv4 tail (::ffff:1.2.3.4 style) fills two groups; it is never in the first four.
  const rightGroups = right.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const zeros = tail === undefined ? 0 : Math.max(0, 8 - left.length - rightGroups);
  const groups = [...left, ...Array<string>(zeros).fill('0'), ...right];
  return groups
    .slice(0, 4)
    .map((g) => (Number.parseInt(g, 16) || 0).toString(16))
    .join(':');
}

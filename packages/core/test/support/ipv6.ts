import { networkInterfaces } from 'node:os';

/**
 * Whether this machine has the IPv6 loopback address: containers and CI runners often have IPv6
 * turned off, and a test over `::1` must skip there, not fail.
 */
export const hasIpv6Loopback: boolean = Object.values(networkInterfaces()).some((list) =>
  (list ?? []).some((entry) => entry.family === 'IPv6' && entry.address === '::1'),
);

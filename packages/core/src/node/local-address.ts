/**
 * Is an address this very socket? Connecting to yourself cannot work (both ends of the handshake
 * would be one endpoint), so the adapter refuses it at once instead of letting it time out.
 */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { type Address, normalizeHost } from '../address.js';

/** The socket's own binding: the host it was bound to ('::' or '0.0.0.0' for every interface) and its port. */
export interface Binding {
  readonly host: string;
  readonly port: number;
}

const WILDCARDS = new Set(['::', '0.0.0.0']);

function isLoopback(host: string): boolean {
  return host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/** The addresses of this machine's interfaces, as normalizeHost writes them. */
function interfaceAddresses(): Set<string> {
  const found = new Set<string>();
  for (const list of Object.values(networkInterfaces()))
    for (const entry of list ?? []) found.add(normalizeHost(entry.address.split('%')[0] ?? entry.address));
  return found;
}

export function isOwnAddress(target: Address, binding: Binding): boolean {
  if (target.port !== binding.port) return false;
  const host = normalizeHost(target.host);
  if (WILDCARDS.has(binding.host)) {
    // Bound to every interface: loopback, the unspecified address and every local address reach us.
    return WILDCARDS.has(host) || isLoopback(host) || interfaceAddresses().has(host);
  }
  return host === binding.host;
}

/** Whether a socket bound to `binding` can send to `target` at all (an IPv4 socket cannot reach IPv6). */
export function canReach(target: Address, binding: Binding, dualStack: boolean): boolean {
  const targetFamily = isIP(target.host);
  const boundFamily = isIP(binding.host);
  if (targetFamily === 0 || boundFamily === targetFamily) return true;
  return dualStack && boundFamily === 6 && targetFamily === 4;
}

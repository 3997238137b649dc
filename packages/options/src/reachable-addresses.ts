/**
 * Where others can reach a peer, to tell a friend: the machine's own addresses (never `::` or
 * `0.0.0.0`, which name no machine), or the one address the socket is bound to.
 */
import { networkInterfaces } from 'node:os';

const WILDCARDS = new Set(['::', '0.0.0.0']);

/** IPv4 before IPv6; link-local IPv6 (fe80::/10) left out, since it needs a zone to be usable. */
export function reachableAddresses(boundHost: string): string[] {
  if (!WILDCARDS.has(boundHost)) return [boundHost];
  const v4: string[] = [];
  const v6: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) {
      if (entry.internal) continue;
      if (entry.family === 'IPv4') v4.push(entry.address);
      else if (!entry.address.toLowerCase().startsWith('fe80')) v6.push(entry.address);
    }
  }
  const found = [...v4, ...v6];
  return found.length > 0 ? found : ['127.0.0.1'];
}

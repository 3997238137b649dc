/**
 * Addresses seen from this socket: is an address this very socket (connecting to yourself cannot
 * work: both ends of the handshake would be one endpoint, so the adapter refuses it at once), can
 * the socket reach an address's IP version, and can it exchange datagrams with an address at all.
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

/** A loopback address (127.0.0.0/8, ::1): a peer on this machine. */
export function isLoopback(host: string): boolean {
  return host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/**
 * The addresses of this machine's interfaces, as normalizeHost writes them. Node throws where the
 * system will not list them (some sandboxes): then none are known, and only loopback and the
 * wildcards count as our own.
 */
function interfaceAddresses(): Set<string> {
  const found = new Set<string>();
  let interfaces: ReturnType<typeof networkInterfaces>;
  try {
    interfaces = networkInterfaces();
  } catch {
    return found;
  }
  for (const list of Object.values(interfaces))
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

/**
 * Whether a socket bound to `binding` is dual-stack: an IPv6 socket on '::' (the adapter opens
 * every IPv6 socket with ipv6Only false) also serves IPv4 peers, as ::ffff:a.b.c.d.
 */
export function isDualStack(binding: Binding): boolean {
  return binding.host === '::';
}

/** Whether a socket bound to `binding` can send to `target` at all (an IPv4 socket cannot reach IPv6). */
export function canReach(target: Address, binding: Binding, dualStack: boolean): boolean {
  const targetFamily = isIP(target.host);
  const boundFamily = isIP(binding.host);
  if (targetFamily === 0 || boundFamily === targetFamily) return true;
  return dualStack && boundFamily === 6 && targetFamily === 4;
}

/**
 * Which peers a socket can exchange datagrams with: a unicast address of an IP version it speaks,
 * and a port from 1 to 65535. Anything else can never be answered: node's `send` throws
 * synchronously for port 0, and the unspecified address (0.0.0.0/8, ::), multicast (224.0.0.0/4,
 * ff00::/8) and the broadcast address are not one peer (the kernel drops most of them as sources
 * already; a datagram claiming one is forged). So a datagram from such a source is dropped
 * before the endpoint sees it, and nothing is sent to such a destination (a hostile rendezvous
 * may name one). Checked for every datagram both ways, so the last good host is remembered.
 */
export class PeerAddresses {
  private lastGood = '';

  constructor(private readonly binding: Binding) {}

  usable(host: string, port: number): boolean {
    if ((port | 0) !== port || port < 1 || port > 65_535) return false;
    if (host === this.lastGood) return true;
    if (!this.usableHost(host)) return false;
    this.lastGood = host;
    return true;
  }

  private usableHost(host: string): boolean {
    const family = isIP(host);
    if (family === 0) return false; // not numeric: 'relay' or anything else never meant for the socket
    if (!canReach({ host, port: 1 }, this.binding, isDualStack(this.binding))) return false;
    return family === 4 ? isUnicastV4(host) : isUnicastV6(host);
  }
}

function isUnicastV4(host: string): boolean {
  const first = Number(host.slice(0, host.indexOf('.')));
  return first !== 0 && (first < 224 || first > 239) && host !== '255.255.255.255';
}

function isUnicastV6(host: string): boolean {
  const bare = host.split('%')[0] as string;
  // Hosts here are normalised (lowercase; IPv4-mapped ones written as IPv4). Only zeros and
  // colons is the unspecified address however it is written; ffXX: starts a multicast one.
  return !/^[0:]+$/.test(bare) && !/^ff[0-9a-f]{2}:/.test(bare);
}

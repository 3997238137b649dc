/** Peer addresses: the key sessions are found by, and the forms people type them in. */
import { isIP } from 'node:net';
import { errors } from './errors.js';

/** A numeric IP address (v4 or v6, never IPv4-mapped) and a UDP port. */
export interface Address {
  readonly host: string;
  readonly port: number;
}

/** "::ffff:1.2.3.4" (how a dual-stack socket reports an IPv4 peer) becomes "1.2.3.4". */
export function normalizeHost(host: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  return mapped?.[1] ?? host.toLowerCase();
}

/** Whether two (normalised) addresses are the same, without building strings on the hot path. */
export function sameAddress(a: Address, b: Address): boolean {
  return a.port === b.port && a.host === b.host;
}

/** "1.2.3.4:5555" or "[::1]:5555": a stable key and the form shown to people. */
export function formatAddress(address: Address): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

export function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** A host as typed (an IP or a host name, not yet resolved) and a port. */
export interface PeerSpec {
  readonly host: string;
  readonly port: number;
}

const hostName = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

function checkHost(host: string, original: string): string {
  // Only digits and dots is a mistyped IPv4 address (256.1.1.1), never a host name to look up.
  if (/^[\d.]+$/.test(host) && isIP(host) !== 4)
    throw errors.invalidAddress(original, `"${host}" is not an IPv4 address (four numbers, each 0-255)`);
  if (isIP(host) || hostName.test(host)) return host;
  throw errors.invalidAddress(original, `"${host}" is not an IP address or host name`);
}

/** Checks a peer given as data rather than typed (host and port), as parsePeerSpec checks typed ones. */
export function checkPeerSpec(spec: PeerSpec): PeerSpec {
  const typed = `${spec.host} ${spec.port}`;
  if (!Number.isInteger(spec.port) || spec.port < 1 || spec.port > 65535)
    throw errors.invalidAddress(typed, `"${spec.port}" is not a port (1-65535)`);
  return { host: checkHost(spec.host, typed), port: spec.port };
}

/**
 * Reads a peer as people type it: "IP PORT" (the original prompt's form), "HOST:PORT",
 * "[IPv6]:PORT", or "IPv6 PORT". Throws INVALID_ADDRESS with a reason people can act on.
 */
export function parsePeerSpec(text: string): PeerSpec {
  const trimmed = text.trim();
  if (trimmed === '') throw errors.invalidAddress(text, 'expected IP and port, e.g. 127.0.0.1 6666');
  const parts = trimmed.split(/\s+/);
  let host: string;
  let portText: string;
  if (parts.length === 2) {
    [host, portText] = parts as [string, string];
    host = host.replace(/^\[(.*)\]$/, '$1');
  } else if (parts.length === 1) {
    const bracketed = /^\[([^\]]+)\]:(.*)$/.exec(trimmed);
    const plain = /^([^:]+):([^:]*)$/.exec(trimmed);
    const match = bracketed ?? plain;
    if (!match) throw errors.invalidAddress(text, 'expected IP and port, e.g. 127.0.0.1 6666 or [::1]:6666');
    host = match[1] as string;
    portText = match[2] as string;
  } else {
    throw errors.invalidAddress(text, 'expected IP and port, e.g. 127.0.0.1 6666');
  }
  const port = parsePort(portText);
  if (port === undefined) throw errors.invalidAddress(text, `"${portText}" is not a port (1-65535)`);
  return { host: checkHost(host, text), port };
}

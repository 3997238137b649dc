/** Who may connect: everyone, no one, or those on an allow list of HOST[:PORT] entries. */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { type Address, normalizeHost, parsePort } from '@netchat/core';

export type AcceptMode = 'all' | 'none' | 'allow';

export interface AllowEntry {
  host: string;
  port?: number;
}

/** "HOST", "HOST:PORT", "IPv6", "[IPv6]" or "[IPv6]:PORT"; throws with a reason otherwise. */
export function parseAllowEntry(text: string): AllowEntry {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const hostPort = /^([^:\s]+):(\d+)$/.exec(text);
  const [host, portText] = bracketed
    ? [bracketed[1], bracketed[2]]
    : hostPort
      ? [hostPort[1], hostPort[2]]
      : [text, undefined];
  if (!host || /\s/.test(host)) throw new Error(`"${text}" is not HOST or HOST:PORT`);
  // Only digits and dots is a mistyped IPv4 address, never a host name to look up (as the CLI reads it).
  if (/^[\d.]+$/.test(host) && isIP(host) !== 4)
    throw new Error(`"${host}" is not an IPv4 address (four numbers, each 0-255)`);
  if (bracketed && isIP(host) !== 6) throw new Error(`"${text}": brackets are for IPv6 addresses only`);
  if (portText === undefined) return { host };
  const port = parsePort(portText);
  if (port === undefined) throw new Error(`"${portText}" in "${text}" is not a port (1-65535)`);
  return { host, port };
}

export class AccessPolicy {
  private constructor(
    private readonly mode: AcceptMode,
    private readonly allowed: AllowEntry[],
  ) {}

  /** Resolves host names in the allow list once, at start-up. */
  static async create(mode: AcceptMode, entries: AllowEntry[]): Promise<AccessPolicy> {
    const resolved: AllowEntry[] = [];
    for (const entry of entries) {
      if (isIP(entry.host)) {
        resolved.push({ ...entry, host: normalizeHost(entry.host) });
        continue;
      }
      const addresses = await lookup(entry.host, { all: true }).catch(() => {
        throw new Error(`--allow ${entry.host}: host name not found (check it, or give an IP address)`);
      });
      for (const a of addresses) resolved.push({ ...entry, host: normalizeHost(a.address) });
    }
    return new AccessPolicy(mode, resolved);
  }

  /** Undefined when the peer may connect, else why not (sent to the peer as the decline detail). */
  refusal(peer: Address): string | undefined {
    if (this.mode === 'all') return undefined;
    if (this.mode === 'none') return 'this bot accepts no connections';
    const host = normalizeHost(peer.host);
    const ok = this.allowed.some((e) => e.host === host && (e.port === undefined || e.port === peer.port));
    return ok ? undefined : 'not on the allow list';
  }
}

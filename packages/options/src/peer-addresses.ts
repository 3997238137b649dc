/**
 * The addresses of peers that accepted a chat, newest first, kept in `peer_addresses.json` in the
 * netchat home: what shell completion offers after `--connect`. The known-peers list keeps keys
 * and nicks, not addresses (a key may move); this is only a convenience for typing, so a file
 * that cannot be read or written is ignored, never an error.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Address, formatAddress, type NetchatPeer } from '@netchat/core';
import { z } from 'zod';

/** Enough for completion; the oldest fall off. */
export const MAX_PEER_ADDRESSES = 50;

const PeerAddress = z.strictObject({ address: z.string().max(100), nick: z.string().max(200), lastSeen: z.string() });
const PeerAddressesFile = z.strictObject({ version: z.literal(1), peers: z.array(PeerAddress) });
type PeerAddress = z.infer<typeof PeerAddress>;

function fileIn(home: string): string {
  return join(home, 'peer_addresses.json');
}

/** The remembered addresses, newest first; none if the file is missing or unreadable. */
export function readPeerAddresses(home: string): PeerAddress[] {
  try {
    return PeerAddressesFile.parse(JSON.parse(readFileSync(fileIn(home), 'utf8'))).peers;
  } catch {
    return [];
  }
}

/** Puts `address` first (once), keeping at most MAX_PEER_ADDRESSES. Failures are ignored. */
export function rememberPeerAddress(home: string, address: Address, nick: string, now = new Date()): void {
  const text = formatAddress(address);
  const peers = readPeerAddresses(home).filter((entry) => entry.address !== text);
  peers.unshift({ address: text, nick, lastSeen: now.toISOString() });
  const path = fileIn(home);
  try {
    mkdirSync(home, { recursive: true, mode: 0o700 });
    const temporary = `${path}.${process.pid}.tmp`;
    const body = { version: 1, peers: peers.slice(0, MAX_PEER_ADDRESSES) };
    writeFileSync(temporary, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
    renameSync(temporary, path);
  } catch {}
}

/** Remembers the address of every peer that accepts a chat with `peer`. */
export function rememberAcceptedPeers(peer: NetchatPeer, home: string): void {
  peer.on('event', (event) => {
    if (event.type === 'accepted') rememberPeerAddress(home, event.peer, event.nick);
  });
}

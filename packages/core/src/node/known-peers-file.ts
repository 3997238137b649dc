/**
 * `known_peers.json` as several programs share it: a running netchat or netchat-tui and
 * `netchat contacts verify|rename|forget` in another terminal, all on one netchat home.
 *
 * Theory of operation. A program never writes the list it holds in memory over the file: it
 * keeps the changes it made (`KnownPeersChange`, one per remember, forget, rename or verify)
 * until they are saved, and each save re-reads the file and applies those changes, per key, to
 * what is there now, while holding the file's lock (`withFileLock`). What another program
 * changed in between stays. The rules, per key, when both changed it:
 *
 * - The file is the truth for every key and field this program did not change.
 * - `forget`: the key goes, whatever the file says of it.
 * - `rename` and `verify`: set their field on the key as the file has it now; a key the file no
 *   longer has (forgotten meanwhile) stays forgotten. A rename keeps the peer's own nick
 *   (`peerNick`), so a new key using it is still told apart.
 * - `remember`: on a key the file has, the sighting (last seen, last address) and the peer's nick
 *   (unless the key is `named`: the person's name wins, and the nick goes to `peerNick`), everything else (verified, named,
 *   first seen) as the file has it. A key the file does not have is added (the person chose to
 *   chat with it: trust on first use again), unless the change only follows a peer that was
 *   known (`onlyIfKnown`: a nick change in a chat), which never brings back a forgotten key.
 *
 * The list keeps at most MAX_UNMARKED_PEERS keys the person never verified nor renamed: a
 * program that lets everyone in (`netchat --yes`, a bot) meets strangers with fresh keys without
 * end, and each one would stay for ever, and be read and written again at every save. Past that
 * number, adding a key drops the unmarked key seen longest ago (never a verified or renamed one).
 *
 * A running program reads the file again before it answers a question about trust when the
 * file changed since it last read it (its inode, size or modification time), so a `verify` or a
 * `forget` done meanwhile counts for the next request.
 */
import { closeSync, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import type { Address } from '../address.js';

export const KnownPeerEntry = z.strictObject({
  publicKey: z.string().regex(/^[0-9a-f]{64}$/),
  nick: z.string().max(200),
  fingerprint: z.string(),
  firstSeen: z.string(),
  /** Where the peer was last seen (its address in the last chat). */
  lastAddress: z
    .strictObject({ host: z.string().min(1), port: z.number().int().min(1).max(65535) })
    .optional(),
  /** When the peer was last seen (ISO 8601): a chat with it opened or ended. */
  lastSeen: z.string().optional(),
  /** When the user verified this key (ISO 8601), having compared its fingerprint with the peer. */
  verified: z.string().optional(),
  /** The nick is the user's name for the peer (contacts rename): the peer's own nick does not replace it. */
  named: z.literal(true).optional(),
  /**
   * A renamed peer's own nick (the last it gave): a new key using it is still a nick conflict, so
   * renaming a verified peer never lets another key take the nick it goes by.
   */
  peerNick: z.string().max(200).optional(),
});
export type KnownPeerEntry = z.infer<typeof KnownPeerEntry>;
// Still version 1: the newer fields are optional, so an older netchat's file loads here.
const KnownPeersFile = z.strictObject({ version: z.literal(1), peers: z.array(KnownPeerEntry) });

/** One change this program made to the list, kept until saved so it can be applied to the file as it is then. */
export type KnownPeersChange =
  | {
      readonly kind: 'remember';
      readonly publicKey: string;
      readonly nick: string;
      readonly fingerprint: string;
      /** ISO 8601. */
      readonly at: string;
      readonly address?: Address | undefined;
      /** Only update a key that is in the list; never add one (a forgotten key stays forgotten). */
      readonly onlyIfKnown?: boolean | undefined;
    }
  | { readonly kind: 'forget'; readonly publicKey: string }
  | { readonly kind: 'rename'; readonly publicKey: string; readonly nick: string }
  | { readonly kind: 'verify'; readonly publicKey: string; readonly at: string };

/** Keys the list keeps that the person never verified nor renamed (see above): about 300 KB of file. */
export const MAX_UNMARKED_PEERS = 1_000;

/** Applies one change to `entries` (in place), by the rules above. */
export function applyChange(entries: KnownPeerEntry[], change: KnownPeersChange): void {
  const index = entries.findIndex((e) => e.publicKey === change.publicKey);
  const entry = entries[index];
  switch (change.kind) {
    case 'forget':
      if (index >= 0) entries.splice(index, 1);
      return;
    case 'rename':
      if (entry) {
        if (!entry.named) entry.peerNick = entry.nick;
        entry.nick = change.nick;
        entry.named = true;
      }
      return;
    case 'verify':
      if (entry) entry.verified = change.at;
      return;
    case 'remember': {
      if (!entry && change.onlyIfKnown) return;
      const { publicKey, nick, fingerprint, at, address } = change;
      const seen = entry ?? { publicKey, nick, fingerprint, firstSeen: at };
      if (!entry) {
        entries.push(seen);
        dropUnmarkedPastLimit(entries);
      } else if (nick && entry.named) entry.peerNick = nick;
      else if (nick) entry.nick = nick;
      seen.lastSeen = at;
      if (address) seen.lastAddress = { host: address.host, port: address.port };
      return;
    }
  }
}

/**
 * Past MAX_UNMARKED_PEERS unmarked keys, drops those seen longest ago (the newest, last, stays).
 * A list that grew past it before (an older netchat) is brought within it at once.
 */
function dropUnmarkedPastLimit(entries: KnownPeerEntry[]): void {
  const seen = (i: number) => {
    const e = entries[i] as KnownPeerEntry;
    return e.lastSeen ?? e.firstSeen;
  };
  const unmarked: number[] = [];
  for (let i = 0; i < entries.length - 1; i++) {
    const e = entries[i] as KnownPeerEntry;
    if (e.verified === undefined && !e.named) unmarked.push(i);
  }
  const excess = unmarked.length + 1 - MAX_UNMARKED_PEERS;
  if (excess <= 0) return;
  const dropped = unmarked
    .sort((a, b) => (seen(a) < seen(b) ? -1 : seen(a) > seen(b) ? 1 : a - b))
    .slice(0, excess);
  for (const i of dropped.sort((a, b) => b - a)) entries.splice(i, 1);
}

/** The file's text for `entries`. */
export function knownPeersText(entries: readonly KnownPeerEntry[]): string {
  return `${JSON.stringify({ version: 1, peers: entries }, null, 2)}\n`;
}

/**
 * What the file holds now: `missing` (none yet), `corrupt` (not a list of known peers: never
 * written over), `unreadable` (the system's error), or its peers and `version`, a stamp that
 * changes whenever the file is written (its inode, size and modification time, read from the
 * same open file as the text).
 */
export type KnownPeersRead =
  | { readonly kind: 'missing' }
  | { readonly kind: 'corrupt' }
  | { readonly kind: 'unreadable'; readonly error: unknown }
  | { readonly kind: 'read'; readonly peers: KnownPeerEntry[]; readonly version: string };

export function readKnownPeersFile(path: string): KnownPeersRead {
  let text: string;
  let version: string;
  try {
    const fd = openSync(path, 'r');
    try {
      version = versionOf(fstatSync(fd, { bigint: true }));
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'unreadable', error };
  }
  try {
    return { kind: 'read', peers: KnownPeersFile.parse(JSON.parse(text)).peers, version };
  } catch {
    return { kind: 'corrupt' };
  }
}

/** The file's stamp now (see KnownPeersRead), or undefined if there is none. */
export function knownPeersVersion(path: string): string | undefined {
  try {
    const stat = statSync(path, { bigint: true, throwIfNoEntry: false });
    return stat && versionOf(stat);
  } catch {
    return undefined;
  }
}

function versionOf(stat: { ino: bigint; size: bigint; mtimeNs: bigint }): string {
  // A save renames a new file over the old one: a new inode even when size and time repeat.
  return `${stat.ino}:${stat.size}:${stat.mtimeNs}`;
}

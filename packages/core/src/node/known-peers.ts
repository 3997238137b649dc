/**
 * The peers whose keys the user has accepted, with the nick they used: trust on first use, as
 * SSH's known_hosts. A request is then from a known key (and as whom), a new key, or (loudly) a
 * new key using the nick of a known peer: possibly someone pretending to be them.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { terminalSafe } from '../terminal-text.js';
import { IdentityError } from './identity-store.js';

const Entry = z.strictObject({
  publicKey: z.string().regex(/^[0-9a-f]{64}$/),
  nick: z.string().max(200),
  fingerprint: z.string(),
  firstSeen: z.string(),
});
const KnownPeersFile = z.strictObject({ version: z.literal(1), peers: z.array(Entry) });
type Entry = z.infer<typeof Entry>;

export type PeerTrust =
  | { status: 'known'; knownAs: string }
  | { status: 'new' }
  /** The key is new, but a known peer used this nick: warn before the user answers. */
  | { status: 'nick_conflict'; knownFingerprint: string };

export class KnownPeers {
  private constructor(
    private readonly path: string | undefined,
    private readonly entries: Entry[],
  ) {}

  /** Reads `known_peers.json` in `home` (none yet is fine). Throws IdentityError if corrupt. */
  static load(home: string): KnownPeers {
    const path = join(home, 'known_peers.json');
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new KnownPeers(path, []);
      throw new IdentityError(`cannot read ${path}: ${(error as Error).message}`);
    }
    try {
      return new KnownPeers(path, KnownPeersFile.parse(JSON.parse(text)).peers);
    } catch {
      throw new IdentityError(`${path} is corrupt; move it away to start a new list of known peers`);
    }
  }

  /** A list kept in memory only (tests, and a bot that trusts no one in particular). */
  static inMemory(): KnownPeers {
    return new KnownPeers(undefined, []);
  }

  /** Every known peer (key as hex), oldest first: whom to accept introductions from, and nicks to find. */
  list(): readonly Readonly<Pick<Entry, 'publicKey' | 'nick' | 'fingerprint'>>[] {
    return this.entries;
  }

  check(publicKey: string, nick: string): PeerTrust {
    const known = this.entries.find((e) => e.publicKey === publicKey);
    if (known) return { status: 'known', knownAs: known.nick };
    const sameNick = nick === '' ? undefined : this.entries.find((e) => e.nick === nick);
    return sameNick ? { status: 'nick_conflict', knownFingerprint: sameNick.fingerprint } : { status: 'new' };
  }

  /** Trusts `publicKey` from now on, under `nick`. */
  remember(publicKey: string, nick: string, fingerprint: string, now = new Date()): void {
    const existing = this.entries.find((e) => e.publicKey === publicKey);
    if (existing) {
      if (nick) existing.nick = nick;
    } else {
      this.entries.push({ publicKey, nick, fingerprint, firstSeen: now.toISOString() });
    }
    this.save();
  }

  private save(): void {
    if (!this.path) return;
    const dir = join(this.path, '..');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify({ version: 1, peers: this.entries }, null, 2)}\n`, {
      mode: 0o600,
    });
    renameSync(temporary, this.path);
  }
}

/** How far a peer's key can be trusted: seen before, never seen, or a new key using a known nick. */
export type TrustLevel = 'known' | 'new' | 'impersonation';

/** The trust decision as data, for front-ends to word and style (no strings to sniff). */
export interface TrustAssessment {
  readonly level: TrustLevel;
  /** The peer's key fingerprint, as the handshake proved it. */
  readonly fingerprint: string;
  /** The nick the peer gave now (raw: make it terminal-safe before showing it). */
  readonly nick: string;
  /** `known`: the nick this key had when it was remembered. */
  readonly knownAs?: string;
  /** `impersonation`: the fingerprint of the key that the known peer with this nick has. */
  readonly knownFingerprint?: string;
}

/** The structured form of `KnownPeers.check` for one peer. */
export function assessTrust(fingerprint: string, nick: string, trust: PeerTrust): TrustAssessment {
  switch (trust.status) {
    case 'known':
      return { level: 'known', fingerprint, nick, knownAs: trust.knownAs };
    case 'new':
      return { level: 'new', fingerprint, nick };
    case 'nick_conflict':
      return { level: 'impersonation', fingerprint, nick, knownFingerprint: trust.knownFingerprint };
  }
}

/**
 * What to tell a person about a peer's key, one line each: the fingerprint and whether it is
 * known, or a loud warning first when a new key uses a known nick.
 */
export function describeTrust(fingerprint: string, nick: string, trust: PeerTrust): string[] {
  const shownNick = terminalSafe(nick);
  switch (trust.status) {
    case 'known':
      return [`Fingerprint: ${fingerprint} (known as ${terminalSafe(trust.knownAs)})`];
    case 'new':
      return [`Fingerprint: ${fingerprint} (new: this key has not been seen before)`];
    case 'nick_conflict':
      return [
        `WARNING: this peer calls itself "${shownNick}", but its key is not the key of the ${shownNick} you know (${trust.knownFingerprint}). It may be someone else.`,
        `Fingerprint: ${fingerprint} (new)`,
      ];
  }
}

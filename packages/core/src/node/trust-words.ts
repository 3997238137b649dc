/**
 * A trust decision in words and as data for the front-ends: what to call a peer, how far its key
 * is trusted (`assessTrust`), and the lines a person reads about it (`describeTrust`).
 */
import { terminalSafe } from '../terminal-text.js';
import type { PeerTrust } from './known-peers.js';

/**
 * What to call a peer: its nick, or when it has none (an empty nick is allowed on the wire) or
 * one of spaces only, the first group of its fingerprint ("YRZP"), never an empty name. Raw:
 * make it terminal-safe.
 */
export function peerName(nick: string, fingerprint: string): string {
  return nick.trim() !== '' ? nick : (fingerprint.split('-')[0] ?? fingerprint);
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
  /**
   * `known`: the user verified this key. `impersonation`: the user verified the key of the known
   * peer with this nick, so this key is refused (until that peer is forgotten).
   */
  readonly verified?: boolean;
  /** `impersonation`: the fingerprint of the key that the known peer with this nick has. */
  readonly knownFingerprint?: string;
}

/** The structured form of `KnownPeers.check` for one peer. */
export function assessTrust(fingerprint: string, nick: string, trust: PeerTrust): TrustAssessment {
  switch (trust.status) {
    case 'known':
      return {
        level: 'known',
        fingerprint,
        nick,
        knownAs: trust.knownAs,
        ...(trust.verified && { verified: true }),
      };
    case 'new':
      return { level: 'new', fingerprint, nick };
    case 'nick_conflict':
      return {
        level: 'impersonation',
        fingerprint,
        nick,
        knownFingerprint: trust.knownFingerprint,
        ...(trust.verified && { verified: true }),
      };
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
      return [`Fingerprint: ${fingerprint} (known as ${terminalSafe(peerName(trust.knownAs, fingerprint))})`];
    case 'new':
      return [`Fingerprint: ${fingerprint} (new: this key has not been seen before)`];
    case 'nick_conflict':
      return [
        `WARNING: this peer calls itself "${shownNick}", but its key is not the key of the ${shownNick} you know (${trust.knownFingerprint}). It may be someone else.`,
        `Fingerprint: ${fingerprint} (new)`,
      ];
  }
}

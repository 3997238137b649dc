/**
 * What shell completion offers from the known peers (known_peers.json): where they were last
 * seen, as `HOST:PORT`, after `--connect`; their names for a NAME (`netchat history NAME`,
 * `netchat contacts forget NAME`); their fingerprints for a FINGERPRINT (`contacts verify`).
 *
 * A nick is chosen by the peer, so it may hold anything: a word the shell would expand or split
 * (`$(…)`, a space, a quote) is never offered, nor a nick two peers share (it would name no
 * one); the peer's fingerprint stands in for it, a word of A-Z, 2-7 and dashes only.
 */
import { formatAddress, type KnownPeer, KnownPeers } from '@netchat/core';

/** The known peers, or none if the list is missing or cannot be read (completion never fails loudly). */
function knownPeers(home: string): KnownPeer[] {
  try {
    return KnownPeers.load(home).list();
  } catch {
    return [];
  }
}

/** The addresses, most recent first, once each. */
export function knownPeerAddresses(home: string): string[] {
  const addresses = knownPeers(home).flatMap((peer) =>
    peer.lastAddress ? [formatAddress(peer.lastAddress)] : [],
  );
  return [...new Set(addresses)];
}

/** A word every shell inserts as it is: letters, digits and . _ @ + - (not first). */
const PLAIN_WORD = /^[\p{L}\p{N}_][\p{L}\p{N}._@+-]*$/u;

/** Each known peer's nick where it is a plain word no other peer has, else its fingerprint. */
export function knownPeerNames(home: string): string[] {
  const peers = knownPeers(home);
  const folded = (nick: string) => nick.toLowerCase();
  const count = new Map<string, number>();
  for (const p of peers) count.set(folded(p.nick), (count.get(folded(p.nick)) ?? 0) + 1);
  return peers.map((p) =>
    PLAIN_WORD.test(p.nick) && count.get(folded(p.nick)) === 1 ? p.nick : p.fingerprint,
  );
}

export function knownPeerFingerprints(home: string): string[] {
  return knownPeers(home).map((p) => p.fingerprint);
}

/** The words that fill a placeholder of a command's usage line (none for one such as NEW or TEXT). */
export function placeholderWords(home: string, placeholder: string): string[] {
  if (placeholder === 'NAME') return knownPeerNames(home);
  if (placeholder === 'FINGERPRINT') return knownPeerFingerprints(home);
  return [];
}

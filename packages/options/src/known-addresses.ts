/**
 * Where the known peers were last seen (`lastAddress` in known_peers.json), most recent first,
 * as `HOST:PORT`: what shell completion offers after `--connect`.
 */
import { formatAddress, KnownPeers } from '@netchat/core';

/** The addresses, once each; none if the list is missing or cannot be read (completion never fails loudly). */
export function knownPeerAddresses(home: string): string[] {
  let peers: ReturnType<KnownPeers['list']>;
  try {
    peers = KnownPeers.load(home).list();
  } catch {
    return [];
  }
  const addresses = peers.flatMap((peer) => (peer.lastAddress ? [formatAddress(peer.lastAddress)] : []));
  return [...new Set(addresses)];
}

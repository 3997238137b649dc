/** Reading a peer's address as people type it, before anything is looked up. */
import { errors, type PeerSpec, parsePeerSpec } from '@netchat/core';
import { isIP } from 'node:net';

/**
 * "IP PORT", "HOST:PORT", "[IPv6]:PORT". A host made only of digits and dots must be an IPv4
 * address: `256.1.1.1` is a mistyped address, never a host name to look up.
 */
export function parsePeer(text: string): PeerSpec {
  return checkPeer(parsePeerSpec(text), text);
}

/** The same check for a spec parsed elsewhere (a flag). Throws INVALID_ADDRESS. */
export function checkPeer(spec: PeerSpec, typed = `${spec.host} ${spec.port}`): PeerSpec {
  if (/^[\d.]+$/.test(spec.host) && isIP(spec.host) !== 4)
    throw errors.invalidAddress(typed, `"${spec.host}" is not an IPv4 address (four numbers, each 0-255)`);
  return spec;
}

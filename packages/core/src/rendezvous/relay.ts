/**
 * The relay fallback: when no direct path opens, a peer's packets travel through the rendezvous
 * inside `relay` packets, still sealed end to end (the relay sees ciphertext and addresses only).
 * A peer reached through the relay has a virtual address: host `relay`, port its relay tag (the
 * number the rendezvous gave its registration). The endpoint wraps every packet to such an
 * address in a relay packet to the rendezvous, and unwraps relay packets from it.
 */
import type { Address } from '../address.js';
import { makeCodec } from '../wire/codec.js';
import { rest, u32 } from '../wire/fields.js';
import { MAGIC } from '../wire/header.js';
import { define, MAX_DATAGRAM_BYTES } from '../wire/messages.js';
import { PACKET_VERSION } from '../wire/packets.js';
import type { z } from 'zod';

/** The host of a virtual relayed address (not an IP, so it can never be a real peer's). */
export const RELAY_HOST = 'relay';
export const RELAY_PACKET_CODE = 6;
/** Header and tag: a relay packet may be this much longer than the 1200-byte limit (1256 with IPv6 and UDP headers, within 1280). */
export const RELAY_OVERHEAD_BYTES = 8;

/** A netchat packet (handshake or data) for or from the peer with relay tag `tag`. */
export const RelayPacket = define('relay', RELAY_PACKET_CODE, {
  tag: u32,
  inner: rest(1, MAX_DATAGRAM_BYTES),
});
export type RelayPacket = z.infer<typeof RelayPacket.schema>;

const codec = makeCodec<RelayPacket>(
  PACKET_VERSION,
  [RelayPacket],
  MAX_DATAGRAM_BYTES + RELAY_OVERHEAD_BYTES,
);
export const encodeRelay = codec.encode;
export const decodeRelay = codec.decode;

/** Whether a datagram claims to be a relay packet (it may still fail to decode). */
export function isRelayPacket(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 &&
    bytes[3] === RELAY_PACKET_CODE &&
    bytes[2] === PACKET_VERSION &&
    bytes[0] === MAGIC >> 8
  );
}

export function relayAddress(tag: number): Address {
  return { host: RELAY_HOST, port: tag };
}

export function isRelayed(address: Address): boolean {
  return address.host === RELAY_HOST;
}

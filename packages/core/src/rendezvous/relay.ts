/**
 * The `relay` packet: a netchat packet (handshake or data, sealed end to end) carried through
 * the rendezvous between two introduced clients, when no direct path opens (PROTOCOL.md, "Relay").
 *
 * Every relay packet is authenticated with the relay key of the client at its end (given to it,
 * sealed, in `registered`): a client's packets to the rendezvous under its own key, the
 * rendezvous's packets to a client under that client's key. A counter under each key and a
 * replay window make a copy worth nothing, so a packet is attributed to the registered client
 * that made it, never to whoever sent a datagram from its address.
 *
 * A relayed peer has a virtual address that can never be a real one: host `relay`, and a port of
 * the client's own for the peer's tag (relay-paths.ts).
 */
import type { z } from 'zod';
import type { Address } from '../address.js';
import { MAC_BYTES, mac16 } from '../secure/crypto.js';
import { fixedBytes, rest, u32 } from '../wire/fields.js';
import { MAGIC } from '../wire/header.js';
import { define, MAX_DATAGRAM_BYTES } from '../wire/messages.js';
import { makeCodec } from '../wire/codec.js';
import { decodePacket, PACKET_VERSION, readDataPacket } from '../wire/packets.js';

export const RELAY_HOST = 'relay';
export const RELAY_PACKET_CODE = 6;
/** Header, from, to, counter and MAC: a relay packet is this much longer than its inner packet. */
export const RELAY_OVERHEAD_BYTES = 4 + 4 + 4 + 4 + MAC_BYTES;
/** The bytes the MAC covers before the inner packet (header, from, to, counter). */
const AUTHENTICATED_HEADER_BYTES = 16;

/**
 * `from`: the sending client's tag; `to`: the receiving client's tag (neither is ever 0).
 * `counter`: the sender's count of relay packets under the key (0, 1, ...); `mac`: keyed
 * BLAKE2b-128 of the packet without its `mac` (the first 16 bytes, then `inner`).
 */
export const RelayPacket = define(
  'relay',
  RELAY_PACKET_CODE,
  {
    from: u32,
    to: u32,
    counter: u32,
    mac: fixedBytes(MAC_BYTES),
    inner: rest(1, MAX_DATAGRAM_BYTES),
  },
  (value) => (value.from === 0 || value.to === 0 ? 'relay tag 0 is no tag' : undefined),
);
export type RelayPacket = z.infer<typeof RelayPacket.schema>;

const codec = makeCodec<RelayPacket>(
  PACKET_VERSION,
  [RelayPacket],
  MAX_DATAGRAM_BYTES + RELAY_OVERHEAD_BYTES,
);
/** Bytes to a relay packet (its MAC not yet checked), or why they are not one. Never throws. */
export const decodeRelay = codec.decode;

const NO_MAC = new Uint8Array(MAC_BYTES);

/** A relay packet, its MAC computed under `key`. */
export function sealRelay(
  fields: { from: number; to: number; counter: number; inner: Uint8Array },
  key: Uint8Array,
): Uint8Array {
  const bytes = codec.encode({ type: 'relay', ...fields, mac: NO_MAC });
  bytes.set(macOf(bytes, key), AUTHENTICATED_HEADER_BYTES);
  return bytes;
}

/** Whether the relay packet `bytes` (decoded as `packet`) carries a valid MAC under `key`. */
export function authentic(bytes: Uint8Array, packet: RelayPacket, key: Uint8Array): boolean {
  const expected = macOf(bytes, key);
  let difference = 0;
  for (let i = 0; i < MAC_BYTES; i++) difference |= (expected[i] as number) ^ (packet.mac[i] as number);
  return difference === 0;
}

/** Reused by every MAC: read (or copied) at once, never kept. */
const macScratch = new Uint8Array(MAC_BYTES);

function macOf(bytes: Uint8Array, key: Uint8Array): Uint8Array {
  const parts = [
    bytes.subarray(0, AUTHENTICATED_HEADER_BYTES),
    bytes.subarray(AUTHENTICATED_HEADER_BYTES + MAC_BYTES),
  ];
  return mac16(key, parts, macScratch);
}

/** Whether a datagram claims to be a relay packet (it may still fail to decode). */
export function looksLikeRelay(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 &&
    bytes[3] === RELAY_PACKET_CODE &&
    bytes[2] === PACKET_VERSION &&
    bytes[0] === MAGIC >> 8
  );
}

/**
 * Whether `inner` is a netchat packet a relay carries: a handshake packet or a `data` packet
 * that decodes. A relay packet inside a relay packet, or anything else, is not.
 */
export function isNetchatPacket(inner: Uint8Array): boolean {
  return readDataPacket(inner) !== undefined || decodePacket(inner).ok;
}

/** A virtual address: host `relay`, `port` a local number standing for a relay tag (relay-paths.ts). */
export function relayAddress(port: number): Address {
  return { host: RELAY_HOST, port };
}

export function isRelayed(address: Address): boolean {
  return address.host === RELAY_HOST;
}

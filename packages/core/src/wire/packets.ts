/**
 * The datagrams on the wire since protocol version 2: a Noise XX handshake (with a stateless
 * cookie first, so a responder keeps nothing for an address it has not heard back from), then
 * `data` packets sealed with ChaCha20-Poly1305 under an explicit 64-bit counter. Everything a
 * session says (requests, text, heartbeats, closing) travels inside `data`.
 */
import type { z } from 'zod';
import { makeCodec } from './codec.js';
import { fixedBytes, rest, u32, u64 } from './fields.js';
import { MAGIC } from './header.js';
import { define, MAX_DATAGRAM_BYTES } from './messages.js';

export const PACKET_VERSION = 2;
export const COOKIE_BYTES = 16;

const senderIndex = u32;
const receiverIndex = u32;

/** Noise XX message 1 (the initiator's ephemeral key), with the cookie once the responder gave one. */
export const HandshakeInit = define('handshake_init', 1, {
  senderIndex,
  cookie: fixedBytes(COOKIE_BYTES),
  noise: rest(32, 32),
});
/** The responder's answer to an init without a valid cookie: come back with this one. */
export const CookieReply = define('cookie_reply', 2, { receiverIndex, cookie: fixedBytes(COOKIE_BYTES) });
/** Noise XX message 2: e, ee, s, es (and an empty encrypted payload). */
export const HandshakeResponse = define('handshake_response', 3, {
  senderIndex,
  receiverIndex,
  noise: rest(96, 96),
});
/** Noise XX message 3: s, se (and an empty encrypted payload). */
export const HandshakeFinal = define('handshake_final', 4, { receiverIndex, noise: rest(64, 64) });
/** A sealed payload: a session message, a path challenge or response, or nothing (a keepalive). */
export const Data = define('data', 5, {
  receiverIndex,
  counter: u64,
  ciphertext: rest(16, MAX_DATAGRAM_BYTES),
});

export const PACKET_DEFINITIONS = [
  HandshakeInit,
  CookieReply,
  HandshakeResponse,
  HandshakeFinal,
  Data,
] as const;

export type HandshakeInit = z.infer<typeof HandshakeInit.schema>;
export type CookieReply = z.infer<typeof CookieReply.schema>;
export type HandshakeResponse = z.infer<typeof HandshakeResponse.schema>;
export type HandshakeFinal = z.infer<typeof HandshakeFinal.schema>;
export type Data = z.infer<typeof Data.schema>;
export type Packet = HandshakeInit | CookieReply | HandshakeResponse | HandshakeFinal | Data;

const packetCodec = makeCodec<Packet>(PACKET_VERSION, PACKET_DEFINITIONS, MAX_DATAGRAM_BYTES);
export const encodePacket = packetCodec.encode;
/** Bytes to a packet, or why they are not one. Never throws. */
export const decodePacket = packetCodec.decode;

/** The bytes of a data packet before its ciphertext: authenticated as associated data. */
export const DATA_HEADER_BYTES = 4 + 4 + 8;

/**
 * The hot path: a data packet read straight from its bytes, with the same checks the schema
 * makes (lengths, magic, version, type, a counter within 2^53). Anything else, or anything this
 * does not recognise, goes through decodePacket. The tests hold the two to the same answers.
 */
export function readDataPacket(
  bytes: Uint8Array,
): { receiverIndex: number; counter: number; ciphertext: Uint8Array } | undefined {
  if (bytes.length < DATA_HEADER_BYTES + 16 || bytes.length > MAX_DATAGRAM_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0) !== MAGIC || bytes[2] !== PACKET_VERSION || bytes[3] !== Data.code) return undefined;
  const high = view.getUint32(8);
  if (high >= 2 ** 21) return undefined;
  return {
    receiverIndex: view.getUint32(4),
    counter: high * 2 ** 32 + view.getUint32(12),
    ciphertext: bytes.subarray(DATA_HEADER_BYTES),
  };
}

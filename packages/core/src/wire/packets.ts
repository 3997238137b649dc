/**
 * The datagrams on the wire since protocol version 2: a Noise XX handshake (with a stateless
 * cookie first, so a responder keeps nothing for an address it has not heard back from), then
 * `data` packets sealed with ChaCha20-Poly1305 under an explicit 64-bit counter. Everything a
 * session says (requests, text, heartbeats, closing) travels inside `data`.
 */
import type { z } from 'zod';
import { makeCodec } from './codec.js';
import { fixedBytes, padding, rest, u32, u64 } from './fields.js';
import { MAGIC, MAX_LARGE_DATAGRAM_BYTES } from './header.js';
import { define } from './messages.js';

export const PACKET_VERSION = 2;
export const COOKIE_BYTES = 16;

const senderIndex = u32;
const receiverIndex = u32;

/** A handshake_response: header, two indices, Noise message 2 (e, ee, s, es, empty payload). */
export const HANDSHAKE_RESPONSE_BYTES = 4 + 4 + 4 + 96;
/**
 * Zeros that make an init as long as the response it may get without a cookie round trip, so
 * that a responder never answers an address it has not proven with more bytes than it sent.
 */
export const INIT_PADDING_BYTES = HANDSHAKE_RESPONSE_BYTES - (4 + 4 + COOKIE_BYTES + 32);
export const HANDSHAKE_INIT_BYTES = HANDSHAKE_RESPONSE_BYTES;

/** Noise XX message 1 (the initiator's ephemeral key), with the cookie once the responder gave one. */
export const HandshakeInit = define('handshake_init', 1, {
  senderIndex,
  cookie: fixedBytes(COOKIE_BYTES),
  noise: fixedBytes(32),
  padding: padding(INIT_PADDING_BYTES),
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
/** The bytes of a data packet before its ciphertext: authenticated as associated data. */
export const DATA_HEADER_BYTES = 4 + 4 + 8;

/**
 * A sealed payload: a session message, a path challenge or response, or nothing (a keepalive).
 * Up to 1200 bytes, or 1452 to a peer that takes large datagrams: the codec takes both, the
 * secure layer drops what is larger than its own limit first (SecureOptions.maxDatagramBytes).
 */
export const Data = define('data', 5, {
  receiverIndex,
  counter: u64,
  ciphertext: rest(16, MAX_LARGE_DATAGRAM_BYTES - DATA_HEADER_BYTES),
});

export const PACKET_DEFINITIONS = [
  HandshakeInit,
  CookieReply,
  HandshakeResponse,
  HandshakeFinal,
  Data,
] as const;

export type HandshakeInit = Omit<z.infer<typeof HandshakeInit.schema>, 'padding'> & { padding?: undefined };
export type CookieReply = z.infer<typeof CookieReply.schema>;
export type HandshakeResponse = z.infer<typeof HandshakeResponse.schema>;
export type HandshakeFinal = z.infer<typeof HandshakeFinal.schema>;
export type Data = z.infer<typeof Data.schema>;
export type Packet = HandshakeInit | CookieReply | HandshakeResponse | HandshakeFinal | Data;

const packetCodec = makeCodec<Packet>(PACKET_VERSION, PACKET_DEFINITIONS, MAX_LARGE_DATAGRAM_BYTES);
export const encodePacket = packetCodec.encode;
/** Bytes to a packet, or why they are not one. Never throws. */
export const decodePacket = packetCodec.decode;

/**
 * The hot path: a data packet read straight from its bytes, with the same checks the schema
 * makes (lengths, magic, version, type, a counter within 2^53). Anything else, or anything this
 * does not recognise, goes through decodePacket. The tests hold the two to the same answers.
 */
export function readDataPacket(
  bytes: Uint8Array,
): { receiverIndex: number; counter: number; ciphertext: Uint8Array } | undefined {
  if (bytes.length < DATA_HEADER_BYTES + 16 || bytes.length > MAX_LARGE_DATAGRAM_BYTES) return undefined;
  // Byte by byte: a DataView per datagram costs more than the reads.
  if (bytes[0] !== MAGIC >>> 8 || bytes[1] !== (MAGIC & 0xff)) return undefined;
  if (bytes[2] !== PACKET_VERSION || bytes[3] !== Data.code) return undefined;
  const high = readU32(bytes, 8);
  if (high >= 2 ** 21) return undefined;
  return {
    receiverIndex: readU32(bytes, 4),
    counter: high * 2 ** 32 + readU32(bytes, 12),
    ciphertext: bytes.subarray(DATA_HEADER_BYTES),
  };
}

/** Big-endian. */
function readU32(bytes: Uint8Array, offset: number): number {
  return (
    (bytes[offset] as number) * 0x1000000 +
    (((bytes[offset + 1] as number) << 16) |
      ((bytes[offset + 2] as number) << 8) |
      (bytes[offset + 3] as number))
  );
}

/** Where an init's fields are: the responder reads them in place, before (and often instead of) decoding. */
export const INIT_SENDER_INDEX_OFFSET = 4;
export const INIT_COOKIE_OFFSET = 8;
export const INIT_NOISE_OFFSET = INIT_COOKIE_OFFSET + COOKIE_BYTES;

/**
 * An init read straight from its bytes, with the checks the schema makes (length, magic,
 * version, type); undefined for anything else. Views, not copies. The tests hold it to the same
 * answers as decodePacket.
 */
export function readInitPacket(
  bytes: Uint8Array,
): { senderIndex: number; cookie: Uint8Array; noise: Uint8Array } | undefined {
  if (bytes.length !== HANDSHAKE_INIT_BYTES) return undefined;
  if (bytes[0] !== MAGIC >> 8 || bytes[1] !== (MAGIC & 0xff) || bytes[2] !== PACKET_VERSION) return undefined;
  if (bytes[3] !== HandshakeInit.code) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    senderIndex: view.getUint32(INIT_SENDER_INDEX_OFFSET),
    cookie: bytes.subarray(INIT_COOKIE_OFFSET, INIT_NOISE_OFFSET),
    noise: bytes.subarray(INIT_NOISE_OFFSET, INIT_NOISE_OFFSET + 32),
  };
}

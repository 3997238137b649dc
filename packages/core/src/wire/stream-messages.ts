/**
 * The session messages of issue 19 (PROTOCOL.md, "Capabilities" and "Streams"): what a peer
 * supports (`features`), and the stream packet space (`stream_data`, `stream_ack`,
 * `stream_credit`, `stream_reset`, `stream_stop`, `stream_limit`). They are version-2 session
 * messages beside the text ones (messages.ts builds one codec of all of them): a peer that
 * predates them drops them as unknown codes, harmlessly.
 *
 * Every stream-space message but `stream_ack` carries a `packet` number from its path's one
 * packet-number space (all sessions and streams to one peer address), is ack-eliciting and is
 * acknowledged by `stream_ack`, QUIC style: a retransmission is a new packet.
 */
import type { z } from 'zod';
import { define } from './define.js';
import { flag8, rest, u8, u16, u32, u64 } from './fields.js';
import {
  HEADER_BYTES,
  MAGIC,
  MAX_LARGE_MESSAGE_BYTES,
  MAX_MESSAGE_DATAGRAM_BYTES,
  MESSAGE_VERSION,
} from './header.js';

/** `features` bit: the sender takes and opens streams (the messages below). */
export const FEATURE_STREAMS = 1;
/** `features` bit: the sender takes file offers (PROTOCOL.md, Files: transfers); sent only with FEATURE_STREAMS. */
export const FEATURE_FILES = 2;
/**
 * `features` bit: the sender takes `data` packets of up to MAX_LARGE_DATAGRAM_BYTES (1452) from
 * this peer, and answers `pmtu_probe` (PROTOCOL.md, Datagram size). Without it, every datagram
 * to it stays within 1200 bytes.
 */
export const FEATURE_LARGE_DATAGRAMS = 4;
/** `features` flags bit: the sender has not heard the receiver's features yet, and asks for them. */
export const FEATURES_ASK = 1;

/** Header, session, packet, stream, offset, fin: the bytes of a `stream_data` before its payload. */
export const STREAM_DATA_OVERHEAD_BYTES = HEADER_BYTES + 4 + 8 + 4 + 8 + 1;
/** The most stream bytes one `stream_data` carries (its data packet is then exactly 1200 bytes). */
export const MAX_STREAM_PAYLOAD_BYTES = MAX_MESSAGE_DATAGRAM_BYTES - STREAM_DATA_OVERHEAD_BYTES;
/** The same in a large datagram, on a path proven to carry 1452 bytes (its data packet is then exactly 1452 bytes). */
export const MAX_LARGE_STREAM_PAYLOAD_BYTES = MAX_LARGE_MESSAGE_BYTES - STREAM_DATA_OVERHEAD_BYTES;
/** Header, session, packet: the bytes of a `pmtu_probe` before its padding. */
export const PMTU_PROBE_OVERHEAD_BYTES = HEADER_BYTES + 4 + 8;
/** A stream's bytes are numbered below this (offsets and sizes are u64 on the wire, numbers here). */
export const MAX_STREAM_OFFSET = Number.MAX_SAFE_INTEGER;
/** Gap and length pairs a `stream_ack` may carry after its first range (QUIC's ACK ranges). */
export const MAX_ACK_EXTRA_RANGES = 31;
const ACK_RANGE_BYTES = 8;

/** What the sender supports and grants, sent with every `connect_request` and before every `accept`. */
export const Features = define('features', 10, {
  session: u32,
  /** Bits: FEATURE_STREAMS, FEATURE_FILES; a receiver ignores bits it does not know. */
  features: u32,
  /** Bits: FEATURES_ASK; a receiver ignores bits it does not know. */
  flags: u8,
  /** The receive window the sender grants each stream the receiver opens to it, in bytes. */
  streamWindow: u32,
  /** How many streams the receiver may open to the sender (a cumulative count; stream_limit raises it). */
  maxStreams: u32,
});

/** Bytes of a stream: `payload` goes at `offset`; `fin` (0 or 1) says the stream ends after it. */
export const StreamData = define(
  'stream_data',
  11,
  {
    session: u32,
    packet: u64,
    stream: u32,
    offset: u64,
    fin: flag8,
    // Up to 1139 bytes, or 1391 in a large datagram (a receiver that takes none drops the packet first).
    payload: rest(0, MAX_LARGE_STREAM_PAYLOAD_BYTES),
  },
  (value) => {
    if (value.payload.length === 0 && value.fin === 0) return 'no payload and no fin';
    if (value.offset + value.payload.length > MAX_STREAM_OFFSET) return 'ends beyond 2^53 - 1';
    return undefined;
  },
);

/**
 * Packet numbers received, as QUIC's ACK frame: `largest`, then the `firstRange` packets below
 * it, then `ranges`: pairs of u32 (gap, length), each range `gap` + 2 below the previous one's
 * smallest and `length` + 1 long. Not ack-eliciting, so it has no packet number of its own.
 */
export const StreamAck = define(
  'stream_ack',
  12,
  {
    session: u32,
    largest: u64,
    /** How long the acknowledgement of `largest` was held back, in 8 µs units (as text's ackDelay). */
    ackDelay: u16,
    firstRange: u32,
    ranges: rest(0, MAX_ACK_EXTRA_RANGES * ACK_RANGE_BYTES),
  },
  (value) => (ackRangeCount(value) < 0 ? 'ack ranges below packet 0 or not in pairs' : undefined),
);

/** Flow control, from a stream's receiver to its sender: the stream's bytes stay below `maxOffset`. */
export const StreamCredit = define('stream_credit', 13, {
  session: u32,
  packet: u64,
  stream: u32,
  maxOffset: u64,
});

/** The stream's sender gives up on it: `finalSize` bytes were ever sent; `code` is the application's reason. */
export const StreamReset = define('stream_reset', 14, {
  session: u32,
  packet: u64,
  stream: u32,
  finalSize: u64,
  code: u16,
});

/** The stream's receiver asks its sender to stop (it answers with stream_reset); `code` as in stream_reset. */
export const StreamStop = define('stream_stop', 15, {
  session: u32,
  packet: u64,
  stream: u32,
  code: u16,
});

/** The receiver now lets the sender open streams up to this many in all (a cumulative count). */
export const StreamLimit = define('stream_limit', 16, {
  session: u32,
  packet: u64,
  maxStreams: u32,
});

/**
 * A packet of the stream space that only tests the path's size (RFC 8899's probe packet, QUIC's
 * PING and PADDING): `padding` (zeros) makes its data packet as large as the size probed. It is
 * acknowledged like any packet of the space; its loss says the size did not get through, not
 * that the path is congested, and it is never sent again.
 */
export const PmtuProbe = define('pmtu_probe', 17, {
  session: u32,
  packet: u64,
  padding: rest(0, MAX_LARGE_MESSAGE_BYTES - PMTU_PROBE_OVERHEAD_BYTES),
});

export type Features = z.infer<typeof Features.schema>;
export type StreamData = z.infer<typeof StreamData.schema>;
export type StreamAck = z.infer<typeof StreamAck.schema>;
export type StreamCredit = z.infer<typeof StreamCredit.schema>;
export type StreamReset = z.infer<typeof StreamReset.schema>;
export type StreamStop = z.infer<typeof StreamStop.schema>;
export type StreamLimit = z.infer<typeof StreamLimit.schema>;
export type PmtuProbe = z.infer<typeof PmtuProbe.schema>;

export const STREAM_MESSAGE_DEFINITIONS = [
  Features,
  StreamData,
  StreamAck,
  StreamCredit,
  StreamReset,
  StreamStop,
  StreamLimit,
  PmtuProbe,
] as const;

/** The fields of a stream_ack that say which packets it acknowledges. */
interface AckFields {
  readonly largest: number;
  readonly firstRange: number;
  readonly ranges: Uint8Array;
}

/**
 * The ranges an ack names, as (smallest, largest) pairs highest first, written into `out` (room
 * for 2 × (1 + MAX_ACK_EXTRA_RANGES) numbers); returns how many, or -1 if it is malformed (a
 * range below packet 0, or `ranges` not whole pairs). Pass no `out` to only check.
 */
export function ackRangeCount(ack: AckFields, out?: Float64Array): number {
  const { ranges } = ack;
  if (ranges.length % ACK_RANGE_BYTES !== 0) return -1;
  let largest = ack.largest;
  let smallest = largest - ack.firstRange;
  if (smallest < 0) return -1;
  if (out) {
    out[0] = smallest;
    out[1] = largest;
  }
  let count = 1;
  for (let at = 0; at < ranges.length; at += ACK_RANGE_BYTES) {
    const gap = readU32(ranges, at);
    const length = readU32(ranges, at + 4);
    largest = smallest - gap - 2;
    smallest = largest - length;
    if (smallest < 0) return -1;
    if (out) {
      out[2 * count] = smallest;
      out[2 * count + 1] = largest;
    }
    count++;
  }
  return count;
}

/**
 * A stream_ack's `firstRange` and `ranges` for (smallest, largest) pairs highest first, disjoint
 * and not adjacent (as a receiver keeps them); at most 1 + MAX_ACK_EXTRA_RANGES pairs are used.
 */
export function encodeAckRanges(
  pairs: ArrayLike<number>,
  count: number,
): { largest: number; firstRange: number; ranges: Uint8Array } {
  const used = Math.min(count, 1 + MAX_ACK_EXTRA_RANGES);
  const largest = pairs[1] as number;
  const firstRange = Math.min(largest - (pairs[0] as number), 0xffffffff);
  const ranges = new Uint8Array((used - 1) * ACK_RANGE_BYTES);
  let smallest = largest - firstRange;
  let written = 0;
  for (let i = 1; i < used; i++) {
    const high = pairs[2 * i + 1] as number;
    const low = pairs[2 * i] as number;
    const gap = smallest - high - 2;
    const length = high - low;
    // A range too far below or too long for u32 is left out with everything below it: it was
    // acknowledged long ago (an acknowledgement may always say less than it could).
    if (gap < 0 || gap > 0xffffffff || length > 0xffffffff) break;
    writeU32(ranges, written, gap);
    writeU32(ranges, written + 4, length);
    written += ACK_RANGE_BYTES;
    smallest = low;
  }
  return { largest, firstRange, ranges: written === ranges.length ? ranges : ranges.subarray(0, written) };
}

/**
 * Writes a stream_data's bytes up to its payload (STREAM_DATA_OVERHEAD_BYTES) into `bytes`, as
 * the codec would: the sender copies the payload in after it, straight from the stream's buffer,
 * instead of building a message and encoding it (the tests hold the two to the same bytes).
 */
export function writeStreamDataHeader(
  bytes: Uint8Array,
  session: number,
  packet: number,
  stream: number,
  offset: number,
  fin: boolean,
): void {
  bytes[0] = MAGIC >>> 8;
  bytes[1] = MAGIC & 0xff;
  bytes[2] = MESSAGE_VERSION;
  bytes[3] = StreamData.code;
  writeU32(bytes, 4, session);
  writeU32(bytes, 8, Math.floor(packet / 4294967296));
  writeU32(bytes, 12, packet);
  writeU32(bytes, 16, stream);
  writeU32(bytes, 20, Math.floor(offset / 4294967296));
  writeU32(bytes, 24, offset);
  bytes[28] = fin ? 1 : 0;
}

/**
 * Writes a whole `pmtu_probe` of `size` bytes (its data packet is `size` + 32) into `bytes`: the
 * header, then zeros up to `size`.
 */
export function writePmtuProbe(bytes: Uint8Array, session: number, packet: number, size: number): void {
  bytes[0] = MAGIC >>> 8;
  bytes[1] = MAGIC & 0xff;
  bytes[2] = MESSAGE_VERSION;
  bytes[3] = PmtuProbe.code;
  writeU32(bytes, 4, session);
  writeU32(bytes, 8, Math.floor(packet / 4294967296));
  writeU32(bytes, 12, packet);
  bytes.fill(0, PMTU_PROBE_OVERHEAD_BYTES, size);
}

function readU32(bytes: Uint8Array, at: number): number {
  return (
    (bytes[at] as number) * 16777216 +
    (((bytes[at + 1] as number) << 16) | ((bytes[at + 2] as number) << 8) | (bytes[at + 3] as number))
  );
}

function writeU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = value >>> 16;
  bytes[at + 2] = value >>> 8;
  bytes[at + 3] = value;
}

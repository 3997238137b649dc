/**
 * The records of the file-transfer protocol (PROTOCOL.md, Files: transfers): what two peers say
 * about offers on their streams. Each record is defined once (`define`: a zod schema and its byte
 * layout from the same fields) and encoded like a session message (magic, version `0x20`, code,
 * fields); on a stream each is preceded by its length as a u16 (`frame`), so a reader knows where
 * it ends without knowing the record.
 *
 * Decoding never throws: anything wrong comes back as a reason (the stream that carried it broke
 * the protocol).
 */
import { z } from 'zod';
import { makeCodec } from '../wire/codec.js';
import { define } from '../wire/define.js';
import { enum8, type Field, fixedBytes, TruncatedError, u32, u64 } from '../wire/fields.js';
import { HEADER_BYTES } from '../wire/header.js';

/** The version byte of file records (session messages have 2, rendezvous messages 0x10). */
export const FILES_VERSION = 0x20;
/** Bytes of a record's length prefix on a stream. */
export const LENGTH_BYTES = 2;
/** The longest record (its length prefix not counted); a longer length breaks the protocol. */
export const MAX_RECORD_BYTES = 2048;
/** Bytes of an offer's id (random, picked by its sender). */
export const OFFER_ID_BYTES = 8;
/** Bytes of a file's BLAKE2b-256. */
export const FILE_HASH_BYTES = 32;
/** UTF-8 bytes of an offered path (names.ts: MAX_PATH_BYTES). */
const MAX_WIRE_PATH_BYTES = 1024;

/** Why a receiver says no to an offer. */
export const DECLINE_REASONS = [
  /** The person (or the program's policy for everyone) said no. */
  'declined',
  /** The download folder has less room than the offer needs (or its quota leaves), or cannot be written. */
  'no_room',
  /** A file is larger than the receiver takes. */
  'too_large',
  /** The receiver holds as many offers as it allows. */
  'too_many_offers',
  /** The offer breaks the rules: a name refused (Files: names), two files at one path, a limit. */
  'bad_offer',
  /** The receiver's access policy takes no files from this sender (a quota is `no_room`). */
  'not_allowed',
] as const;
export type OfferDeclineReason = (typeof DECLINE_REASONS)[number];

/** The receiver's last word on a file: verified and in place, or why not. */
export const VERDICTS = [
  'verified',
  'size_mismatch',
  'hash_mismatch',
  /** The disk filled: what arrived is kept, and the file goes on when it is offered again. */
  'disk_full',
  'write_failed',
  'not_a_folder',
  'no_free_name',
  /** The same file (sender, hash, size) is being received in another offer. */
  'busy',
  /**
   * Too little of the offer came for too long (Files: transfers, Limits): what arrived is kept,
   * and the file goes on when it is offered again.
   */
  'stalled',
] as const;
export type Verdict = (typeof VERDICTS)[number];

/** Why the sender cannot send a file it offered. */
export const SEND_FAILURES = ['source_changed', 'read_failed', 'not_a_file'] as const;
export type SendFailure = (typeof SEND_FAILURES)[number];

const offer = fixedBytes(OFFER_ID_BYTES);

/** A UTF-8 string preceded by its byte length as a u16, `minBytes` to `maxBytes` long. */
function str16(minBytes: number, maxBytes: number): Field<string> {
  const encoder = new TextEncoder();
  // ignoreBOM: a path that starts with U+FEFF keeps it (PROTOCOL.md, Transport: strings), so
  // every implementation maps and compares the same name.
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const inRange = (value: string) => {
    const length = encoder.encode(value).length;
    return length >= minBytes && length <= maxBytes;
  };
  return {
    schema: z.string().refine(inRange, `must be ${minBytes} to ${maxBytes} UTF-8 bytes`),
    size: (value) => 2 + encoder.encode(value).length,
    write(view, bytes, offset, value) {
      const { written } = encoder.encodeInto(value, bytes.subarray(offset + 2));
      view.setUint16(offset, written);
      return offset + 2 + written;
    },
    read(view, bytes, offset) {
      if (offset + 2 > bytes.length) throw new TruncatedError('record truncated');
      const length = view.getUint16(offset);
      if (offset + 2 + length > bytes.length) throw new TruncatedError('record truncated');
      // Invalid UTF-8 throws a TypeError, which the codec reports as such.
      return [decoder.decode(bytes.subarray(offset + 2, offset + 2 + length)), offset + 2 + length];
    },
  };
}

/** The offer's header: its files follow, one `offer_file` each, in order. */
export const Offer = define('offer', 1, { offer, files: u32, totalSize: u64 });
/** One file of an offer: its path relative to the offer, size and BLAKE2b-256. */
export const OfferFile = define('offer_file', 2, {
  offer,
  index: u32,
  size: u64,
  hash: fixedBytes(FILE_HASH_BYTES),
  // An empty path is the receiver's to refuse (Files: names), with the rest of the offer: not malformed.
  path: str16(0, MAX_WIRE_PATH_BYTES),
});
/** The receiver takes the offer; `held`: bytes of it it already holds (a resume), for the sender to show. */
export const Accept = define('accept', 3, { offer, held: u64 });
export const Decline = define('decline', 4, { offer, reason: enum8(DECLINE_REASONS) });
/** The receiver asks for a file from `offset` (the bytes of it it holds durably). */
export const Want = define('want', 5, { offer, index: u32, offset: u64 });
/** The first record of a data stream: the file's bytes from `offset` follow, to its end and the fin. */
export const Data = define('data', 6, { offer, index: u32, offset: u64 });
export const FileVerdict = define('verdict', 7, { offer, index: u32, result: enum8(VERDICTS) });
/** The sender cannot send a file: the receiver drops what it holds of it. */
export const FileFailed = define('file_failed', 8, { offer, index: u32, reason: enum8(SEND_FAILURES) });
/** The offer's sender cancels it. */
export const CancelSend = define('cancel_send', 9, { offer });
/** The offer's receiver cancels it (after accepting; before, it declines). */
export const CancelReceive = define('cancel_receive', 10, { offer });

export const RECORD_DEFINITIONS = [
  Offer,
  OfferFile,
  Accept,
  Decline,
  Want,
  Data,
  FileVerdict,
  FileFailed,
  CancelSend,
  CancelReceive,
] as const;

export type FileRecord = z.infer<(typeof RECORD_DEFINITIONS)[number]['schema']>;
export type FileRecordType = FileRecord['type'];
export type RecordOf<T extends FileRecordType> = Extract<FileRecord, { type: T }>;

const codec = makeCodec<FileRecord>(FILES_VERSION, RECORD_DEFINITIONS, MAX_RECORD_BYTES, {
  compile: false,
});

/** The record alone, without its length (the vectors are written so). */
export function encodeRecord(record: FileRecord): Uint8Array {
  return codec.encode(record);
}

export function decodeRecord(
  bytes: Uint8Array,
): { ok: true; record: FileRecord } | { ok: false; reason: string } {
  if (bytes.length < HEADER_BYTES) return { ok: false, reason: 'shorter than the header' };
  const decoded = codec.decode(bytes);
  return decoded.ok ? { ok: true, record: decoded.datagram } : decoded;
}

/** The record as it goes on a stream: its length as a u16, then the record. */
export function frame(record: FileRecord): Uint8Array {
  const body = encodeRecord(record);
  const framed = new Uint8Array(LENGTH_BYTES + body.length);
  framed[0] = body.length >>> 8;
  framed[1] = body.length & 0xff;
  framed.set(body, LENGTH_BYTES);
  return framed;
}

/** An offer id (8 bytes) as the hex the engine keys offers by. */
export function offerKey(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
}

export function offerBytes(key: string): Uint8Array {
  return Uint8Array.from(Buffer.from(key, 'hex'));
}

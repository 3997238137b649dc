/**
 * Field codecs: each pairs a zod schema (what a value may be) with how it is laid out in bytes.
 * A message is an ordered record of these, so one definition gives the type, the validation
 * and the byte layout, and they cannot drift apart.
 */
import { z } from 'zod';

/** Thrown only inside the decoder and caught there; never leaves `decodeDatagram`. */
export class TruncatedError extends Error {}

export interface Field<T> {
  readonly schema: z.ZodType<T>;
  /** Encoded size in bytes of `value`. */
  size(value: T): number;
  /** Writes `value` at `offset` and returns the offset after it. */
  write(view: DataView, bytes: Uint8Array, offset: number, value: T): number;
  /** Reads a value at `offset`; returns it with the offset after it. */
  read(view: DataView, bytes: Uint8Array, offset: number): [T, number];
  /**
   * Set on unsigned big-endian integers of this many bytes (u8, u16, u32): the codec reads and
   * writes those inline, without a call, a DataView or a tuple per field (the per-datagram path).
   */
  readonly unsignedBytes?: 1 | 2 | 4;
  /** Set on `rest`: every byte to the end of the datagram, which the codec copies or views inline. */
  readonly restOfDatagram?: true;
}

const utf8Encoder = new TextEncoder();
// fatal: a datagram with invalid UTF-8 is malformed, not silently repaired. ignoreBOM: a leading
// U+FEFF is a character of the string (PROTOCOL.md, Transport), not a mark to drop: without it a
// nick sent as "\ufeffbob" would arrive as "bob", and decode and encode would not agree.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function need(bytes: Uint8Array, offset: number, length: number): void {
  if (offset + length > bytes.length) throw new TruncatedError('datagram truncated');
}

/** What a value breaks, or undefined if it is valid: the same answer as the field's schema. */
export type ExactCheck = (value: unknown) => string | undefined;

/**
 * For each schema a factory below made, a check that gives the same answer as the schema for
 * any value the field's own `read` returns (null: `read` returns only valid values). The decoder
 * uses these instead of zod on the per-datagram path. Keyed by the schema itself, so a field whose
 * schema was replaced (`{ ...u32, schema: stricter }`) is not found, and goes through zod.
 */
const exactChecks = new WeakMap<z.ZodType, ExactCheck | null>();

function exact<S extends z.ZodType>(schema: S, check: ExactCheck | null): S {
  exactChecks.set(schema, check);
  return schema;
}

/** The exact check for `field` (null: none needed), or undefined if only its schema can tell. */
export function exactCheckOf(field: Field<unknown>): ExactCheck | null | undefined {
  return exactChecks.get(field.schema);
}

function unsigned(bits: 8 | 16 | 32): Field<number> {
  const width = (bits / 8) as 1 | 2 | 4;
  return {
    unsignedBytes: width,
    // `read` yields bits-wide unsigned integers only.
    schema: exact(
      z
        .number()
        .int()
        .min(0)
        .max(2 ** bits - 1),
      null,
    ),
    size: () => width,
    write(view, _bytes, offset, value) {
      if (bits === 8) view.setUint8(offset, value);
      else if (bits === 16) view.setUint16(offset, value);
      else view.setUint32(offset, value);
      return offset + width;
    },
    read(view, bytes, offset) {
      need(bytes, offset, width);
      const value =
        bits === 8 ? view.getUint8(offset) : bits === 16 ? view.getUint16(offset) : view.getUint32(offset);
      return [value, offset + width];
    },
  };
}

export const u8 = unsigned(8);
/** One byte that is 0 or 1 (a flag such as `fin`); any other value makes the message malformed. */
export const flag8: Field<number> = {
  ...unsigned(8),
  schema: exact(z.number().int().min(0).max(1), (value) =>
    (value as number) <= 1 ? undefined : 'must be 0 or 1',
  ),
};

export const u16 = unsigned(16);
export const u32 = unsigned(32);

/**
 * The UTF-8 length of a string, without encoding it (TextEncoder.encode allocates, and cost
 * about 1.9 µs for a 5-character nick here: most of a presence message's decoding). A lone
 * surrogate counts 3 bytes, as TextEncoder encodes it (U+FFFD).
 */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** A rule a string field's text must follow (a regular expression), and what breaking it is called. */
export interface TextRule {
  readonly pattern: RegExp;
  readonly message: string;
}

/**
 * A UTF-8 string preceded by its byte length in one byte, at most `maxBytes` long, and matching
 * `rule` if given. Both checks have exact equivalents, so such a field never needs zod per datagram.
 */
export function str8(maxBytes: number, rule?: TextRule): Field<string> {
  const byteLength = utf8Length;
  const tooLong = `longer than ${maxBytes} bytes`;
  const base = rule ? z.string().regex(rule.pattern, rule.message) : z.string();
  return {
    // zod reports the pattern before the length, and so does the exact check.
    schema: exact(
      base.refine((value) => byteLength(value) <= maxBytes, tooLong),
      (value) => {
        if (rule && !rule.pattern.test(value as string)) return rule.message;
        return byteLength(value as string) <= maxBytes ? undefined : tooLong;
      },
    ),
    size(value) {
      const length = byteLength(value);
      // Checked even on the trusted encode path: a longer string would corrupt its length byte.
      if (length > maxBytes) throw new RangeError(`string of ${length} bytes exceeds ${maxBytes}`);
      return 1 + length;
    },
    write(view, bytes, offset, value) {
      const { written } = utf8Encoder.encodeInto(value, bytes.subarray(offset + 1));
      view.setUint8(offset, written);
      return offset + 1 + written;
    },
    read(view, bytes, offset) {
      need(bytes, offset, 1);
      const length = view.getUint8(offset);
      need(bytes, offset + 1, length);
      return [utf8Decoder.decode(bytes.subarray(offset + 1, offset + 1 + length)), offset + 1 + length];
    },
  };
}

/** Every byte up to the end of the datagram. Decoding does not copy: it is a view of the datagram. */
export function rest(minBytes: number, maxBytes: number): Field<Uint8Array> {
  const wrongLength = `must be ${minBytes}..${maxBytes} bytes`;
  const inRange = (value: Uint8Array) => value.length >= minBytes && value.length <= maxBytes;
  return {
    restOfDatagram: true,
    schema: exact(z.instanceof(Uint8Array).refine(inRange, wrongLength), (value) =>
      inRange(value as Uint8Array) ? undefined : wrongLength,
    ),
    size: (value) => value.length,
    write(_view, bytes, offset, value) {
      bytes.set(value, offset);
      return offset + value.length;
    },
    read(_view, bytes, offset) {
      return [bytes.subarray(offset), bytes.length];
    },
  };
}

/** A one-byte code standing for one of a fixed list of names. */
export function enum8<const T extends readonly [string, ...string[]]>(names: T): Field<T[number]> {
  const known = new Set<string>(names);
  const schema = exact(z.enum(names), (value) =>
    known.has(value as string) ? undefined : `expected one of ${names.join('|')}`,
  );
  return {
    schema,
    size: () => 1,
    write(view, _bytes, offset, value) {
      view.setUint8(offset, names.indexOf(value));
      return offset + 1;
    },
    read(view, bytes, offset) {
      need(bytes, offset, 1);
      const index = view.getUint8(offset);
      // An unknown code becomes a value the schema rejects, so it is counted as malformed.
      return [(names[index] ?? `unknown(${index})`) as T[number], offset + 1];
    },
  };
}

/**
 * `length` bytes sent as zeros and ignored when read: no value to give when encoding, undefined
 * when decoded. (Typed `never` because the field lists take no `undefined` fields; a message's
 * type says what it really is.) It lets a request be as long as the longest answer it can bring.
 */
export function padding(length: number): Field<never> {
  return {
    // `read` yields undefined or throws.
    schema: exact(z.undefined().optional() as unknown as z.ZodType<never>, null),
    size: () => length,
    write: (_view, _bytes, offset) => offset + length, // a new message's bytes are already zero
    read(_view, bytes, offset) {
      need(bytes, offset, length);
      return [undefined as never, offset + length];
    },
  };
}

/** Exactly `length` bytes. Decoding does not copy. */
export function fixedBytes(length: number): Field<Uint8Array> {
  return {
    // `read` yields exactly `length` bytes or throws.
    schema: exact(
      z.instanceof(Uint8Array).refine((value) => value.length === length, `must be ${length} bytes`),
      null,
    ),
    size: () => length,
    write(_view, bytes, offset, value) {
      bytes.set(value, offset);
      return offset + length;
    },
    read(_view, bytes, offset) {
      need(bytes, offset, length);
      return [bytes.subarray(offset, offset + length), offset + length];
    },
  };
}

/** A 64-bit unsigned integer, big-endian, held as a JS number (so at most 2^53 - 1). */
export const u64: Field<number> = {
  // `read` yields an integer in 0..2^53 - 1, or -1.
  schema: exact(z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), (value) =>
    (value as number) >= 0 ? undefined : 'above 2^53 - 1',
  ),
  size: () => 8,
  write(view, _bytes, offset, value) {
    view.setUint32(offset, Math.floor(value / 2 ** 32));
    view.setUint32(offset + 4, value >>> 0);
    return offset + 8;
  },
  read(view, bytes, offset) {
    need(bytes, offset, 8);
    const high = view.getUint32(offset);
    // Above 2^53 a number would lose precision: make it a value the schema rejects.
    const value = high >= 2 ** 21 ? -1 : high * 2 ** 32 + view.getUint32(offset + 4);
    return [value, offset + 8];
  },
};

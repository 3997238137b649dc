/**
 * Bytes <-> typed messages, for any list of message definitions under one magic and version.
 * Decoding reads the fields once and validates once with the message's schema; it never
 * throws: anything wrong comes back as a reason to drop and count.
 */
import { type Field, TruncatedError } from './fields.js';
import { HEADER_BYTES, MAGIC } from './header.js';
import type { MessageDefinition } from './messages.js';

type AnyField = Field<unknown>;

export type DecodeResult<M> = { ok: true; datagram: M } | { ok: false; reason: string };

export interface Codec<M extends { type: string }> {
  encode(message: M): Uint8Array;
  decode(bytes: Uint8Array): DecodeResult<M>;
}

export function makeCodec<M extends { type: string }>(
  version: number,
  definitions: readonly MessageDefinition[],
  maxBytes: number,
): Codec<M> {
  const byCode = new Map(definitions.map((d) => [d.code, d]));
  const byName = new Map(definitions.map((d) => [d.name, d]));
  // Precomputed so the per-datagram path does no Object.entries.
  const fieldLists = new Map(definitions.map((d) => [d, Object.entries(d.fields) as [string, AnyField][]]));

  function encode(message: M): Uint8Array {
    const definition = byName.get(message.type);
    if (!definition) throw new TypeError(`unknown message type ${message.type}`);
    const fields = fieldLists.get(definition) ?? [];
    const values = message as unknown as Record<string, unknown>;
    let size = HEADER_BYTES;
    for (const [key, field] of fields) size += field.size(values[key]);
    if (size > maxBytes) throw new RangeError(`message of ${size} bytes exceeds ${maxBytes}`);
    const bytes = new Uint8Array(size);
    const view = new DataView(bytes.buffer);
    view.setUint16(0, MAGIC);
    view.setUint8(2, version);
    view.setUint8(3, definition.code);
    let offset = HEADER_BYTES;
    for (const [key, field] of fields) offset = field.write(view, bytes, offset, values[key]);
    return bytes;
  }

  function decode(bytes: Uint8Array): DecodeResult<M> {
    if (bytes.length < HEADER_BYTES) return { ok: false, reason: 'shorter than the header' };
    if (bytes.length > maxBytes) return { ok: false, reason: `longer than ${maxBytes} bytes` };
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (view.getUint16(0) !== MAGIC) return { ok: false, reason: 'bad magic' };
    if (view.getUint8(2) !== version) return { ok: false, reason: `unsupported version ${view.getUint8(2)}` };
    const definition = byCode.get(view.getUint8(3));
    if (!definition) return { ok: false, reason: `unknown message code ${view.getUint8(3)}` };
    const value: Record<string, unknown> = { type: definition.name };
    let offset = HEADER_BYTES;
    try {
      for (const [key, field] of fieldLists.get(definition) ?? []) {
        [value[key], offset] = field.read(view, bytes, offset);
      }
    } catch (error) {
      if (error instanceof TruncatedError) return { ok: false, reason: `${definition.name}: truncated` };
      // TextDecoder with fatal: true throws TypeError on invalid UTF-8.
      return { ok: false, reason: `${definition.name}: invalid UTF-8` };
    }
    if (offset !== bytes.length) return { ok: false, reason: `${definition.name}: trailing bytes` };
    const parsed = definition.schema.safeParse(value);
    if (!parsed.success) {
      return { ok: false, reason: `${definition.name}: ${parsed.error.issues[0]?.message ?? 'invalid'}` };
    }
    return { ok: true, datagram: parsed.data as M };
  }

  return { encode, decode };
}

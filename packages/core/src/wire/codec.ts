/**
 * Bytes <-> typed datagrams. Decoding reads the fields once and validates once with the
 * message's schema; it never throws: anything wrong comes back as a reason to drop and count.
 */
import { type Field, TruncatedError } from './fields.js';
import {
  type Datagram,
  HEADER_BYTES,
  MAGIC,
  MAX_DATAGRAM_BYTES,
  MESSAGE_DEFINITIONS,
  PROTOCOL_VERSION,
} from './messages.js';

type Definition = (typeof MESSAGE_DEFINITIONS)[number];
type AnyField = Field<unknown>;

const byCode = new Map<number, Definition>(MESSAGE_DEFINITIONS.map((d) => [d.code, d]));
const byName = new Map<string, Definition>(MESSAGE_DEFINITIONS.map((d) => [d.name, d]));

export type DecodeResult = { ok: true; datagram: Datagram } | { ok: false; reason: string };

function fieldsOf(definition: Definition): [string, AnyField][] {
  return Object.entries(definition.fields) as [string, AnyField][];
}
// Precomputed so the per-datagram path does no Object.entries.
const fieldLists = new Map<Definition, [string, AnyField][]>(
  MESSAGE_DEFINITIONS.map((d) => [d, fieldsOf(d)]),
);

export function encodeDatagram(datagram: Datagram): Uint8Array {
  const definition = byName.get(datagram.type);
  if (!definition) throw new TypeError(`unknown datagram type ${datagram.type}`);
  const fields = fieldLists.get(definition) ?? [];
  const values = datagram as unknown as Record<string, unknown>;
  let size = HEADER_BYTES;
  for (const [key, field] of fields) size += field.size(values[key]);
  if (size > MAX_DATAGRAM_BYTES)
    throw new RangeError(`datagram of ${size} bytes exceeds ${MAX_DATAGRAM_BYTES}`);
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, MAGIC);
  view.setUint8(2, PROTOCOL_VERSION);
  view.setUint8(3, definition.code);
  let offset = HEADER_BYTES;
  for (const [key, field] of fields) offset = field.write(view, bytes, offset, values[key]);
  return bytes;
}

export function decodeDatagram(bytes: Uint8Array): DecodeResult {
  if (bytes.length < HEADER_BYTES) return { ok: false, reason: 'shorter than the header' };
  if (bytes.length > MAX_DATAGRAM_BYTES) return { ok: false, reason: 'longer than the maximum datagram' };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0) !== MAGIC) return { ok: false, reason: 'bad magic' };
  if (view.getUint8(2) !== PROTOCOL_VERSION)
    return { ok: false, reason: `unsupported version ${view.getUint8(2)}` };
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
  return { ok: true, datagram: parsed.data as Datagram };
}

/**
 * Straight-line encoders and decoders for messages made only of unsigned integers and, last, a
 * `rest` field (text, ack, heartbeat, disconnect: every message on the per-datagram path). They
 * are generated from the same definitions as the generic loops in codec.ts and give the same
 * bytes, values and reasons (test/codec.test.ts holds the two to the same answers on fuzzed
 * input); they only spell the layout out, so the engine makes one object literal with fixed keys
 * and reads each field inline, instead of a loop of keyed stores (a text decode 220 → 60 ns).
 * The generated source holds nothing but field names from the definitions and numbers.
 */
import { HEADER_BYTES, MAGIC } from './header.js';

/** A field as the compiler sees it: its key, and its width (1, 2, 4, 8 bytes, or REST). */
export interface CompiledField {
  readonly key: string;
  readonly width: number;
}

/** A check of one value (a field's, or the whole message's): what it breaks, or undefined. */
type Check = (value: unknown) => string | undefined;

export type CompiledDecoder = (
  bytes: Uint8Array,
) => { ok: true; datagram: unknown } | { ok: false; reason: string };
export type CompiledEncoder = (message: Record<string, unknown>) => Uint8Array;

/** The width that stands for a `rest` field (every byte to the end of the datagram). */
export const REST = -1;
/**
 * The width of a u64 (fields.ts): read as a number when below 2^53, else as -1, which the field's
 * check rejects, exactly as the field's own `read` does.
 */
export const U64 = 8;

/** Whether a message's layout can be compiled: integers only, except a `rest` field at the end. */
export function compilable(fields: readonly CompiledField[]): boolean {
  return fields.every(
    (f, i) =>
      f.width === 1 ||
      f.width === 2 ||
      f.width === 4 ||
      f.width === U64 ||
      (f.width === REST && i === fields.length - 1),
  );
}

function readExpression(width: number, offset: number): string {
  if (width === 1) return `b[${offset}]`;
  if (width === 2) return `((b[${offset}] << 8) | b[${offset + 1}])`;
  if (width === U64) return `readU64(b, ${offset})`;
  return `(b[${offset}] * 16777216 + ((b[${offset + 1}] << 16) | (b[${offset + 2}] << 8) | b[${offset + 3}]))`;
}

/** A big-endian u64 at `offset` as a number, or -1 at or above 2^53 (see U64). */
function readU64(b: Uint8Array, offset: number): number {
  const high =
    (b[offset] as number) * 16777216 +
    (((b[offset + 1] as number) << 16) | ((b[offset + 2] as number) << 8) | (b[offset + 3] as number));
  if (high >= 2 ** 21) return -1;
  const low =
    (b[offset + 4] as number) * 16777216 +
    (((b[offset + 5] as number) << 16) | ((b[offset + 6] as number) << 8) | (b[offset + 7] as number));
  return high * 4294967296 + low;
}

/**
 * Decodes the fields after the header (magic, version and code are checked by the caller).
 * `fieldChecks` by key (only fields that need one), then `messageChecks`, as the generic path.
 */
export function compileDecoder(
  name: string,
  fields: readonly CompiledField[],
  fieldChecks: readonly { key: string; check: Check }[],
  messageChecks: readonly Check[],
): CompiledDecoder {
  const rest = fields.at(-1)?.width === REST;
  let offset = HEADER_BYTES;
  const properties = [`type: ${JSON.stringify(name)}`];
  for (const { key, width } of fields) {
    properties.push(
      `${JSON.stringify(key)}: ${width === REST ? `b.subarray(${offset})` : readExpression(width, offset)}`,
    );
    if (width !== REST) offset += width;
  }
  const fail = (reason: string) =>
    `return { ok: false, reason: ${JSON.stringify(`${name}: `)} + ${reason} };`;
  const source = [
    `if (b.length < ${offset}) ${fail('"truncated"')}`,
    rest ? '' : `if (b.length !== ${offset}) ${fail('"trailing bytes"')}`,
    `const value = { ${properties.join(', ')} };`,
    'let problem;',
    ...fieldChecks.map(
      ({ key }, i) =>
        `if ((problem = fieldChecks[${i}].check(value[${JSON.stringify(key)}])) !== undefined) ${fail('problem')}`,
    ),
    ...messageChecks.map(
      (_, i) => `if ((problem = messageChecks[${i}](value)) !== undefined) ${fail('problem')}`,
    ),
    'return { ok: true, datagram: value };',
  ].join('\n');
  return new Function(
    'fieldChecks',
    'messageChecks',
    'readU64',
    `return function decode(b) {\n${source}\n};`,
  )(fieldChecks, messageChecks, readU64) as CompiledDecoder;
}

/** Encodes a whole message (header included) into bytes from `allocate`, as the generic path. */
export function compileEncoder(
  code: number,
  version: number,
  fields: readonly CompiledField[],
  maxBytes: number,
  allocate: (size: number) => Uint8Array,
): CompiledEncoder {
  const lines: string[] = [];
  let offset = HEADER_BYTES;
  let size = `${HEADER_BYTES}`;
  for (const field of fields) {
    const key = field.key;
    let width = field.width;
    const value = `m[${JSON.stringify(key)}]`;
    if (width === REST) {
      size = `${offset} + ${value}.length`;
      lines.push(`b.set(${value}, ${offset});`);
      continue;
    }
    lines.push(`v = ${value};`);
    if (width === U64) {
      // The high and the low 32 bits, each as the u32 branch below writes it.
      lines.push('h = Math.floor(v / 4294967296); v = v >>> 0;');
      for (let i = 0; i < 4; i++) lines.push(`b[${offset + i}] = ${i === 3 ? 'h' : `h >>> ${8 * (3 - i)}`};`);
      offset += 4;
      width = 4;
    }
    for (let i = 0; i < width; i++) {
      const shift = 8 * (width - 1 - i);
      lines.push(`b[${offset + i}] = ${shift === 0 ? 'v' : `v >>> ${shift}`};`);
    }
    offset += width;
    size = `${offset}`;
  }
  const source = [
    `const size = ${size};`,
    `if (size > ${maxBytes}) throw new RangeError("message of " + size + " bytes exceeds ${maxBytes}");`,
    'const b = allocate(size);',
    `b[0] = ${MAGIC >>> 8}; b[1] = ${MAGIC & 0xff}; b[2] = ${version}; b[3] = ${code};`,
    'let v, h;',
    ...lines,
    'return b;',
  ].join('\n');
  return new Function('allocate', `return function encode(m) {\n${source}\n};`)(allocate) as CompiledEncoder;
}

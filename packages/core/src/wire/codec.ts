/**
 * Bytes <-> typed messages, for any list of message definitions under one magic and version.
 * Decoding reads the fields once and validates once; it never throws: anything wrong comes back
 * as a reason to drop and count.
 *
 * Validation gives the answers of the message's zod schema. On the per-datagram path it does
 * not call zod: when every field still has the schema its factory in fields.ts made, each value
 * is checked by that factory's exact check, and the message's own refinements run as plain
 * functions. A message whose schema is anything else goes through `safeParse`, as before.
 */
import { type ExactCheck, exactCheckOf, type Field, TruncatedError, u64 } from './fields.js';
import { allocate } from '../slab.js';
import {
  type CompiledDecoder,
  type CompiledEncoder,
  compilable,
  compileDecoder,
  compileEncoder,
  REST,
  U64,
} from './compiled.js';
import { HEADER_BYTES, MAGIC } from './header.js';
import type { MessageDefinition } from './define.js';

type AnyField = Field<unknown>;
type Value = Record<string, unknown>;

export type DecodeResult<M> = { ok: true; datagram: M } | { ok: false; reason: string };

export interface Codec<M extends { type: string }> {
  encode(message: M): Uint8Array;
  decode(bytes: Uint8Array): DecodeResult<M>;
}

/** One definition, laid out for the per-datagram path: parallel arrays, no Object.entries. */
interface Plan {
  readonly definition: MessageDefinition;
  readonly keys: readonly string[];
  readonly fields: readonly AnyField[];
  /** Per field: its `unsignedBytes` (read and written inline), REST (inline too), or 0. */
  readonly widths: readonly number[];
  /**
   * `type` and every field, in order: decoding starts from a copy, so the value gets all its
   * properties at once instead of growing one by one (a new property store per field).
   */
  readonly template: Readonly<Value>;
  /** Set when zod can be skipped: per field (null: nothing to check), then the whole message. */
  readonly fast?: {
    readonly fields: readonly (ExactCheck | null)[];
    readonly message: readonly ExactCheck[];
  };
  /** Straight-line versions of decode and encode (compiled.ts), where the layout allows. */
  readonly compiled?: { readonly decode: CompiledDecoder; readonly encode: CompiledEncoder };
}

interface ZodInternals {
  _zod?: {
    def?: {
      type?: string;
      shape?: Record<string, unknown>;
      checks?: { _zod?: { check?: unknown; def?: { check?: string; when?: unknown } } }[];
    };
  };
}

/**
 * The message-level refinements of a schema that `define` built (a strict object whose shape is
 * `type` and exactly these fields' schemas, then custom refinements), as plain functions; or
 * undefined if the schema is anything else, and only zod can tell.
 */
function messageChecks(definition: MessageDefinition, plan: Omit<Plan, 'fast'>): ExactCheck[] | undefined {
  const def = (definition.schema as unknown as ZodInternals)._zod?.def;
  if (def?.type !== 'object' || !def.shape) return undefined;
  const shapeKeys = Object.keys(def.shape);
  if (shapeKeys.length !== plan.keys.length + 1 || shapeKeys[0] !== 'type') return undefined;
  for (let i = 0; i < plan.keys.length; i++) {
    const key = plan.keys[i] as string;
    if (shapeKeys[i + 1] !== key || def.shape[key] !== plan.fields[i]?.schema) return undefined;
  }
  const checks: ExactCheck[] = [];
  for (const check of def.checks ?? []) {
    const run = check._zod?.check;
    if (typeof run !== 'function' || check._zod?.def?.check !== 'custom' || check._zod.def.when)
      return undefined;
    checks.push((value) => {
      const payload = { value, issues: [] as { message?: string }[] };
      run(payload);
      return payload.issues.length > 0 ? (payload.issues[0]?.message ?? 'invalid') : undefined;
    });
  }
  return checks;
}

function planFor(definition: MessageDefinition): Plan {
  const entries = Object.entries(definition.fields) as [string, AnyField][];
  const base = {
    definition,
    keys: entries.map(([key]) => key),
    fields: entries.map(([, field]) => field),
    widths: entries.map(([, field]) => (field.restOfDatagram ? REST : (field.unsignedBytes ?? 0))),
    template: Object.fromEntries([['type', definition.name], ...entries.map(([key]) => [key, 0])]),
  };
  const fieldChecks = base.fields.map(exactCheckOf);
  const message = messageChecks(definition, base);
  if (message === undefined || fieldChecks.some((check) => check === undefined)) return base;
  return { ...base, fast: { fields: fieldChecks as (ExactCheck | null)[], message } };
}

/** Big-endian, `width` bytes (1, 2 or 4). */
function writeUnsigned(bytes: Uint8Array, offset: number, width: number, value: number): void {
  for (let i = width - 1; i >= 0; i--) {
    bytes[offset + i] = value;
    value >>>= 8;
  }
}

function readUnsigned(bytes: Uint8Array, offset: number, width: number): number {
  let value = 0;
  for (let i = 0; i < width; i++) value = value * 256 + (bytes[offset + i] as number);
  return value;
}

/** Adds the compiled decoder and encoder to a plan whose checks are known and layout allows. */
function compiled(plan: Plan, version: number, maxBytes: number): Plan {
  // A u64 is read by its field in the generic loops (width 0 there), inline once compiled.
  const fields = plan.keys.map((key, i) => ({
    key,
    width: plan.fields[i] === u64 ? U64 : (plan.widths[i] as number),
  }));
  if (!plan.fast || !compilable(fields)) return plan;
  const fieldChecks: { key: string; check: ExactCheck }[] = [];
  plan.fast.fields.forEach((check, i) => {
    if (check) fieldChecks.push({ key: plan.keys[i] as string, check });
  });
  const { name, code } = plan.definition;
  return {
    ...plan,
    compiled: {
      decode: compileDecoder(name, fields, fieldChecks, plan.fast.message),
      encode: compileEncoder(code, version, fields, maxBytes, allocate),
    },
  };
}

/**
 * `compile: false` keeps every message on the generic loops (the tests compare the two paths).
 */
export function makeCodec<M extends { type: string }>(
  version: number,
  definitions: readonly MessageDefinition[],
  maxBytes: number,
  options: { compile?: boolean } = {},
): Codec<M> {
  const plans = definitions
    .map(planFor)
    .map((plan) => (options.compile === false ? plan : compiled(plan, version, maxBytes)));
  const byCode: (Plan | undefined)[] = [];
  for (const plan of plans) byCode[plan.definition.code] = plan;
  const byName = new Map(plans.map((plan) => [plan.definition.name, plan]));

  function encode(message: M): Uint8Array {
    const plan = byName.get(message.type);
    if (!plan) throw new TypeError(`unknown message type ${message.type}`);
    if (plan.compiled) return plan.compiled.encode(message as unknown as Value);
    const { keys, fields, widths } = plan;
    const values = message as unknown as Value;
    let size = HEADER_BYTES;
    for (let i = 0; i < fields.length; i++) {
      const width = widths[i] as number;
      const value = values[keys[i] as string];
      size +=
        width > 0
          ? width
          : width === REST
            ? (value as Uint8Array).length
            : (fields[i] as AnyField).size(value);
    }
    if (size > maxBytes) throw new RangeError(`message of ${size} bytes exceeds ${maxBytes}`);
    const bytes = allocate(size);
    let view: DataView | undefined;
    bytes[0] = MAGIC >>> 8;
    bytes[1] = MAGIC & 0xff;
    bytes[2] = version;
    bytes[3] = plan.definition.code;
    let offset = HEADER_BYTES;
    for (let i = 0; i < fields.length; i++) {
      const width = widths[i] as number;
      const value = values[keys[i] as string];
      if (width > 0) {
        writeUnsigned(bytes, offset, width, value as number);
        offset += width;
      } else if (width === REST) {
        bytes.set(value as Uint8Array, offset);
        offset += (value as Uint8Array).length;
      } else {
        view ??= new DataView(bytes.buffer, bytes.byteOffset, size);
        offset = (fields[i] as AnyField).write(view, bytes, offset, value);
      }
    }
    return bytes;
  }

  function decode(bytes: Uint8Array): DecodeResult<M> {
    if (bytes.length < HEADER_BYTES) return { ok: false, reason: 'shorter than the header' };
    if (bytes.length > maxBytes) return { ok: false, reason: `longer than ${maxBytes} bytes` };
    if (bytes[0] !== MAGIC >>> 8 || bytes[1] !== (MAGIC & 0xff)) return { ok: false, reason: 'bad magic' };
    if (bytes[2] !== version) return { ok: false, reason: `unsupported version ${bytes[2]}` };
    const plan = byCode[bytes[3] as number];
    if (!plan) return { ok: false, reason: `unknown message code ${bytes[3]}` };
    if (plan.compiled) return plan.compiled.decode(bytes) as DecodeResult<M>;
    const { definition, keys, fields, widths } = plan;
    const value: Value = { ...plan.template };
    let view: DataView | undefined;
    let offset = HEADER_BYTES;
    try {
      for (let i = 0; i < fields.length; i++) {
        const width = widths[i] as number;
        if (width > 0) {
          if (offset + width > bytes.length) throw new TruncatedError('datagram truncated');
          value[keys[i] as string] = readUnsigned(bytes, offset, width);
          offset += width;
          continue;
        }
        if (width === REST) {
          // A view, not a copy.
          value[keys[i] as string] = bytes.subarray(offset);
          offset = bytes.length;
          continue;
        }
        view ??= new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        const [read, next] = (fields[i] as AnyField).read(view, bytes, offset);
        value[keys[i] as string] = read;
        offset = next;
      }
    } catch (error) {
      if (error instanceof TruncatedError) return { ok: false, reason: `${definition.name}: truncated` };
      // TextDecoder with fatal: true throws TypeError on invalid UTF-8.
      return { ok: false, reason: `${definition.name}: invalid UTF-8` };
    }
    if (offset !== bytes.length) return { ok: false, reason: `${definition.name}: trailing bytes` };
    const fast = plan.fast;
    if (fast) {
      for (let i = 0; i < fast.fields.length; i++) {
        const problem = fast.fields[i]?.(value[keys[i] as string]);
        if (problem !== undefined) return { ok: false, reason: `${definition.name}: ${problem}` };
      }
      for (const check of fast.message) {
        const problem = check(value);
        if (problem !== undefined) return { ok: false, reason: `${definition.name}: ${problem}` };
      }
      return { ok: true, datagram: value as unknown as M };
    }
    const parsed = definition.schema.safeParse(value);
    if (!parsed.success) {
      return { ok: false, reason: `${definition.name}: ${parsed.error.issues[0]?.message ?? 'invalid'}` };
    }
    return { ok: true, datagram: parsed.data as M };
  }

  return { encode, decode };
}

/**
 * `define`: one message as an ordered record of field codecs (fields.ts), from which the codec
 * (codec.ts) takes its layout and zod its schema, so the two cannot drift apart. Session
 * messages (messages.ts, stream-messages.ts), packets (packets.ts) and rendezvous messages are
 * all defined with it.
 */
import { z } from 'zod';
import type { Field } from './fields.js';

export type Fields = Record<string, Field<never> | Field<number> | Field<string> | Field<Uint8Array>>;
type ShapeOf<F extends Fields> = { [K in keyof F]: F[K]['schema'] };

export interface MessageDefinition<Name extends string = string, F extends Fields = Fields> {
  readonly name: Name;
  readonly code: number;
  readonly fields: F;
  readonly schema: z.ZodType<{ type: Name } & { [K in keyof F]: z.infer<F[K]['schema']> }>;
}

export function define<const Name extends string, const F extends Fields>(
  name: Name,
  code: number,
  fields: F,
  refine?: (value: z.infer<z.ZodObject<ShapeOf<F>>>) => string | undefined,
) {
  const shape = Object.fromEntries(Object.entries(fields).map(([key, field]) => [key, field.schema]));
  let schema = z.strictObject({ type: z.literal(name), ...(shape as ShapeOf<F>) });
  if (refine) {
    schema = schema.superRefine((value, ctx) => {
      const problem = refine(value as never);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });
  }
  return { name, code, fields, schema };
}

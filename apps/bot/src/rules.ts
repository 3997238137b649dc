/**
 * The bot's answers: a JSON rules file, validated with zod when the bot starts, and the engine
 * that picks a reply for each message. Rules are tried in order; the first whose regular
 * expression matches replies. `$1`… are its groups; `{text}`, `{nick}` and `{peer}` are filled in.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const pattern = z
  .strictObject({
    match: z.string().min(1, 'must not be empty'),
    flags: z
      .string()
      .regex(/^[imsu]*$/, 'may hold only the flags i, m, s and u')
      .default(''),
    reply: z.string(),
  })
  .superRefine((rule, ctx) => {
    try {
      new RegExp(rule.match, rule.flags);
    } catch (error) {
      ctx.addIssue({
        code: 'custom',
        path: ['match'],
        message: `is not a valid regular expression (${(error as Error).message})`,
      });
    }
  });

export const RulesFile = z.strictObject({
  greeting: z.string().optional(),
  rules: z.array(pattern).default([]),
  fallback: z.string().optional(),
});
export type RulesFile = z.infer<typeof RulesFile>;

export class RulesError extends Error {
  override readonly name = 'RulesError';
}

/** Reads and validates a rules file; a problem becomes one line naming the file and the field. */
export function loadRulesFile(path: string): RulesFile {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (error) {
    throw new RulesError(
      `cannot read rules file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new RulesError(`rules file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = RulesFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = (issue?.path ?? [])
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('');
    throw new RulesError(
      `rules file ${path}: ${where.replace(/^\./, '') || 'the file'} ${issue?.message ?? 'is invalid'}`,
    );
  }
  return parsed.data;
}

export interface ReplyContext {
  text: string;
  nick: string;
  /** IP:PORT */
  peer: string;
}

/** Fills `$1`… from `groups` and `{text}`, `{nick}`, `{peer}` from the context, in one pass. */
function fill(template: string, groups: readonly (string | undefined)[], context: ReplyContext): string {
  return template.replace(
    /\$(\d+)|\{(text|nick|peer)\}/g,
    (_all, group: string | undefined, name: string | undefined) =>
      group !== undefined ? (groups[Number(group)] ?? '') : context[name as keyof ReplyContext],
  );
}

export class RulesEngine {
  private readonly compiled: { regex: RegExp; reply: string }[];

  constructor(private readonly file: RulesFile) {
    this.compiled = file.rules.map((rule) => ({
      regex: new RegExp(rule.match, rule.flags),
      reply: rule.reply,
    }));
  }

  /** With no rules file, the bot echoes. */
  static echo(): RulesEngine {
    return new RulesEngine({ rules: [], fallback: 'echo: {text}' });
  }

  greeting(context: Omit<ReplyContext, 'text'>): string | undefined {
    return this.file.greeting === undefined
      ? undefined
      : fill(this.file.greeting, [], { ...context, text: '' });
  }

  /** The reply to a message, or undefined for silence. */
  reply(context: ReplyContext): string | undefined {
    for (const { regex, reply } of this.compiled) {
      const match = regex.exec(context.text);
      if (match) return fill(reply, match, context);
    }
    return this.file.fallback === undefined ? undefined : fill(this.file.fallback, [], context);
  }
}

/** Cuts `text` to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  // Step back over continuation bytes (10xxxxxx) to a character boundary.
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(bytes.subarray(0, end));
}

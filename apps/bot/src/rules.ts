/**
 * The bot's answers: a JSON rules file, validated with zod when the bot starts, and the engine
 * that picks a reply for each message. Rules are tried in order; the first whose regular
 * expression matches replies. `$1`… are its groups; `{text}`, `{nick}` and `{peer}` are filled in.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { describeRulesProblem } from './rules-problems.js';

/** One rule: a regular expression and the reply it gives. */
const Rule = z
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
  rules: z.array(Rule).default([]),
  fallback: z.string().optional(),
});
export type RulesFile = z.infer<typeof RulesFile>;

export class RulesError extends Error {
  override readonly name = 'RulesError';
}

const READ_PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'a folder, not a file',
};

/** JSON.parse's complaint, with its character offset turned into the line and column editors show. */
function jsonProblem(error: Error, raw: string): string {
  return error.message.replace(/ in JSON at position (\d+).*$/, (_all, offset: string) => {
    const before = raw.slice(0, Number(offset)).split('\n');
    return ` at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
  });
}

/** Reads and validates a rules file; a problem becomes one line naming the file, the place and the fix. */
export function loadRulesFile(path: string): RulesFile {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new RulesError(`cannot read rules file ${path}: ${READ_PROBLEMS[code] ?? 'read failed'} (${code})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new RulesError(`rules file ${path} is not valid JSON: ${jsonProblem(error as Error, raw)}`);
  }
  const parsed = RulesFile.safeParse(json);
  if (!parsed.success) {
    const keys = { file: Object.keys(RulesFile.shape), rule: Object.keys(Rule.shape) };
    throw new RulesError(`rules file ${path}: ${describeRulesProblem(parsed.error.issues, json, keys)}`);
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

// ignoreBOM: a text that starts with U+FEFF keeps it (PROTOCOL.md, Transport: strings), as core decodes it.
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** Cuts `text` to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  // Step back over continuation bytes (10xxxxxx) to a character boundary.
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  return utf8.decode(bytes.subarray(0, end));
}

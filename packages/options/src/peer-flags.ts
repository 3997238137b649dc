/**
 * The flags of a peer, which every netchat program takes (the port, --host, the heartbeat and
 * the nick), and the one place a command line is read: node's util.parseArgs, then zod. A bad
 * flag becomes a UsageError: one line, exit code 2.
 */

import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import {
  MAX_NICK_BYTES,
  MIN_HEARTBEAT_MS,
  type PeerOptions,
  type PeerSpec,
  parsePeerSpec,
} from '@netchat/core';
import { z } from 'zod';

import { UsageError } from './usage-error.js';

/** The flags of a peer: the port to listen on and how sessions behave. */
export const peerFlags = {
  host: { type: 'string' },
  'heartbeat-interval': { type: 'string' },
  'miss-limit': { type: 'string' },
  'connect-timeout': { type: 'string' },
  nick: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
  fingerprint: { type: 'boolean' },
} as const;

const port = z
  .string({ error: 'is required (the UDP port to listen on)' })
  .regex(/^\d{1,5}$/, 'must be a port number (0-65535; 0 picks a free one)')
  .transform(Number)
  .pipe(z.number().max(65535, 'must be a port number (0-65535; 0 picks a free one)'));

/** A number of seconds above 0 (decimals allowed), as typed on a command line; in ms. */
export const secondsArgument = z
  .string()
  .regex(/^\d*\.?\d+$/, 'must be a number of seconds, e.g. 25 or 0.2')
  .transform((text) => Number(text) * 1000)
  .pipe(z.number().positive('must be more than 0 seconds'));

const heartbeatSeconds = secondsArgument.pipe(
  z.number().min(MIN_HEARTBEAT_MS, 'must be at least 0.05 seconds'),
);

/** A whole number of at least 1, as typed on a command line. */
export const wholeNumberArgument = z
  .string()
  .regex(/^\d+$/, 'must be a whole number')
  .transform(Number)
  .pipe(z.number().int().min(1, 'must be at least 1'));

/** A number above 0, decimals allowed, as typed on a command line. */
export const positiveNumberArgument = z
  .string()
  .regex(/^\d*\.?\d+$/, 'must be a number, e.g. 20 or 0.5')
  .transform(Number)
  .pipe(z.number().positive('must be more than 0'));

const nick = z
  .string()
  .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters')
  .refine((text) => Buffer.byteLength(text) <= MAX_NICK_BYTES, `must be at most ${MAX_NICK_BYTES} bytes`);

const host = z
  .string()
  .refine((text) => isIP(text) !== 0, 'must be a numeric IP address, e.g. 0.0.0.0 or ::1');

/** "HOST:PORT" or "[IPv6]:PORT" (also "HOST PORT"). */
export const peerArgument = z.string().transform((text, ctx): PeerSpec => {
  try {
    return parsePeerSpec(text);
  } catch (error) {
    ctx.addIssue(ownSentence((error as Error).message));
    return z.NEVER;
  }
});

/**
 * An issue whose message is a complaint of its own (a thrown error's text, `invalid address
 * "x": …`), not the rest of a sentence that starts with the flag (`must be …`): the usage line
 * puts a colon after the flag (`--connect: invalid address …`), as it does after a file name.
 */
export function ownSentence(message: string): {
  code: 'custom';
  message: string;
  params: { ownSentence: true };
} {
  return { code: 'custom', message, params: { ownSentence: true } };
}

/** The validated shared flags (`port` is the first positional argument). */
export const PeerArguments = z.object({
  port,
  host: host.optional(),
  'heartbeat-interval': heartbeatSeconds.optional(),
  'miss-limit': wholeNumberArgument.optional(),
  'connect-timeout': secondsArgument.optional(),
  nick: nick.optional(),
  help: z.boolean().optional(),
  version: z.boolean().optional(),
  fingerprint: z.boolean().optional(),
});
export type PeerArguments = z.infer<typeof PeerArguments>;

type FlagConfig = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

/**
 * Parses `argv` against `flags` and validates the result with `schema`. `--help`, `--version`
 * and `--fingerprint` skip validation, so they work whatever else is on the line.
 */
export function parseCommandLine<S extends z.ZodType>(
  argv: string[],
  flags: FlagConfig,
  schema: S,
): z.infer<S> | { help: true } | { version: true } | { fingerprint: true } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: flags, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(parseArgsProblem(error as Error & { code?: string }));
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true };
  if (values.version) return { version: true };
  if (values.fingerprint) return { fingerprint: true };
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
  const result = schema.safeParse({ ...values, port: positionals[0] });
  if (!result.success) {
    const issue = result.error.issues[0];
    const name = String(issue?.path[0] ?? '');
    const label = name === 'port' ? 'port' : `--${name}`;
    const own = issue?.code === 'custom' && issue.params?.ownSentence === true;
    throw new UsageError(`${label}${own ? ':' : ''} ${issue?.message ?? 'is invalid'}`);
  }
  return result.data;
}

/** Node's parseArgs complaint, in our words (its own texts speak of "ambiguous" arguments). */
function parseArgsProblem(error: Error & { code?: string }): string {
  const option = /'(-[^' ]+)/.exec(error.message)?.[1] ?? 'an option';
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${option}`;
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (/does not take an argument/.test(error.message)) return `${option} takes no value`;
    if (/ambiguous/.test(error.message))
      return `${option} needs a value (for a value that starts with "-", write ${option}=VALUE)`;
    return `${option} needs a value`;
  }
  return 'the command line could not be read';
}

/** The core settings the shared flags stand for. */
export function peerOptionsFrom(args: PeerArguments, take: { files?: boolean } = {}): PeerOptions {
  const options: PeerOptions = { port: args.port };
  // Streams and files are off in core: only a program that handles offers (a FileLink) invites them.
  if (take.files) {
    options.streams = true;
    options.files = true;
  }
  if (args.host !== undefined) options.host = args.host;
  if (args['heartbeat-interval'] !== undefined) options.heartbeatInterval = args['heartbeat-interval'];
  if (args['miss-limit'] !== undefined) options.missLimit = args['miss-limit'];
  if (args['connect-timeout'] !== undefined) options.connectTimeout = args['connect-timeout'];
  if (args.nick !== undefined) options.nick = args.nick;
  return options;
}

/** Help text for the shared flags, aligned like the rest of a usage page. */
export const peerFlagsHelp = `  --host ADDR                 bind to this IP address (default: all interfaces, IPv4 and IPv6)
  --heartbeat-interval SECS   seconds between heartbeats (default 25; decimals allowed, e.g. 0.2)
  --miss-limit N              heartbeats missed in a row before the peer is lost (default 3)
  --connect-timeout SECS      seconds to wait for an answer to a request (default 30)
  --nick NAME                 your name, sent with requests and shown to the peer (at most ${MAX_NICK_BYTES} bytes)
  -h, --help                  show this help
  -V, --version               show the version
  --fingerprint               show your key's fingerprint (to read to the people you chat with)`;

/** Where the key lives: a paragraph for after the options list. */
export const keyHomeHelp =
  'Your key is kept in $NETCHAT_HOME, else $XDG_CONFIG_HOME/netchat, else ~/.config/netchat.';

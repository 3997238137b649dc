/** The `netchat-bot` command line: the shared peer flags plus the bot's own. */
import {
  PeerArguments,
  parseCommandLine,
  peerArgument,
  peerFlags,
  keyHomeHelp,
  peerFlagsHelp,
  positiveNumberArgument,
  wholeNumberArgument,
} from '@netchat/options';
import { z } from 'zod';
import { parseAllowEntry } from './access-policy.js';

const flags = {
  ...peerFlags,
  accept: { type: 'string' },
  allow: { type: 'string', multiple: true },
  'max-sessions': { type: 'string' },
  rules: { type: 'string' },
  rate: { type: 'string' },
  connect: { type: 'string', multiple: true },
  'log-level': { type: 'string' },
  rendezvous: { type: 'boolean' },
  'max-registrations': { type: 'string' },
  'relay-rate': { type: 'string' },
} as const;

const allowEntry = z.string().transform((text, ctx) => {
  try {
    return parseAllowEntry(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/** Bytes a second, 0 allowed (no relay). */
const bytesPerSecond = z
  .string()
  .regex(/^\d+$/, 'must be a whole number of bytes a second (0: no relay)')
  .transform(Number)
  .pipe(z.number().int().max(1_000_000_000, 'must be at most 1000000000'));

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * The bot's nick when --nick is not given: `netchat-bot-` and the first group of its key's
 * fingerprint, so two bots are told apart at a glance (and the nick names the key it stands for).
 */
export function defaultBotNick(keyFingerprint: string): string {
  return `netchat-bot-${keyFingerprint.slice(0, 4)}`;
}

export const BotArguments = PeerArguments.extend({
  accept: z.enum(['all', 'none', 'allow'], { error: 'must be all, none or allow' }).optional(),
  allow: z.array(allowEntry).default([]),
  'max-sessions': wholeNumberArgument.default(1000),
  rules: z.string().optional(),
  rate: positiveNumberArgument.default(20),
  connect: z.array(peerArgument).default([]),
  'log-level': z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  rendezvous: z.boolean().default(false),
  'max-registrations': wholeNumberArgument.default(10_000),
  'relay-rate': bytesPerSecond.default(65_536),
})
  // --allow alone means --accept allow; --accept allow needs someone to allow.
  .transform((args) => ({ ...args, accept: args.accept ?? (args.allow.length > 0 ? 'allow' : 'all') }))
  .refine((args) => args.accept !== 'allow' || args.allow.length > 0, {
    path: ['accept'],
    message: 'allow needs at least one --allow HOST[:PORT]',
  });
export type BotArguments = z.infer<typeof BotArguments>;

export function parseBotArguments(argv: string[]) {
  return parseCommandLine(argv, flags, BotArguments);
}

export const usage = `Usage: netchat-bot [options] <port>

A headless netchat peer that answers everyone (or those you allow) with an echo or your rules.
Logs one JSON object a line on stdout.

Options:
${peerFlagsHelp.replace('your name, sent', 'its name (default netchat-bot-XXXX, XXXX the start of its fingerprint), sent')}
  --accept all|none|allow     who may connect (default all; with --allow, allow)
  --allow HOST[:PORT]         may connect (repeatable; host names are looked up at start-up); everyone else is declined
  --max-sessions N            sessions at once; past it requests are declined (too_many_sessions) (default 1000)
  --rules FILE                JSON rules to reply by (default: echo every message)
  --rate N                    replies per second to one peer, at most; the rest are dropped and counted (default 20)
  --connect HOST:PORT         also ask this peer to chat at start (repeatable)
  --log-level LEVEL           fatal, error, warn, info, debug, trace or silent (default info)
  --rendezvous                also be a rendezvous for peers behind NAT (they name it with --rendezvous HOST:PORT)
  --max-registrations N       with --rendezvous: peers registered at once; past it new ones are refused (default 10000)
  --relay-rate BYTES          with --rendezvous: bytes a second one peer may send, and receive, through the relay (default 65536; 0: no relay)

${keyHomeHelp}

SIGTERM or SIGINT closes every session and exits 0 within 2 seconds.
`;

/** The `netchat-bot` command line: the shared peer flags plus the bot's own. */
import {
  keyHomeHelp,
  PeerArguments,
  parseCommandLine,
  parseSize,
  peerArgument,
  peerFlags,
  peerFlagsHelp,
  positiveNumberArgument,
  sizeArgument,
  wholeNumberArgument,
} from '@netchat/options';
import { z } from 'zod';
import { parseAllowEntry } from './access-policy.js';

const flags = {
  ...peerFlags,
  accept: { type: 'string' },
  allow: { type: 'string', multiple: true },
  'max-sessions': { type: 'string' },
  'max-sessions-per-host': { type: 'string' },
  rules: { type: 'string' },
  rate: { type: 'string' },
  connect: { type: 'string', multiple: true },
  'log-level': { type: 'string' },
  'log-text': { type: 'string' },
  'log-rate': { type: 'string' },
  rendezvous: { type: 'boolean' },
  'max-registrations': { type: 'string' },
  'relay-rate': { type: 'string' },
  'accept-files': { type: 'string' },
  'max-file-size': { type: 'string' },
  'files-quota': { type: 'string' },
} as const;

/** --files-quota when not given: what a drop box may hold in all. */
export const DEFAULT_FILES_QUOTA = 1_000_000_000;

const allowEntry = z.string().transform((text, ctx) => {
  try {
    return parseAllowEntry(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/** Bytes a second, as a size like the other size flags (64K, 1.5M, 64KiB), 0 allowed (no relay). */
const bytesPerSecond = z
  .string()
  .transform((text, ctx) => {
    const bytes = parseSize(text);
    if (bytes === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be bytes a second, e.g. 65536, 64K, 1.5M or 64KiB (0: no relay)',
      });
      return z.NEVER;
    }
    return bytes;
  })
  .pipe(z.number().max(1_000_000_000, 'must be at most 1G (a second)'));

/** --log-text when not given: characters of a message logged (a line of chat, not a paste). */
export const DEFAULT_LOG_TEXT = 200;
/** The longest message (64 KiB) is at most this many characters: a higher --log-text is a typo. */
const MAX_LOG_TEXT = 65_536;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * The bot's nick when --nick is not given: `netchat-bot-` and the first group of its key's
 * fingerprint, so two bots are told apart at a glance (and the nick names the key it stands for).
 */
export function defaultBotNick(keyFingerprint: string): string {
  return `netchat-bot-${keyFingerprint.slice(0, 4)}`;
}

/**
 * --max-sessions-per-host when not given: a tenth of --max-sessions (at least 1), so one host
 * never holds them all, and a network of many people behind one address (an office, a carrier's
 * NAT) still has room. Not given, it spares the bot's own machine (loopback peers are its
 * operator's: a load test, a local front-end); given, it applies to every host.
 */
export function defaultSessionsPerHost(maxSessions: number): number {
  return Math.max(1, Math.floor(maxSessions / 10));
}

export const BotArguments = PeerArguments.extend({
  accept: z.enum(['all', 'none', 'allow'], { error: 'must be all, none or allow' }).optional(),
  allow: z.array(allowEntry).default([]),
  'max-sessions': wholeNumberArgument.default(1000),
  'max-sessions-per-host': wholeNumberArgument.optional(),
  rules: z.string().optional(),
  rate: positiveNumberArgument.default(20),
  connect: z.array(peerArgument).default([]),
  'log-level': z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  'log-text': z
    .string()
    .regex(/^\d+$/, 'must be a whole number of characters (0: no text)')
    .transform(Number)
    .pipe(z.number().int().max(MAX_LOG_TEXT, `must be at most ${MAX_LOG_TEXT}`))
    .default(DEFAULT_LOG_TEXT),
  'log-rate': positiveNumberArgument.default(20),
  rendezvous: z.boolean().default(false),
  // Their defaults are set below, once it is known whether they were given (they need --rendezvous).
  'max-registrations': wholeNumberArgument.optional(),
  'relay-rate': bytesPerSecond.optional(),
  'accept-files': z.string().min(1, 'needs a folder').optional(),
  'max-file-size': sizeArgument.optional(),
  'files-quota': sizeArgument.optional(),
})
  // A limit on something the bot does not do is a mistake to say, not to ignore (as --files-quota).
  .refine((args) => args.rendezvous || args['relay-rate'] === undefined, {
    path: ['relay-rate'],
    message: 'needs --rendezvous (it limits what the relay carries)',
  })
  .refine((args) => args.rendezvous || args['max-registrations'] === undefined, {
    path: ['max-registrations'],
    message: 'needs --rendezvous (it limits the peers registered)',
  })
  // --allow alone means --accept allow; --accept allow needs someone to allow.
  .transform((args) => ({
    ...args,
    accept: args.accept ?? (args.allow.length > 0 ? 'allow' : 'all'),
    'max-registrations': args['max-registrations'] ?? 10_000,
    'relay-rate': args['relay-rate'] ?? 65_536,
  }))
  .refine((args) => args.accept !== 'allow' || args.allow.length > 0, {
    path: ['accept'],
    message: 'allow needs at least one --allow HOST[:PORT]',
  })
  .refine((args) => args['accept-files'] !== undefined || args['max-file-size'] === undefined, {
    path: ['max-file-size'],
    message: 'needs --accept-files DIR (it limits the files the bot takes)',
  })
  .refine((args) => args['accept-files'] !== undefined || args['files-quota'] === undefined, {
    path: ['files-quota'],
    message: 'needs --accept-files DIR (it limits the files the bot takes)',
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
  --max-sessions-per-host N   sessions one host (IPv4 address, IPv6 /64) may hold at once; past it too_many_sessions (default a tenth of --max-sessions, loopback spared)
  --rules FILE                JSON rules to reply by (default: echo every message)
  --rate N                    replies per second to one peer, at most; the rest are dropped and counted (default 20)
  --connect HOST:PORT         also ask this peer to chat at start (repeatable)
  --log-level LEVEL           fatal, error, warn, info, debug, trace or silent (default info)
  --log-text CHARS            characters of a message's text logged, the rest cut, its length said (default 200; 0: no text)
  --log-rate N                log lines a second about one peer's messages, in bursts of N, all peers 10 times that; the rest counted (default 20)
  --rendezvous                also be a rendezvous for peers behind NAT (they name it with --rendezvous HOST:PORT)
  --max-registrations N       with --rendezvous: peers registered at once; past it new ones are refused (default 10000)
  --relay-rate SIZE           with --rendezvous: bytes a second one peer may send, and receive, through the relay (e.g. 64K, 1M; default 64KiB; 0: no relay)
  --accept-files DIR          be a drop box: take file offers from the peers --accept allows, into DIR
  --max-file-size SIZE        with --accept-files: decline offers with a file larger than SIZE (e.g. 10M, 1.5G; default: the quota)
  --files-quota SIZE          with --accept-files: bytes DIR may hold in all, partial files included (default 1G)

${keyHomeHelp}

SIGTERM, SIGINT or SIGHUP closes every session and exits 0 within 2 seconds; SIGUSR1 logs the stats now.
`;

#!/usr/bin/env node
/** `netchat-bot <port>`: validates everything at start-up, then runs the bot until a signal. */
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import {
  FileLink,
  fingerprint,
  prepareDownloadFolder,
  type RendezvousServer,
  relayRate,
  serveRendezvous,
  TokenBuckets,
} from '@netchat/core';
import { exitWith, peerOptionsFrom, readCommandLine, startPeerOrExit } from '@netchat/options';
import { pino } from 'pino';
import { AccessPolicy } from './access-policy.js';
import {
  DEFAULT_FILES_QUOTA,
  defaultBotNick,
  defaultSessionsPerHost,
  parseBotArguments,
  usage,
} from './arguments.js';
import { Bot } from './bot.js';
import { DropBox } from './drop-box.js';
import { LogBudget } from './log-budget.js';
import { loadRulesFile, RulesEngine } from './rules.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
const program = { name: 'netchat-bot', version, usage };
/** Bytes of replies one peer may leave unacknowledged: two of the longest (64 KiB) messages. */
const REPLY_BACKLOG_BYTES = 128 * 1024;

/**
 * What a drop box's sessions may make it hold in streams it cannot read yet: 4 streams (a control
 * stream and data streams, one a file at a time and the next opening) of 64 KiB at first, 256 KiB
 * a session. core's 32 of 256 KiB let a stranger that sent each stream's bytes but its first hold
 * 8 MiB a session in pieces the bot could not read (12 MB of RSS a session measured: 12 GB at
 * --max-sessions 1000). A window still grows as the bot reads a transfer's bytes.
 */
const DROP_BOX_STREAMS = { streamWindow: 64 * 1024, maxIncomingStreams: 4 };

/** Shutdown must finish within 2 s: this leaves room to log and exit. */
const SHUTDOWN_WAIT_MS = 1500;
/** Room above --max-sessions for requests that are being declined (too_many_sessions). */
const DECLINE_HEADROOM = 64;
/** How often the security counters are logged. */
const STATS_EVERY_MS = 60_000;
/**
 * How often replies dropped by --rate are reported (one line per peer that had any), and log
 * lines left out by --log-rate (one line).
 */
const RATE_LIMITED_EVERY_MS = 10_000;

async function main(): Promise<void> {
  const args = readCommandLine(program, parseBotArguments);
  let rules: RulesEngine;
  let policy: AccessPolicy;
  try {
    rules = args.rules ? new RulesEngine(loadRulesFile(args.rules)) : RulesEngine.echo();
    policy = await AccessPolicy.create(args.accept, args.allow);
  } catch (error) {
    // A bad rules file or an --allow host that does not resolve: a bad argument, like any other.
    exitWith(program, (error as Error).message, 2);
  }

  // One write(2) per line, on this thread. pino's default for stdout is an asynchronous
  // fs.write, one thread-pool request per line (about five lines a session): 19-22 % of the
  // bot's CPU while accepting sessions, against 2.6 % for the plain write (CPU profiles).
  const destination = pino.destination({ dest: 1, sync: true });
  // A terminal closed under the bot answers every write with EIO (a pipe closed: EPIPE): the log
  // has nowhere to go, but the bot must not die of it with sessions open (it closes them on the
  // SIGHUP that comes with it). Later lines are dropped, as pino does for EPIPE, rather than kept
  // in the destination's buffer for a retry that cannot succeed. Any other write error is fatal.
  destination.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EIO' && error.code !== 'EPIPE') throw error;
    destination.write = () => true;
  });
  const log = pino({ level: args['log-level'], base: { app: 'netchat-bot' } }, destination);
  const dropFolder = args['accept-files'];
  if (dropFolder !== undefined) {
    // The folder is checked (and made) before anything listens: a bad one is a bad argument.
    const prepared = prepareDownloadFolder(resolve(dropFolder));
    if (!prepared.ok) exitWith(program, `--accept-files: ${prepared.message}`, 2);
  }
  const { peer, keyPair } = await startPeerOrExit(program, {
    ...peerOptionsFrom(args, { files: dropFolder !== undefined }),
    maxSessions: args['max-sessions'] + DECLINE_HEADROOM,
    // Replies in flight at shutdown get a short linger, so the whole shutdown fits in 2 s.
    closeLinger: 500,
    // Replies a peer has not acknowledged, at most (past it a reply fails, logged reply_failed):
    // two of the longest. A stranger that sends long messages and never acknowledges the echoes
    // held core's 1 MiB a session (about 1.6 MB of RSS each: 1.6 GB at --max-sessions 1000).
    maxQueuedBytes: REPLY_BACKLOG_BYTES,
    // A rendezvous holds thousands of idle sessions, each requester's heartbeat answered: its own
    // heartbeats in those intervals are left out (PROTOCOL.md, answered intervals), half the datagrams.
    ...(args.rendezvous ? { skipAnsweredHeartbeats: true } : {}),
    ...(dropFolder !== undefined ? DROP_BOX_STREAMS : {}),
  });
  // Before anyone is answered (the Bot below answers): every accept and request carries it.
  if (args.nick === undefined) peer.setNick(defaultBotNick(fingerprint(keyPair.publicKey)));
  // --rendezvous: the bot also introduces the peers it accepts to each other (hole punching). It
  // serves only peers whose session the Bot accepted (its --accept, --allow, --max-sessions).
  const rendezvous = args.rendezvous
    ? serveRendezvous(peer, {
        maxRegistrations: args['max-registrations'],
        ...relayRate(args['relay-rate']),
      })
    : undefined;
  // A token bucket per peer: no peer can make the bot flood anyone.
  const limiter = new TokenBuckets(args.rate, args.rate);
  const bot = new Bot(peer, rules, policy, limiter, log, {
    maxSessions: args['max-sessions'],
    maxSessionsPerHost: args['max-sessions-per-host'] ?? defaultSessionsPerHost(args['max-sessions']),
    limitsLoopback: args['max-sessions-per-host'] !== undefined,
    maxMessageBytes: peer.options.maxMessageBytes,
    logBudget: new LogBudget({ textChars: args['log-text'], linesPerSecond: args['log-rate'] }),
    // The rendezvous's counts (malformed messages, refusals, relay drops) close the summary too.
    ...(rendezvous ? { summaryExtra: () => ({ rendezvous: rendezvousCounters(rendezvous) }) } : {}),
  });
  const quota = args['files-quota'] ?? DEFAULT_FILES_QUOTA;
  const dropBox =
    dropFolder === undefined
      ? undefined
      : new DropBox(
          peer,
          // Resumes go through the drop box's checks too: core's auto-resume would skip them.
          new FileLink(peer, { downloadFolder: resolve(dropFolder), autoResume: false }),
          policy,
          log,
          { folder: resolve(dropFolder), maxFileSize: args['max-file-size'] ?? quota, quota },
        );
  // Before the listening line: whoever waits for it may send SIGTERM at once.
  let stopping = false;
  const stop = async () => {
    if (stopping) process.exit(0); // a second signal: leave at once
    stopping = true;
    // What arrived is made durable and kept for a resume; then the sessions close.
    await dropBox?.close();
    await bot.shutdown(SHUTDOWN_WAIT_MS);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  // The terminal it ran in was closed: close as on SIGTERM (peers told at once, not after their
  // heartbeats; what arrived kept). A closed terminal may send two, so a second does not cut it short.
  process.on('SIGHUP', () => {
    if (!stopping) void stop();
  });
  log.info(
    {
      event: 'listening',
      host: peer.address.host,
      port: peer.address.port,
      accept: args.accept,
      nick: peer.options.nick,
      rendezvous: args.rendezvous,
      ...(args.rendezvous
        ? { maxRegistrations: args['max-registrations'], relayRate: args['relay-rate'] }
        : {}),
      fingerprint: fingerprint(keyPair.publicKey),
      ...(dropFolder !== undefined && {
        acceptFiles: resolve(dropFolder),
        maxFileSize: args['max-file-size'] ?? quota,
        filesQuota: quota,
      }),
    },
    'listening',
  );
  const logStats = () => {
    bot.logStats();
    if (rendezvous)
      log.info({ event: 'rendezvous_stats', ...rendezvousCounters(rendezvous) }, 'rendezvous stats');
    dropBox?.logStats();
  };
  setInterval(logStats, STATS_EVERY_MS).unref();
  // An operator asks what the bot is doing now (`kill -USR1 PID`) instead of waiting for the minute.
  process.on('SIGUSR1', logStats);
  setInterval(() => {
    bot.reportRateLimited();
    bot.reportSuppressed();
  }, RATE_LIMITED_EVERY_MS).unref();

  for (const target of args.connect) void bot.connect(target.host, target.port);
}

/** What the rendezvous holds and counted: the `rendezvous_stats` line and the summary's `rendezvous`. */
function rendezvousCounters(server: RendezvousServer): Record<string, number> {
  return { registered: server.size, ...server.stats };
}

main().catch((error: unknown) =>
  exitWith(program, error instanceof Error ? error.message : String(error), 1),
);

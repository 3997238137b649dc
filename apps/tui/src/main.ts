#!/usr/bin/env node
/**
 * `netchat-tui <port>`: starts the full-screen client, and makes sure the terminal is given back
 * in its normal state however it ends: /quit, Ctrl+C, SIGTERM, or an uncaught error (which is
 * also written to a log file whose path is printed).
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatHistory, resolveTarget, type Target, texts } from '@netchat/client';
import { fingerprint, netchatHome } from '@netchat/core';
import {
  exitWith,
  exitWithUsage,
  fileLinkOf,
  loadSettingsOrExit,
  openHomeOrExit,
  peerOptionsFrom,
  readCommandLine,
  rendezvousFinder,
  startPeerOrExit,
  startRendezvousOrExit,
} from '@netchat/options';
import { TuiApp } from './app.js';
import { parseTuiArguments, usage } from './arguments.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
const program = { name: 'netchat-tui', version, usage };

async function main(): Promise<void> {
  const args = readCommandLine(program, parseTuiArguments);
  if (!process.stdout.isTTY || !process.stdin.isTTY)
    exitWith(program, 'needs a terminal; for scripts use netchat --json', 2);
  // Everything that can be wrong with the home or the command line is said before the screen is taken.
  const settings = loadSettingsOrExit(program, netchatHome());
  const opened = openHomeOrExit(program);
  const ownFingerprint = fingerprint(opened.keyPair.publicKey);
  let connect: Target | undefined;
  if (args.connect !== undefined) {
    // What --connect means, as the CLI reads it (and as /connect reads it inside).
    const resolved = resolveTarget(args.connect, {
      contacts: opened.knownPeers.list(),
      rendezvous: (args.rendezvous ?? settings.rendezvous) !== undefined,
      ownFingerprint,
    });
    if (!resolved.ok) exitWithUsage(program, texts.connectArgumentText(args.connect, resolved.problem));
    connect = resolved.target;
  }
  const { peer, knownPeers, home } = await startPeerOrExit(
    program,
    peerOptionsFrom(args, { files: true }),
    opened,
  );
  const { files, downloadFolder } = fileLinkOf(peer, args, settings, home);
  // Rendezvous and STUN news goes to the home tab (on stderr it would tear the screen): what comes
  // before the screen is up waits for it.
  let news: ((line: string) => void) | undefined;
  const early: string[] = [];
  const link = await startRendezvousOrExit(
    program,
    peer,
    args,
    home,
    knownPeers,
    (line) => (news ? news(line) : early.push(line)),
    settings,
  );
  let history: ChatHistory;
  try {
    history = new ChatHistory(home);
  } catch (error) {
    await peer.close(0);
    exitWith(program, error instanceof Error ? error.message : String(error), 1);
  }

  const app = new TuiApp(peer, {
    noColor: Boolean(process.env.NO_COLOR),
    mouse: args.mouse,
    bell: !args['no-bell'],
    history,
    knownPeers,
    files: {
      link: files,
      downloadFolder,
      ...(args['max-file-size'] !== undefined && { maxFileSize: args['max-file-size'] }),
    },
    acceptAll: args.yes,
    verbose: args.verbose,
    ...(connect && { connect }),
    // A fingerprint asked for at start waits (up to the connect timeout) until we are registered.
    ...(link && {
      find: rendezvousFinder(link, peer.options.connectTimeout, (line) => news?.(line)),
    }),
    onExit: (left) => {
      // The terminal is the shell's again: what the screen said last would otherwise go unsaid;
      // and, as netchat's, the exit code is 4 when something asked for was left unfinished.
      try {
        if (left) process.stderr.write(`netchat-tui: ${left}\n`);
      } catch {}
      process.exit(left ? 4 : 0);
    },
  });

  news = (line) => app.notice(line);
  for (const line of early.splice(0)) news(line);

  // The terminal went away (its window closed, tmux killed): the pty answers writes with EIO or
  // EPIPE. That is a hangup, not a crash: close the sessions (the peers are told) and leave no log.
  const terminalGone = (error: unknown) => {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code !== 'EIO' && code !== 'EPIPE') return false;
    void app.quit();
    return true;
  };
  for (const stream of [process.stdout, process.stdin]) stream.on('error', terminalGone);
  const crash = (error: unknown) => {
    if (terminalGone(error)) return;
    const path = join(tmpdir(), `netchat-tui-${process.pid}.log`);
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    try {
      writeFileSync(path, `${new Date().toISOString()} netchat-tui ${version}\n${detail}\n`);
    } catch {}
    app.view.destroy();
    process.stderr.write(
      `netchat-tui: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.stderr.write(`netchat-tui: details written to ${path}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  for (const signal of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) process.on(signal, () => void app.quit());
  // For the crash test only: lets a test prove the terminal is restored after an uncaught error.
  if (process.env.NETCHAT_TUI_CRASH_AFTER_MS) {
    setTimeout(() => {
      throw new Error('crash requested by NETCHAT_TUI_CRASH_AFTER_MS');
    }, Number(process.env.NETCHAT_TUI_CRASH_AFTER_MS));
  }
  app.start();
}

main().catch((error: unknown) =>
  exitWith(program, error instanceof Error ? error.message : String(error), 1),
);

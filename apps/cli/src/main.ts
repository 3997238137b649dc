#!/usr/bin/env node
/** `netchat <port>`: wires the command line, the socket, the terminal and the chat flow together. */
import { createRequire } from 'node:module';
import { ChatHistory, resolveTarget, type Target, texts, withFinder } from '@netchat/client';
import { assessTrust, fingerprint, isRelayed, type NetchatEvent, netchatHome } from '@netchat/core';
import {
  exitWith,
  exitWithUsage,
  fileLinkOf,
  loadKnownPeersOrExit,
  loadSettingsOrExit,
  openHomeOrExit,
  peerOptionsFrom,
  reachableAddresses,
  readCommandLine,
  rendezvousFinder,
  startPeerOrExit,
  startRendezvousOrExit,
} from '@netchat/options';
import { parseCliArguments, usage } from './arguments.js';
import { ChatFlow, EXIT } from './chat-flow.js';
import { contactsCommand, historyCommand } from './home-commands.js';
import { eventToJson, fileEventToJson, isTransportEvent } from './json-events.js';
import { JsonProgressGate } from './json-progress.js';
import { JsonSessionEnds } from './json-session-ends.js';
import { LineConsole, terminalGone } from './line-console.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
const program = { name: 'netchat', version, usage };

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'history' || command === 'contacts') {
    // The home, read (and changed) from the command line: no socket, no banner.
    const home = netchatHome();
    loadSettingsOrExit(program, home);
    const files = { knownPeers: loadKnownPeersOrExit(program, home), history: new ChatHistory(home) };
    const io = {
      out: (line: string) => process.stdout.write(`${line}\n`),
      err: (line: string) => process.stderr.write(`${line}\n`),
    };
    const code = command === 'history' ? historyCommand(rest, files, io) : contactsCommand(rest, files, io);
    process.stdout.write('', () => process.exit(code));
    return;
  }
  const cli = readCommandLine(program, parseCliArguments);
  // Everything that can be wrong with the home or the command line is said before any banner.
  const settings = loadSettingsOrExit(program, netchatHome());
  const opened = openHomeOrExit(program);
  const ownFingerprint = fingerprint(opened.keyPair.publicKey);
  const rendezvous = (cli.rendezvous ?? settings.rendezvous) !== undefined;
  let connect: Target | undefined;
  if (cli.connect !== undefined) {
    const resolved = resolveTarget(cli.connect, {
      contacts: opened.knownPeers.list(),
      rendezvous,
      ownFingerprint,
    });
    if (!resolved.ok) exitWithUsage(program, texts.connectArgumentText(cli.connect, resolved.problem));
    connect = resolved.target;
  }
  const { peer, knownPeers, home } = await startPeerOrExit(
    program,
    peerOptionsFrom(cli, { files: true }),
    opened,
  );
  const { files, downloadFolder } = fileLinkOf(peer, cli, settings, home);
  // Its on/off comes from settings.json, read (and checked) above.
  const history = new ChatHistory(home);
  // Where we are, first: the port we got (port 0 picks one) and what to tell a friend.
  const port = peer.address.port;
  const addresses = reachableAddresses(peer.address.host);
  // --json: a session this side closed or declined is over for a script, though the engine lingers.
  const ends = new JsonSessionEnds((session) => peer.session(session)?.state);
  if (cli.json) {
    process.stdout.write(
      `${JSON.stringify({ type: 'listening', port, addresses, fingerprint: ownFingerprint })}\n`,
    );
    // A request says what its key is to us, as the flow will (the same list, read first).
    const trustOf = (e: NetchatEvent) =>
      e.type === 'request'
        ? assessTrust(e.fingerprint, e.nick, knownPeers.check(e.publicKey, e.nick))
        : undefined;
    peer.on('event', (event) => {
      // The streams under file transfers are the transport's business: their own events say it.
      if (!isTransportEvent(event) && ends.tells(event))
        process.stdout.write(`${eventToJson(event, trustOf(event))}\n`);
    });
    const progress = new JsonProgressGate();
    files.on('event', (event) => {
      const at = peer.session(event.session)?.peer;
      const line = fileEventToJson(event, at !== undefined && isRelayed(at));
      for (const printed of line ? progress.lines(event, line) : []) process.stdout.write(`${printed}\n`);
    });
  } else {
    const reach = addresses.map((host) => `${host} ${port}`).join(', ');
    process.stdout.write(
      `Listening on UDP port ${port}. Others can reach you at: ${reach}\nYour fingerprint: ${ownFingerprint}\n`,
    );
  }

  // Rendezvous and STUN news: plain lines until the console owns the terminal, then above the prompt.
  let say = (line: string) =>
    process.stdout.write(cli.json ? `${JSON.stringify({ type: 'rendezvous', text: line })}\n` : `${line}\n`);
  const link = await startRendezvousOrExit(
    program,
    peer,
    cli,
    home,
    knownPeers,
    (line) => say(line),
    settings,
  );

  let flow: ChatFlow | undefined;
  let quitting = false;
  const terminal = new LineConsole(
    { input: process.stdin, output: process.stdout, errors: process.stderr },
    { line: (text) => flow?.line(text), end: () => flow?.endOfInput(), interrupt: () => interrupt('SIGINT') },
    cli.json,
    (event) => ends.noteLocal(event),
  );
  const quit = async (code: number) => {
    quitting = true;
    terminal.close();
    // What arrived is made durable and kept; our unfinished offers stay recorded for a resume.
    await files.close();
    // Long enough for messages in flight to linger and for the disconnect to be acknowledged.
    await peer.close(peer.options.closeLinger + 5_000);
    process.stdout.write('', () => process.exit(code));
  };
  if (!cli.json)
    say = (line) => {
      terminal.say(line);
      return true;
    };
  // A second interrupt while closing quits at once (a person's second Ctrl-C). Not a second
  // hangup: a closed terminal sends more than one (tmux, then the kernel), and the close must
  // go on until the peer is told.
  const interrupt = (signal: NodeJS.Signals) => {
    if (!quitting) flow?.interrupt(signal);
    else if (signal !== 'SIGHUP') process.exit(EXIT.interrupted(signal));
  };
  flow = new ChatFlow(
    // A fingerprint asked for at start waits (up to the connect timeout) until we are registered.
    withFinder(peer, link && rendezvousFinder(link, peer.options.connectTimeout, (line) => say(line))),
    terminal,
    {
      yes: cli.yes,
      verbose: cli.verbose,
      connect,
      interactive: terminal.interactive,
      rendezvous: link !== undefined,
      contacts: () => knownPeers.list(),
      ownFingerprint,
      storage: { knownPeers, history },
      history,
      ...(cli.wait !== undefined && { waitMs: cli.wait }),
      files: {
        port: files,
        settings: {
          downloadFolder,
          acceptAll: cli['accept-files'],
          ...(cli['max-file-size'] !== undefined && { maxFileSize: cli['max-file-size'] }),
        },
        sendFiles: cli['send-file'],
        columns: () => process.stdout.columns ?? 80,
      },
    },
    knownPeers,
    (code) => void quit(code),
  );
  peer.on('event', (event) => flow?.client.handle(event));
  files.on('event', (event) => flow?.files?.transfers.handle(event));
  files.on('warning', (line) => terminal.warn(line));
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, interrupt);
  // The terminal went away (EIO, EPIPE on its streams): a hangup, as SIGHUP (which comes too).
  // Once quitting, what can no longer be written is let go: the peers are told all the same.
  for (const stream of [process.stdin, process.stdout, process.stderr])
    stream.on('error', (error) => {
      if (!terminalGone(error)) throw error;
      if (!quitting) interrupt('SIGHUP');
    });
  flow.start();
}

main().catch((error: unknown) =>
  exitWith(program, error instanceof Error ? error.message : String(error), 1),
);

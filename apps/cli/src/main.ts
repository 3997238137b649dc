#!/usr/bin/env node
/** `netchat <port>`: wires the command line, the socket, the terminal and the chat flow together. */
import { createRequire } from 'node:module';
import { exitWith, peerOptionsFrom, readCommandLine, startPeerOrExit } from '@netchat/options';
import { parseCliArguments, usage } from './arguments.js';
import { ChatFlow } from './chat-flow.js';
import { eventToJson } from './json-events.js';
import { LineConsole } from './line-console.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
const program = { name: 'netchat', version, usage };

async function main(): Promise<void> {
  const cli = readCommandLine(program, parseCliArguments);
  const { peer, knownPeers } = await startPeerOrExit(program, peerOptionsFrom(cli));
  if (cli.json) peer.on('event', (event) => process.stdout.write(`${eventToJson(event)}\n`));

  let flow: ChatFlow | undefined;
  const terminal = new LineConsole(
    { input: process.stdin, output: process.stdout, errors: process.stderr },
    { line: (text) => flow?.line(text), end: () => flow?.endOfInput(), interrupt: () => flow?.interrupt() },
    cli.json,
  );
  flow = new ChatFlow(
    peer,
    terminal,
    { yes: cli.yes, verbose: cli.verbose, connect: cli.connect, drainTimeoutMs: 10_000 },
    knownPeers,
    () => {
      terminal.close();
      process.stdout.write('', () => process.exit(0));
    },
  );
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => flow?.interrupt());
  if (cli.verbose) terminal.say(`Listening on ${peer.address.host} port ${peer.address.port}`);
  flow.start();
}

main().catch((error: unknown) =>
  exitWith(program, error instanceof Error ? error.message : String(error), 1),
);

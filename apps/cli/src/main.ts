#!/usr/bin/env node
/** `netchat <port>`: wires the command line, the socket, the terminal and the chat flow together. */
import { createRequire } from 'node:module';
import { BindError, NetchatPeer } from '@netchat/core';
import { peerOptionsFrom, UsageError } from '@netchat/options';
import { parseCliArguments, usage } from './arguments.js';
import { ChatFlow } from './chat-flow.js';
import { eventToJson } from './json-events.js';
import { LineConsole } from './line-console.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

function fail(message: string, code: number, hint = false): never {
  process.stderr.write(`netchat: ${message}${hint ? " (see 'netchat --help')" : ''}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let args: ReturnType<typeof parseCliArguments>;
  try {
    args = parseCliArguments(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError) fail(error.message, error.exitCode, true);
    throw error;
  }
  if ('help' in args && args.help) return void process.stdout.write(usage);
  if ('version' in args && args.version) return void process.stdout.write(`netchat ${version}\n`);
  const cli = args as Exclude<typeof args, { help: true } | { version: true }>;

  let peer: NetchatPeer;
  try {
    peer = await NetchatPeer.listen(peerOptionsFrom(cli));
  } catch (error) {
    if (error instanceof BindError) fail(error.message, 1);
    throw error;
  }
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
    () => {
      terminal.close();
      process.stdout.write('', () => process.exit(0));
    },
  );
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => flow?.interrupt());
  if (cli.verbose) terminal.say(`Listening on ${peer.address.host} port ${peer.address.port}`);
  flow.start();
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error), 1));

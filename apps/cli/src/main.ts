#!/usr/bin/env node
/** `netchat <port>`: wires the command line, the socket, the terminal and the chat flow together. */
import { createRequire } from 'node:module';
import { fingerprint } from '@netchat/core';
import {
  exitWith,
  peerOptionsFrom,
  reachableAddresses,
  readCommandLine,
  startPeerOrExit,
  startRendezvousOrExit,
} from '@netchat/options';
import { withFinder } from '@netchat/client';
import { parseCliArguments, usage } from './arguments.js';
import { ChatFlow, EXIT } from './chat-flow.js';
import { eventToJson } from './json-events.js';
import { LineConsole } from './line-console.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
const program = { name: 'netchat', version, usage };

async function main(): Promise<void> {
  const cli = readCommandLine(program, parseCliArguments);
  const { peer, knownPeers, keyPair, home } = await startPeerOrExit(program, peerOptionsFrom(cli));
  // Where we are, first: the port we got (port 0 picks one) and what to tell a friend.
  const port = peer.address.port;
  const addresses = reachableAddresses(peer.address.host);
  const ownFingerprint = fingerprint(keyPair.publicKey);
  if (cli.json) {
    process.stdout.write(
      `${JSON.stringify({ type: 'listening', port, addresses, fingerprint: ownFingerprint })}\n`,
    );
    peer.on('event', (event) => process.stdout.write(`${eventToJson(event)}\n`));
  } else {
    const reach = addresses.map((host) => `${host} ${port}`).join(', ');
    process.stdout.write(
      `Listening on UDP port ${port}. Others can reach you at: ${reach}\nYour fingerprint: ${ownFingerprint}\n`,
    );
  }

  // Rendezvous and STUN news: plain lines until the console owns the terminal, then above the prompt.
  let say = (line: string) =>
    process.stdout.write(cli.json ? `${JSON.stringify({ type: 'rendezvous', text: line })}\n` : `${line}\n`);
  const link = await startRendezvousOrExit(program, peer, cli, home, knownPeers, (line) => say(line));

  let flow: ChatFlow | undefined;
  let quitting = false;
  const terminal = new LineConsole(
    { input: process.stdin, output: process.stdout, errors: process.stderr },
    { line: (text) => flow?.line(text), end: () => flow?.endOfInput(), interrupt: () => interrupt('SIGINT') },
    cli.json,
  );
  const quit = async (code: number) => {
    quitting = true;
    terminal.close();
    // Long enough for messages in flight to linger and for the disconnect to be acknowledged.
    await peer.close(peer.options.closeLinger + 5_000);
    process.stdout.write('', () => process.exit(code));
  };
  if (!cli.json)
    say = (line) => {
      terminal.say(line);
      return true;
    };
  // A second interrupt while closing quits at once.
  const interrupt = (signal: NodeJS.Signals) =>
    quitting ? process.exit(EXIT.interrupted(signal)) : flow?.interrupt(signal);
  flow = new ChatFlow(
    withFinder(peer, link && ((fingerprint) => link.find(fingerprint))),
    terminal,
    {
      yes: cli.yes,
      verbose: cli.verbose,
      connect: cli.connect,
      interactive: terminal.interactive,
      rendezvous: link !== undefined,
      contacts: () => knownPeers.list(),
      storage: { knownPeers },
      ...(cli.wait !== undefined && { waitMs: cli.wait }),
    },
    knownPeers,
    (code) => void quit(code),
  );
  peer.on('event', (event) => flow?.client.handle(event));
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, interrupt);
  flow.start();
}

main().catch((error: unknown) =>
  exitWith(program, error instanceof Error ? error.message : String(error), 1),
);

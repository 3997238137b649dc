/**
 * What every netchat program does the same way at start-up: read its command line (printing
 * help or version, or a one-line usage error with exit code 2) and open its peer (a port that
 * cannot be bound is a one-line error with exit code 1).
 */
import {
  BindError,
  fingerprint,
  IdentityError,
  type KeyPair,
  KnownPeers,
  loadIdentity,
  NetchatPeer,
  netchatHome,
  type PeerOptions,
} from '@netchat/core';
import { completionProblem } from './completion.js';
import { nextWords, usageCommands } from './completion-commands.js';
import { earlyAnswer } from './early.js';
import { knownPeerAddresses, placeholderWords } from './known-peer-words.js';
import { UsageError } from './usage-error.js';

export interface ProgramInfo {
  /** As typed: netchat, netchat-bot, netchat-tui. */
  name: string;
  version: string;
  usage: string;
}

/**
 * What may come at the last of `typed` (the words after the program name) by the commands the
 * usage lists, with NAME and FINGERPRINT filled from the known peers.
 */
export function completionWords(
  program: ProgramInfo,
  typed: readonly string[],
  home = netchatHome(),
): string[] {
  const next = nextWords(usageCommands(program.name, program.usage), typed);
  return [...next.words, ...next.placeholders.flatMap((placeholder) => placeholderWords(home, placeholder))];
}

/** Prints `name: message` on stderr and exits with `code`. */
export function exitWith(program: ProgramInfo, message: string, code: number): never {
  process.stderr.write(`${program.name}: ${message}\n`);
  process.exit(code);
}

/** A bad command line found after parsing: `name: message (see 'name --help')`, exit code 2. */
export function exitWithUsage(program: ProgramInfo, message: string): never {
  exitWith(program, `${message} (see '${program.name} --help')`, 2);
}

/**
 * The parsed arguments, or (for --help, --version, --fingerprint, `completion …` and usage
 * errors) the process ends here.
 */
export function readCommandLine<T extends object>(
  program: ProgramInfo,
  parse: (argv: string[]) => T | { help: true } | { version: true } | { fingerprint: true },
  argv: string[] = process.argv.slice(2),
): T {
  const early = earlyAnswer({ ...program, version: () => program.version }, argv);
  if (early !== undefined) {
    process.stdout.write(early);
    process.exit(0);
  }
  if (argv.length === 2 && argv[0] === 'completion' && argv[1] === 'peers') {
    // For shell completion of --connect: where known peers were last seen, most recent first.
    for (const address of knownPeerAddresses(netchatHome())) process.stdout.write(`${address}\n`);
    process.exit(0);
  }
  if (argv[0] === 'completion' && argv[1] === 'words' && argv[2] === '--') {
    // For shell completion after a command (netchat history …): what may come next, one a line.
    for (const word of completionWords(program, argv.slice(3))) process.stdout.write(`${word}\n`);
    process.exit(0);
  }
  // `completion` with no shell or an unknown one (a known one was answered early): say which exist.
  if (argv[0] === 'completion') exitWith(program, completionProblem(program.name, argv[1]), 2);
  let parsed: T | { help: true } | { version: true } | { fingerprint: true };
  try {
    parsed = parse(argv);
  } catch (error) {
    if (error instanceof UsageError) exitWithUsage(program, error.message);
    throw error;
  }
  if ('help' in parsed && parsed.help === true) {
    process.stdout.write(program.usage);
    process.exit(0);
  }
  if ('version' in parsed && parsed.version === true) {
    process.stdout.write(`${program.name} ${program.version}\n`);
    process.exit(0);
  }
  if ('fingerprint' in parsed && parsed.fingerprint === true) {
    const { keyPair, path } = loadIdentityOrExit(program);
    process.stdout.write(`Your fingerprint: ${fingerprint(keyPair.publicKey)}\nKey file: ${path}\n`);
    process.exit(0);
  }
  return parsed as T;
}

/** The user's key pair from the netchat home (made on first run), or a one-line error and exit 1. */
export function loadIdentityOrExit(program: ProgramInfo): { keyPair: KeyPair; path: string; home: string } {
  const home = netchatHome();
  try {
    return { ...loadIdentity(home), home };
  } catch (error) {
    if (error instanceof IdentityError) exitWith(program, error.message, 1);
    throw error;
  }
}

/** The peers the user trusts (known_peers.json in the netchat home), or a one-line error and exit 1. */
export function loadKnownPeersOrExit(program: ProgramInfo, home: string): KnownPeers {
  try {
    return KnownPeers.load(home);
  } catch (error) {
    if (error instanceof IdentityError) exitWith(program, error.message, 1);
    throw error;
  }
}

/** Opens the peer's socket, or ends the process with the bind error's one line and exit code 1. */
export async function listenOrExit(program: ProgramInfo, options: PeerOptions): Promise<NetchatPeer> {
  try {
    return await NetchatPeer.listen(options);
  } catch (error) {
    if (error instanceof BindError) exitWith(program, error.message, 1);
    throw error;
  }
}

/** The netchat home as a program uses it: the user's key and the peers they trust. */
export interface OpenedHome {
  home: string;
  keyPair: KeyPair;
  knownPeers: KnownPeers;
}

/** The user's key (made on first run) and known peers, before anything is bound or printed; each failure one line and exit 1. */
export function openHomeOrExit(program: ProgramInfo): OpenedHome {
  const identity = loadIdentityOrExit(program);
  return {
    home: identity.home,
    keyPair: identity.keyPair,
    knownPeers: loadKnownPeersOrExit(program, identity.home),
  };
}

/**
 * Everything a program needs to start talking: the user's key (made on first run), the peers
 * they trust, and the socket, with the key in the peer. Each failure is one line and an exit.
 * A program that reads more of the home first (settings, --connect by nick) passes it opened.
 */
export async function startPeerOrExit(
  program: ProgramInfo,
  options: PeerOptions,
  opened: OpenedHome = openHomeOrExit(program),
): Promise<{ peer: NetchatPeer; keyPair: KeyPair; knownPeers: KnownPeers; home: string }> {
  const peer = await listenOrExit(program, { ...options, identity: opened.keyPair });
  return { peer, ...opened };
}

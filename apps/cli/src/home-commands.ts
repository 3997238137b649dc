/**
 * `netchat history NAME` and `netchat contacts …`: reading and changing the netchat home from the
 * command line, without a socket. NAME is a known peer's nick, its fingerprint or the start of it
 * (as everywhere: the client's matchContacts). Each returns its exit code: 0 done, 1 nothing
 * found, ambiguous or not saved, 2 a bad command line (one line each on stderr).
 */
import { parseArgs } from 'node:util';
import { type ChatHistory, matchContacts, peerName, texts } from '@netchat/client';
import {
  fingerprint,
  fingerprintBytes,
  fingerprintText,
  type KnownPeer,
  type KnownPeers,
  MAX_NICK_BYTES,
  terminalSafe,
} from '@netchat/core';
import { homeCommandsHelp } from './arguments.js';

export interface CommandOutput {
  out(line: string): void;
  err(line: string): void;
}

/** The files of the netchat home the commands read and change. */
export interface HomeFiles {
  readonly knownPeers: KnownPeers;
  readonly history: ChatHistory;
}

const USAGE = 2;
const NOT_DONE = 1;

/** `netchat history NAME [--json] [--grep TEXT]`. */
export function historyCommand(argv: string[], files: HomeFiles, io: CommandOutput): number {
  const parsed = parse('history', argv, { json: { type: 'boolean' }, grep: { type: 'string' } }, io);
  if (!parsed) return USAGE;
  if (parsed.values.help) return help(io);
  const [name, extra] = parsed.positionals;
  if (name === undefined || extra !== undefined) {
    io.err('netchat: usage: netchat history NAME [--json] [--grep TEXT] (NAME: a nick or a fingerprint)');
    return USAGE;
  }
  const { history } = files;
  const keys = historyKeys(files.knownPeers.list(), history, name);
  if (keys.length !== 1) {
    io.err(
      `netchat: ${
        keys.length === 0
          ? noSuchPeer(name)
          : ambiguous(
              name,
              keys.map((k) => k.fingerprint),
            )
      }`,
    );
    return NOT_DONE;
  }
  const grep = typeof parsed.values.grep === 'string' ? parsed.values.grep.toLowerCase() : undefined;
  const entries = history
    .all(keys[0]?.publicKey ?? '')
    .filter((e) => grep === undefined || e.text.toLowerCase().includes(grep));
  const peer = peerName('', keys[0]?.fingerprint ?? '');
  for (const entry of entries)
    io.out(parsed.values.json ? JSON.stringify(entry) : texts.historyText(entry, { peer }));
  return 0;
}

/** `netchat contacts [--json]`, `contacts forget NAME`, `rename NAME NEW`, `verify FINGERPRINT`. */
export function contactsCommand(argv: string[], files: HomeFiles, io: CommandOutput): number {
  const parsed = parse('contacts', argv, { json: { type: 'boolean' } }, io);
  if (!parsed) return USAGE;
  if (parsed.values.help) return help(io);
  const [action, ...rest] = parsed.positionals;
  const peers = files.knownPeers;
  const saved = (...done: string[]): number => {
    if (peers.lastSaveFailure) {
      io.err(`netchat: could not save ${peers.lastSaveFailure.path}: ${peers.lastSaveFailure.reason}`);
      return NOT_DONE;
    }
    for (const line of done) io.out(line);
    return 0;
  };
  switch (action) {
    case undefined: {
      const list = peers.list();
      if (parsed.values.json) for (const peer of list) io.out(JSON.stringify(peer));
      else if (list.length === 0) io.out('No known peers yet: they are added as you chat.');
      else for (const peer of list) io.out(texts.contactText(peer));
      return 0;
    }
    case 'forget':
    case 'rename':
    case 'verify':
      break;
    default:
      io.err(`netchat: unknown contacts command "${terminalSafe(action)}" (forget, rename or verify)`);
      return USAGE;
  }
  const wanted = { forget: 1, rename: 2, verify: 1 }[action];
  if (rest.length !== wanted) {
    io.err(
      `netchat: usage: ${
        homeCommandsHelp
          .split('\n')
          .find((l) => l.includes(`contacts ${action}`))
          ?.trim()
          .split(/\s{2,}/)[0]
      }`,
    );
    return USAGE;
  }
  const [name = '', nick = ''] = rest;
  if (action === 'verify') {
    // The whole fingerprint: verifying is comparing all of it, not a start that happens to match.
    const bytes = fingerprintBytes(name);
    if (!bytes) {
      io.err(
        'netchat: verify needs the whole fingerprint, e.g. YRZP-XNNN-LLZO-NRFE (compare it aloud first)',
      );
      return USAGE;
    }
    const peer = peers.list().find((p) => p.fingerprint === fingerprintText(bytes));
    if (!peer) {
      io.err(`netchat: ${fingerprintText(bytes)} is not a known peer: chat with it once, then verify it`);
      return NOT_DONE;
    }
    peers.verify(peer.publicKey);
    return saved(
      `Verified ${label(peer)}: its requests say so${refusedNicks(peer)}.`,
      ...stillKnown(peers.list(), peer),
    );
  }
  const found = matchContacts(peers.list(), name);
  if (found.length !== 1) {
    io.err(
      `netchat: ${
        found.length === 0
          ? noSuchPeer(name)
          : ambiguous(
              name,
              found.map((p) => p.fingerprint),
            )
      }`,
    );
    return NOT_DONE;
  }
  const peer = found[0] as KnownPeer;
  if (action === 'forget') {
    peers.forget(peer.publicKey);
    return saved(
      `Forgot ${label(peer)}: its key is new again next time (its chat history stays; see netchat history).`,
    );
  }
  if (nick.trim() === '' || /\p{Cc}/u.test(nick) || Buffer.byteLength(nick) > MAX_NICK_BYTES) {
    io.err(`netchat: the new name must be 1 to ${MAX_NICK_BYTES} bytes, without control characters`);
    return USAGE;
  }
  peers.rename(peer.publicKey, nick.trim());
  return saved(`${label(peer)} is called ${terminalSafe(nick.trim())} from now on.`);
}

/** The peers `name` means among the known peers, or (a whole fingerprint) among the history files. */
function historyKeys(known: readonly KnownPeer[], history: ChatHistory, name: string) {
  const found = matchContacts(known, name).map((p) => ({
    publicKey: p.publicKey,
    fingerprint: p.fingerprint,
  }));
  if (found.length > 0) return found;
  const bytes = fingerprintBytes(name);
  if (!bytes) return [];
  const wanted = fingerprintText(bytes);
  return history
    .peers()
    .map((publicKey) => ({ publicKey, fingerprint: fingerprint(Buffer.from(publicKey, 'hex')) }))
    .filter((p) => p.fingerprint === wanted);
}

/**
 * Which nicks a verified key now keeps from others: the name it is known by and, once renamed,
 * the nick it gives itself (known-peers refuses a new key with either), so the user is told both.
 */
function refusedNicks(peer: KnownPeer): string {
  const nicks = [peer.peerNick, peer.nick].filter((n): n is string => Boolean(n));
  const distinct = [...new Set(nicks)].map((n) => terminalSafe(n));
  if (distinct.length === 0) return '';
  return `, and another key calling itself ${distinct.join(' or ')} is refused`;
}

/**
 * Other known keys that go by one of its nicks (the old key of a peer that made a new one): a
 * known key is let in as before, so "another key is refused" must not be all the user reads.
 */
function stillKnown(known: readonly KnownPeer[], peer: KnownPeer): string[] {
  const nicks = new Set([peer.nick, peer.peerNick].filter((n): n is string => Boolean(n)));
  const sharesANick = (p: KnownPeer) =>
    nicks.has(p.nick) || (p.peerNick !== undefined && nicks.has(p.peerNick));
  return known
    .filter((p) => p.publicKey !== peer.publicKey && sharesANick(p))
    .map(
      (p) =>
        `${label(p)} is known too and still let in: if that key is no longer this peer's, netchat contacts forget ${p.fingerprint}`,
    );
}

function label(peer: KnownPeer): string {
  return `${terminalSafe(peer.nick) || '(no nick)'} (${peer.fingerprint})`;
}

function noSuchPeer(name: string): string {
  return `no known peer is called "${terminalSafe(name)}" (see netchat contacts)`;
}

function ambiguous(name: string, fingerprints: readonly string[]): string {
  return `"${terminalSafe(name)}" is ${fingerprints.length} known peers: ${fingerprints.join(', ')}; name one by the start of its fingerprint`;
}

type Flags = Parameters<typeof parseArgs>[0] extends infer C
  ? C extends { options?: infer O }
    ? O
    : never
  : never;

/** `--help` (or -h) after a command: the commands' part of netchat --help, exit 0. */
function help(io: CommandOutput): number {
  for (const line of homeCommandsHelp.split('\n')) io.out(line);
  return 0;
}

/** The command's flags (and --help), or one line saying what is wrong with them. */
function parse(command: string, argv: string[], options: Flags, io: CommandOutput) {
  const withHelp: Flags = { ...options, help: { type: 'boolean', short: 'h' } };
  try {
    return parseArgs({ args: argv, options: withHelp, allowPositionals: true, strict: true });
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    // Node's own words for an unknown option run to three lines of advice; one is enough.
    const problem =
      code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
        ? `netchat ${command} has no option ${/'([^']*)'/.exec(message)?.[1] ?? ''}`
        : message.split('\n')[0];
    io.err(`netchat: ${problem} (see 'netchat ${command} --help')`);
    return undefined;
  }
}

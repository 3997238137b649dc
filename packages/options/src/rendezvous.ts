/**
 * The rendezvous and STUN flags every people-facing front-end shares, the `settings.json` in the
 * netchat home that can hold them, and the start-up that registers with the rendezvous and asks
 * the STUN server. Each failure is one line; a bad flag is exit code 2, a bad settings file 1.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Address,
  fileProblem,
  formatAddress,
  type KnownPeers,
  type NetchatPeer,
  type PeerSpec,
  parsePeerSpec,
  RendezvousLink,
} from '@netchat/core';
import { z } from 'zod';
import { ownSentence } from './peer-flags.js';
import { exitWith, type ProgramInfo } from './program.js';
import { stunBinding } from './stun.js';

export const rendezvousFlags = {
  rendezvous: { type: 'string' },
  introductions: { type: 'string' },
  stun: { type: 'string' },
} as const;

const INTRODUCTIONS = ['anyone', 'known'] as const;

const hostPort = (what: string) =>
  z.string().transform((text, ctx): PeerSpec => {
    try {
      return parsePeerSpec(text);
    } catch (error) {
      ctx.addIssue(ownSentence(`${(error as Error).message} (${what} HOST:PORT)`));
      return z.NEVER;
    }
  });

/** Add to a program's argument schema with `.extend(RendezvousArguments)`. */
export const RendezvousArguments = {
  rendezvous: hostPort('the rendezvous peer').optional(),
  introductions: z.enum(INTRODUCTIONS, { error: 'must be anyone or known' }).optional(),
  stun: hostPort('a STUN server').optional(),
};

export const rendezvousFlagsHelp = `  --rendezvous HOST:PORT      a rendezvous peer: reach peers behind NAT by fingerprint or known nick
  --introductions WHO         whom the rendezvous may introduce to you: anyone (default) or known
  --stun HOST:PORT            ask this STUN server the address others see you at, and print it`;

export const settingsHelp =
  'settings.json in the netchat home may hold {"rendezvous": "HOST:PORT", "introductions": "known", "history": false, "downloadDir": "~/Downloads"}.';

/** settings.json in the netchat home: defaults for the flags above (a flag wins). */
export const Settings = z.strictObject({
  rendezvous: hostPort('the rendezvous peer').optional(),
  introductions: z.enum(INTRODUCTIONS, { error: 'must be "anyone" or "known"' }).optional(),
  /** Chat history on or off: written by the client's ChatHistory (`/log on|off`). */
  history: z.boolean({ error: 'must be true or false' }).optional(),
  /** Where received files go unless --download-dir says (`~/` is the home folder; relative to it). */
  downloadDir: z.string({ error: 'must be a folder' }).min(1, 'must be a folder').optional(),
});
export type Settings = z.infer<typeof Settings>;

/**
 * What is wrong with settings.json's text, as one line that says what to fix; undefined if it is
 * valid. Every program that reads the file says the same.
 */
export function settingsProblem(text: string): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return `is not valid JSON (${(error as Error).message})`;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return 'must hold one JSON object, e.g. {"rendezvous": "rv.example.org:3478"}';
  const parsed = Settings.safeParse(json);
  if (parsed.success) return undefined;
  const issue = parsed.error.issues[0];
  if (issue?.code === 'unrecognized_keys')
    return `has an unknown setting "${issue.keys[0]}" (the settings are ${Object.keys(Settings.shape).join(', ')})`;
  return `"${issue?.path.join('.')}" ${issue?.message ?? 'is invalid'}`;
}

/**
 * The settings in `home` (none if the file is absent). A file that cannot be read or is not
 * valid is one line (what to fix) and exit 1: call it before anything is printed.
 */
export function loadSettingsOrExit(program: ProgramInfo, home: string): Settings {
  const path = join(home, 'settings.json');
  if (!existsSync(path)) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    exitWith(program, `cannot read ${path}: ${fileProblem(error)}`, 1);
  }
  const problem = settingsProblem(text);
  if (problem !== undefined) exitWith(program, `${path} ${problem}; fix it or move it away`, 1);
  return Settings.parse(JSON.parse(text));
}

interface RendezvousChoice {
  rendezvous?: PeerSpec | undefined;
  introductions?: (typeof INTRODUCTIONS)[number] | undefined;
  stun?: PeerSpec | undefined;
}

/**
 * Registers with the rendezvous (from the flags, else settings.json), if one is named, and asks
 * the STUN server, if one is named; `say` prints a line for the person. Returns the link (its
 * `find` serves fingerprints and nicks), or undefined without a rendezvous.
 */
export async function startRendezvousOrExit(
  program: ProgramInfo,
  peer: NetchatPeer,
  args: RendezvousChoice,
  home: string,
  knownPeers: KnownPeers,
  say: (line: string) => void,
  settings: Settings = loadSettingsOrExit(program, home),
): Promise<RendezvousLink | undefined> {
  if (args.stun) {
    try {
      const server = await peer.resolve(args.stun.host, args.stun.port);
      const seen = await stunBinding(peer.udpSocket, server);
      say(`STUN: others see you at ${formatAddress(seen)} (${seen.host} ${seen.port})`);
    } catch (error) {
      say(`STUN: ${(error as Error).message}`);
    }
  }
  const spec = args.rendezvous ?? settings.rendezvous;
  if (!spec) return undefined;
  let server: Awaited<ReturnType<NetchatPeer['resolve']>>;
  try {
    server = await peer.resolve(spec.host, spec.port);
  } catch (error) {
    exitWith(program, `--rendezvous: ${(error as Error).message}`, 2);
  }
  const known = (args.introductions ?? settings.introductions ?? 'anyone') === 'known';
  const link = new RendezvousLink(peer, {
    server,
    acceptFrom: known ? 'listed' : 'anyone',
    listedKeys: known ? knownPeers.list().map((p) => Uint8Array.from(Buffer.from(p.publicKey, 'hex'))) : [],
  });
  serverOf.set(link, server);
  // A rendezvous that never answers is told only when the connect gives up (about 25 s): a word
  // after RENDEZVOUS_SILENCE_MS says the program is waiting for it, and what may be wrong.
  const silence = setTimeout(() => {
    if (!link.client.isRegistered)
      say(
        `No answer yet from the rendezvous ${formatAddress(server)}; still trying (is it running, and reachable from here?).`,
      );
  }, RENDEZVOUS_SILENCE_MS);
  silence.unref();
  link.on('update', (u) => {
    if (u.type === 'registered' || u.type === 'unregistered' || u.type === 'refused') clearTimeout(silence);
    if (u.type === 'registered')
      say(
        `Registered with the rendezvous ${formatAddress(server)}; it sees you at ${formatAddress(u.publicAddress)}.`,
      );
    if (u.type === 'unregistered')
      say(
        `${u.wasRegistered ? 'Lost' : 'Cannot reach'} the rendezvous ${formatAddress(server)}; trying again in ${u.retryIn / 1000} s.`,
      );
    if (u.type === 'refused')
      say(
        `The rendezvous ${formatAddress(server)} would not register you (${refusalText(u.reason)}); trying again in ${u.retryIn / 1000} s.`,
      );
  });
  return link;
}

/** How long a rendezvous may be silent at start before the person is told we are still waiting (ms). */
export const RENDEZVOUS_SILENCE_MS = 5_000;

/** Why a rendezvous refused to register us, in words (RendezvousUpdate `refused`). */
function refusalText(reason: string): string {
  return reason === 'full'
    ? 'it holds as many registrations as its operator allows'
    : reason.replaceAll('_', ' ');
}

/** The rendezvous each link registers with, for the finder's words. */
const serverOf = new WeakMap<RendezvousLink, Address>();

/**
 * The link's `find`, for the client's PeerPort: it first waits (at most `waitMs`, the connect
 * timeout) until we are registered, so a fingerprint given at start (--connect, or the first line
 * of a pipe) is asked for once the rendezvous knows us, instead of failing as "not registered yet".
 * A wait is said at once (`say`): with the rendezvous down, the person saw nothing for 30 s.
 */
export function rendezvousFinder(
  link: RendezvousLink,
  waitMs: number,
  say: (line: string) => void = () => {},
): (fingerprint: string) => Promise<Address> {
  return async (fingerprint) => {
    const server = serverOf.get(link);
    const which = server ? `the rendezvous ${formatAddress(server)}` : 'the rendezvous';
    const registered = link.whenRegistered(waitMs);
    // Settled already when registered (no wait to tell of); pending otherwise.
    const now = await Promise.race([registered, Promise.resolve(undefined)]);
    if (now === undefined)
      say(`Not registered with ${which} yet: waiting for it (at most ${waitMs / 1000} s).`);
    if (!(await registered))
      throw new Error(
        `cannot find the peer: not registered with ${which} within ${waitMs / 1000} s (is it running, and reachable from here?)`,
      );
    return link.find(fingerprint);
  };
}

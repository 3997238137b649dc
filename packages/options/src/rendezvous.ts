/**
 * The rendezvous and STUN flags every people-facing front-end shares, the `settings.json` in the
 * netchat home that can hold them, and the start-up that registers with the rendezvous and asks
 * the STUN server. Each failure is one line; a bad flag is exit code 2, a bad settings file 1.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  formatAddress,
  type KnownPeers,
  type NetchatPeer,
  type PeerSpec,
  parsePeerSpec,
  RendezvousLink,
} from '@netchat/core';
import { z } from 'zod';
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
      ctx.addIssue({ code: 'custom', message: `${(error as Error).message} (${what} HOST:PORT)` });
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
  'settings.json in the netchat home may hold {"rendezvous": "HOST:PORT", "introductions": "known", "history": false}.';

/** settings.json in the netchat home: defaults for the flags above (a flag wins). */
export const Settings = z.strictObject({
  rendezvous: hostPort('the rendezvous peer').optional(),
  introductions: z.enum(INTRODUCTIONS).optional(),
  /** Chat history on or off: written by the client's ChatHistory (`/log on|off` in the TUI). */
  history: z.boolean().optional(),
});
export type Settings = z.infer<typeof Settings>;

/** The settings in `home` (none if the file is absent); a file that is not valid is one line and exit 1. */
export function loadSettingsOrExit(program: ProgramInfo, home: string): Settings {
  const path = join(home, 'settings.json');
  if (!existsSync(path)) return {};
  let parsed: ReturnType<typeof Settings.safeParse>;
  try {
    parsed = Settings.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  } catch (error) {
    exitWith(program, `${path}: ${(error as Error).message}`, 1);
  }
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    exitWith(program, `${path}: ${issue?.path.join('.') || 'file'} ${issue?.message ?? 'is invalid'}`, 1);
  }
  return parsed.data;
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
): Promise<RendezvousLink | undefined> {
  const settings = loadSettingsOrExit(program, home);
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
  link.on('update', (u) => {
    if (u.type === 'registered')
      say(
        `Registered with the rendezvous ${formatAddress(server)}; it sees you at ${formatAddress(u.publicAddress)}.`,
      );
    if (u.type === 'unregistered')
      say(
        `${u.wasRegistered ? 'Lost' : 'Cannot reach'} the rendezvous ${formatAddress(server)}; trying again in ${u.retryIn / 1000} s.`,
      );
  });
  return link;
}

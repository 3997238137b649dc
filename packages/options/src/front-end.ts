/**
 * The flags the people-facing front-ends (netchat and netchat-tui) share beyond the peer's:
 * --connect (whom to ask at start), --yes and --verbose. Each app adds its own help lines for
 * them (their words differ: "ask this peer" at a prompt, "open a tab" in the TUI).
 */
import { z } from 'zod';
import { FileArguments, fileFlags } from './file-flags.js';
import { PeerArguments, peerFlags } from './peer-flags.js';
import { RendezvousArguments, rendezvousFlags } from './rendezvous.js';

export const frontEndFlags = {
  connect: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  verbose: { type: 'boolean', short: 'v' },
} as const;

/**
 * A peer as a person names it on the command line: an address (HOST:PORT, [::1]:6666, "IP Port"),
 * or, to be read once the known peers and the rendezvous are known, a fingerprint or the nick of a
 * known peer. Only its spaces are trimmed here: the client's `resolveTarget` says what it means.
 */
export const peerNameArgument = z
  .string()
  .transform((text) => text.trim())
  .refine((text) => text !== '', 'needs a peer: HOST:PORT, a fingerprint or a known nick');

/** Add to a program's argument schema with `.extend(FrontEndArguments)`. */
export const FrontEndArguments = {
  connect: peerNameArgument.optional(),
  yes: z.boolean().default(false),
  verbose: z.boolean().default(false),
};

/** The --yes line of a usage page (the same in both front-ends). */
export const yesFlagHelp = '  -y, --yes                   accept every connection request without asking';

/**
 * Every flag netchat and netchat-tui share, in one: the peer's, the rendezvous', these and the
 * files'. Each adds its own (`{ ...sharedFrontEndFlags, json: ... }`), so the two take the same
 * shared flags by construction.
 */
export const sharedFrontEndFlags = {
  ...peerFlags,
  ...rendezvousFlags,
  ...frontEndFlags,
  ...fileFlags,
} as const;

/** What `sharedFrontEndFlags` become; a front-end `.extend`s it with its own. */
export const SharedFrontEndArguments = PeerArguments.extend(RendezvousArguments)
  .extend(FrontEndArguments)
  .extend(FileArguments);

/** The `netchat` command line: the shared peer flags plus the CLI's own. */
import { PeerArguments, parseCommandLine, peerArgument, peerFlags, peerFlagsHelp } from '@netchat/options';
import { z } from 'zod';

const flags = {
  ...peerFlags,
  connect: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  verbose: { type: 'boolean', short: 'v' },
  json: { type: 'boolean' },
} as const;

export const CliArguments = PeerArguments.extend({
  connect: peerArgument.optional(),
  yes: z.boolean().default(false),
  verbose: z.boolean().default(false),
  json: z.boolean().default(false),
});
export type CliArguments = z.infer<typeof CliArguments>;

export function parseCliArguments(argv: string[]) {
  return parseCommandLine(argv, flags, CliArguments);
}

export const usage = `Usage: netchat [options] <port>

Peer-to-peer chat over UDP. Listens on <port>, asks whom to chat with, and answers requests.

Options:
${peerFlagsHelp}
  --connect HOST:PORT         ask this peer at start instead of prompting ([::1]:6666 for IPv6)
  -y, --yes                   accept every connection request without asking
  -v, --verbose               also show heartbeats sent and missed
  --json                      print every event as one JSON object a line, and no prompts

At the prompts: type "IP Port" (or HOST:PORT) to start a chat, y or n to answer a request,
and "exit" to close the chat (or, at the start prompt, to quit). Ctrl-D or Ctrl-C quits.

Example:
  netchat 5555                       # then type: 127.0.0.1 6666
  netchat 6666 --nick bob --yes      # on the other side
`;

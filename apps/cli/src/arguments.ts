/** The `netchat` command line: the shared peer flags plus the CLI's own. */

import { existsSync } from 'node:fs';
import {
  fileFlagsHelp,
  keyHomeHelp,
  parseCommandLine,
  peerFlagsHelp,
  rendezvousFlagsHelp,
  SharedFrontEndArguments,
  secondsArgument,
  settingsHelp,
  sharedFrontEndFlags,
  yesFlagHelp,
} from '@netchat/options';
import { z } from 'zod';

const flags = {
  ...sharedFrontEndFlags,
  'send-file': { type: 'string', multiple: true },
  'accept-files': { type: 'boolean' },
  json: { type: 'boolean' },
  wait: { type: 'string' },
} as const;

export const CliArguments = SharedFrontEndArguments.extend({
  json: z.boolean().default(false),
  wait: secondsArgument.optional(),
  'send-file': z.array(z.string().min(1, 'needs a path')).default([]),
  'accept-files': z.boolean().default(false),
}).superRefine((args, ctx) => {
  if (args['send-file'].length > 0 && args.connect === undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['send-file'],
      message: 'needs --connect PEER (whom to send the files to)',
    });
  for (const path of args['send-file'])
    if (!existsSync(path))
      ctx.addIssue({ code: 'custom', path: ['send-file'], message: `${path}: no such file or folder` });
});
export type CliArguments = z.infer<typeof CliArguments>;

export function parseCliArguments(argv: string[]) {
  return parseCommandLine(argv, flags, CliArguments);
}

export const homeCommandsHelp = `Commands (they read and change the netchat home; no network):
  netchat history NAME [--json] [--grep TEXT]   print the chat history with a peer (nick or fingerprint)
  netchat contacts [--json]                     list known peers: nick, fingerprint, where, last seen
  netchat contacts forget NAME                  forget a peer (its key is new again next time)
  netchat contacts rename NAME NEW              call a peer NEW, whatever nick it gives itself
  netchat contacts verify FINGERPRINT           mark a key verified once you compared it aloud
  netchat completion bash|zsh|fish              print a shell completion script`;

export const usage = `Usage: netchat [options] <port>

Peer-to-peer chat over UDP. Listens on <port>, asks whom to chat with, and answers requests.

Options:
${peerFlagsHelp}
  --connect PEER              ask this peer at start: HOST:PORT ([::1]:6666), a fingerprint or a nick
${yesFlagHelp}
  -v, --verbose               also show heartbeats sent and missed
  --json                      print every event as one JSON object a line, and no prompts
  --wait SECS                 when input ends, listen until the peer is quiet for SECS, then close
  --send-file PATH            with --connect: offer this file or folder once the chat opens (repeatable)
  --accept-files              accept every file offer (within --max-file-size) without asking
${fileFlagsHelp}
${rendezvousFlagsHelp}

${keyHomeHelp}
${settingsHelp}

At the prompts: type "IP Port" (or HOST:PORT, a fingerprint or the nick of a known peer) to
start a chat, y or n to answer a request, "cancel" to stop waiting for an answer, and "exit" to
close the chat (or, at the start prompt, to quit). In a chat: /me ACTION, /history [N] (the last
N lines with this peer), /log [on|off] (chat history), /send PATH... (offer files or folders),
/transfers (list them), /cancel N (stop transfer N); //text sends "/text", and any other line
starting with "/" is refused, never sent. An offer asks y or n. Ctrl-C clears a half-typed line;
on an empty line it quits, saying what it leaves unfinished (then the exit code is 130).

With --connect and piped input, every line is a message to that peer ("exit" closes the chat);
when the input ends the chat closes at once, or after --wait SECS of quiet from the peer.
Exit codes: 0 done (every message delivered), 1 cannot start (port, home, key file),
2 bad arguments, 3 the chat never opened (no answer, declined, bad address), 4 a message was not
delivered (not confirmed, or not sent), the chat ended early, a --send-file file was not
received and verified, or a quit left a transfer unfinished, 128+N stopped by signal N
(Ctrl-C: 130) with something unfinished (a request waiting, a transfer, a message not yet
confirmed, a script's input); 143 SIGTERM.

${homeCommandsHelp}

Example:
  netchat 5555                       # then type: 127.0.0.1 6666
  netchat 6666 --nick bob --yes      # on the other side
`;

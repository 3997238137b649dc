/** The `netchat-tui` command line: the same options as `netchat`, except --json and --wait. */
import {
  fileFlagsHelp,
  keyHomeHelp,
  parseCommandLine,
  peerFlagsHelp,
  rendezvousFlagsHelp,
  SharedFrontEndArguments,
  settingsHelp,
  sharedFrontEndFlags,
  yesFlagHelp,
} from '@netchat/options';
import { z } from 'zod';

const flags = {
  ...sharedFrontEndFlags,
  mouse: { type: 'boolean' },
  'no-bell': { type: 'boolean' },
} as const;

export const TuiArguments = SharedFrontEndArguments.extend({
  mouse: z.boolean().default(false),
  'no-bell': z.boolean().default(false),
});
export type TuiArguments = z.infer<typeof TuiArguments>;

export function parseTuiArguments(argv: string[]) {
  return parseCommandLine(argv, flags, TuiArguments);
}

export const usage = `Usage: netchat-tui [options] <port>

A full-screen netchat client: several conversations in tabs, requests and file offers in a dialog.

Options:
${peerFlagsHelp}
  --connect PEER              open a tab to this peer at start: HOST:PORT ([::1]:6666), a fingerprint or a nick
${yesFlagHelp}
  -v, --verbose               also show heartbeats sent
  --mouse                     take the mouse (wheel scrolls); without it drag-to-copy works
  --no-bell                   no bell for requests and messages in other tabs (/bell on|off)
${fileFlagsHelp}
${rendezvousFlagsHelp}

${keyHomeHelp}
${settingsHelp}

Inside: /connect IP PORT (or a fingerprint, or NICK), /contacts, /accept, /decline, /requests,
/send PATH... (Tab completes paths), /transfers, /cancel N, /list, /close, /nick, /me, /clear,
/bell, /log, /whoami, /help (F1), /quit or /exit (Ctrl+C).
Ctrl+N / Ctrl+P or Alt+1…9 switch tabs; PgUp past the top of a chat shows older history.
Honours NO_COLOR.
`;

/**
 * What a line typed at the flow's two other prompts means: at `Start chat with?`, a peer to ask
 * (the client's resolveTarget, so a name means the same peer as everywhere else), `exit`, or
 * nothing; at `Accept connection? (y/n)`, yes, no, or neither. A line typed in a chat is
 * chat-commands.ts's. Lines come trimmed: only a message keeps its spaces.
 */
import { resolveTarget, type Target, type TargetContext } from '@netchat/client';

export type StartLine =
  | { readonly name: 'nothing' }
  | { readonly name: 'exit' }
  | { readonly name: 'connect'; readonly target: Target }
  /** Not a peer: `message` says why, in one line. */
  | { readonly name: 'invalid'; readonly message: string };

export function readStartLine(command: string, context: TargetContext): StartLine {
  if (command === '') return { name: 'nothing' };
  if (command === 'exit') return { name: 'exit' };
  const resolved = resolveTarget(command, context);
  if (resolved.ok) return { name: 'connect', target: resolved.target };
  // What a newcomer types here that is no peer (a known peer called "help" is still that peer).
  return { name: 'invalid', message: promptHint(command) ?? resolved.problem.message };
}

const START =
  'type "IP Port" (e.g. 127.0.0.1 6666), HOST:PORT, a fingerprint or a known nick to start a chat';

/** A line for help, a chat command or an answer typed at the start prompt: what to type instead. */
function promptHint(command: string): string | undefined {
  const word = command.toLowerCase();
  if (['help', '?', '/help', '-h', '--help'].includes(word))
    return `At this prompt, ${START}; "exit" quits. In a chat: /me ACTION, /history [N], /log on|off, /send PATH..., /transfers, /cancel N, and "exit" closes it (see netchat --help).`;
  if (['y', 'yes', 'n', 'no'].includes(word)) return `No request is waiting for an answer: ${START}.`;
  const chatCommand = /^\/(me|history|log|send|transfers|cancel)\b/.exec(word)?.[0];
  if (chatCommand) return `${chatCommand} works in a chat: ${START}.`;
  return undefined;
}

/** y or yes, n or no, in any case; anything else is no answer. */
export function readAnswer(command: string): 'yes' | 'no' | undefined {
  const answer = command.toLowerCase();
  if (answer === 'y' || answer === 'yes') return 'yes';
  if (answer === 'n' || answer === 'no') return 'no';
  return undefined;
}

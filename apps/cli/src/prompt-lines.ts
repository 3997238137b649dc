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
  return resolved.ok
    ? { name: 'connect', target: resolved.target }
    : { name: 'invalid', message: resolved.problem.message };
}

/** y or yes, n or no, in any case; anything else is no answer. */
export function readAnswer(command: string): 'yes' | 'no' | undefined {
  const answer = command.toLowerCase();
  if (answer === 'y' || answer === 'yes') return 'yes';
  if (answer === 'n' || answer === 'no') return 'no';
  return undefined;
}

/**
 * What a line typed in a chat means, and doing what it asks: `exit`, one of the commands
 * `/history [N]`, `/log [on|off]`, `/me ACTION`, `/send PATH...`, `/transfers` and `/cancel N`,
 * or a message exactly as typed. A line that starts with `//` is a message starting with `/`
 * (`//history` sends `/history`); one that starts with a single `/` and is no command is refused
 * with a hint, never sent by surprise.
 */
import { homedir } from 'node:os';
import {
  ACTION_PREFIX,
  type ChatHistory,
  type Conversation,
  expandHome,
  type HistoryEntry,
  peerName,
  shellWords,
  texts,
} from '@netchat/client';
import type { FlowConsole } from './flow-console.js';

/** How many lines `/history` shows without N, and at most. */
export const HISTORY_SHOWN = 20;
export const HISTORY_MOST = 1000;

export type ChatCommand =
  | { readonly name: 'message'; readonly text: string }
  | { readonly name: 'nothing' }
  | { readonly name: 'exit' }
  | { readonly name: 'history'; readonly count: number }
  | { readonly name: 'log'; readonly on: boolean | undefined }
  | { readonly name: 'send'; readonly paths: readonly string[] }
  | { readonly name: 'transfers' }
  | { readonly name: 'cancel'; readonly id: number }
  /** A single `/` and no command: refused (`detail` names it), never sent. */
  | { readonly name: 'unknown'; readonly text: string; readonly detail: string }
  | { readonly name: 'invalid'; readonly message: string };

/** A command's word, in any case as the TUI reads it (`/SEND` with Caps Lock on is /send). */
const COMMAND = /^\/(history|log|me|send|transfers|cancel)(?:\s|$)/i;

export const COMMANDS_HINT =
  'Commands: /send PATH..., /transfers, /cancel N, /me ACTION, /history [N], /log [on|off]; "exit" closes the chat. To send a message that starts with "/", type "//".';

/** `text` as typed (only its line ending taken off). */
export function readChatLine(text: string): ChatCommand {
  const trimmed = text.trim();
  if (trimmed === '') return { name: 'nothing' };
  if (trimmed === 'exit') return { name: 'exit' };
  // "//text": a message that starts with "/", one slash taken off.
  if (text.trimStart().startsWith('//')) return { name: 'message', text: text.trimStart().slice(1) };
  const word = COMMAND.exec(trimmed)?.[1]?.toLowerCase();
  if (word === undefined && trimmed.startsWith('/')) {
    const typed = /^\/\S*/.exec(trimmed)?.[0] ?? '/';
    return { name: 'unknown', text, detail: `${typed} is not a command` };
  }
  const argument = trimmed.slice((word?.length ?? 0) + 1).trim();
  switch (word) {
    case 'history': {
      if (argument === '') return { name: 'history', count: HISTORY_SHOWN };
      const count = /^\d+$/.test(argument) ? Number(argument) : 0;
      return count >= 1 && count <= HISTORY_MOST
        ? { name: 'history', count }
        : { name: 'invalid', message: `usage: /history [N] (N from 1 to ${HISTORY_MOST})` };
    }
    case 'log': {
      if (argument === '') return { name: 'log', on: undefined };
      // In any case, as the word is: Caps Lock's '/LOG OFF' means what it says.
      const setting = argument.toLowerCase();
      return setting === 'on' || setting === 'off'
        ? { name: 'log', on: setting === 'on' }
        : { name: 'invalid', message: 'usage: /log [on|off]' };
    }
    case 'me':
      // The action is the message itself: its text starts with the marker (PROTOCOL.md, Actions).
      return argument === ''
        ? { name: 'invalid', message: 'usage: /me ACTION (e.g. /me waves)' }
        : { name: 'message', text: `${ACTION_PREFIX}${argument}` };
    case 'send': {
      // As the TUI reads them (@netchat/client's shell words): quotes, \ escapes, and ~ the home folder.
      const paths = shellWords(argument)?.map((path) => expandHome(path, homedir()));
      if (paths === undefined)
        return { name: 'invalid', message: 'usage: /send PATH... (a quote is not closed)' };
      return paths.length === 0
        ? { name: 'invalid', message: 'usage: /send PATH... (files or folders; quote names with spaces)' }
        : { name: 'send', paths };
    }
    case 'transfers':
      return argument === '' ? { name: 'transfers' } : { name: 'invalid', message: 'usage: /transfers' };
    case 'cancel':
      return /^\d+$/.test(argument)
        ? { name: 'cancel', id: Number(argument) }
        : { name: 'invalid', message: 'usage: /cancel N (the transfer number /transfers shows)' };
    default:
      return { name: 'message', text };
  }
}

/** Does what a line that is neither a message nor `exit` asks for (the flow sends messages and closes chats). */
export function runChatCommand(
  out: FlowConsole,
  history: ChatHistory | undefined,
  conversation: Conversation,
  command: Exclude<ChatCommand, { name: 'message' | 'exit' | 'send' | 'transfers' | 'cancel' | 'unknown' }>,
): void {
  switch (command.name) {
    case 'history':
      showHistory(out, history, conversation, command.count);
      return;
    case 'log':
      setLog(out, history, command.on);
      return;
    case 'invalid':
      out.warn(command.message);
      return;
    case 'nothing':
      return;
  }
}

/** `/history [N]`: the last N lines logged with this chat's peer (this chat's included). */
export function showHistory(
  out: FlowConsole,
  history: ChatHistory | undefined,
  conversation: Conversation,
  count: number,
): void {
  if (!history) {
    out.warn('Chat history is not available in this run.');
    return;
  }
  const name = texts.who(conversation.peer ?? conversation.target, conversation.nick);
  let entries: HistoryEntry[] = [];
  try {
    if (conversation.publicKey) entries = history.recent(conversation.publicKey, count);
  } catch (error) {
    out.warn(`Chat history could not be read: ${(error as Error).message}`);
    return;
  }
  if (entries.length === 0) {
    out.say(history.enabled ? `No chat history with ${name} yet.` : texts.historyStatusText(history));
    return;
  }
  out.say(`The last ${entries.length === 1 ? 'line' : `${entries.length} lines`} with ${name}:`);
  const peer = conversation.trust ? peerName('', conversation.trust.fingerprint) : 'peer';
  for (const entry of entries) out.say(`  ${texts.historyText(entry, { peer })}`);
}

/** `/log [on|off]`: chat history on or off, from now on and for later runs. */
export function setLog(out: FlowConsole, history: ChatHistory | undefined, on: boolean | undefined): void {
  if (!history) {
    out.warn('Chat history is not available in this run.');
    return;
  }
  // A settings.json that cannot be written is a warning of its own (watchStorage): the change holds for this run.
  if (on !== undefined) history.setEnabled(on);
  out.say(texts.historyStatusText(history));
}

/** What a line typed in the TUI asks for: a slash command, the original `exit`, or text to send. */
import { shellWords } from '@netchat/client';

export type Command =
  | { name: 'say'; text: string }
  /** `/me waves`: sent as an action (the client's actionText), shown as `* me waves`. */
  | { name: 'me'; action: string }
  /**
   * `/connect NAME`: NAME as typed (an address, a host name, a fingerprint or a known nick), read
   * by the client's resolveTarget when it runs, as the CLI reads it.
   */
  | { name: 'connect'; target: string }
  | { name: 'contacts' }
  | { name: 'log'; on: boolean | undefined }
  /**
   * `/accept [N]`, `/decline [N]`: in a chat with a file offer waiting, that offer (the latest,
   * or transfer N); else waiting request N (default: the first).
   */
  | { name: 'accept'; index: number | undefined }
  | { name: 'decline'; index: number | undefined }
  /** `/send PATH...`: the paths as a shell reads them (`~` not yet expanded). */
  | { name: 'send'; paths: string[] }
  | { name: 'transfers' }
  | { name: 'cancel'; id: number }
  | { name: 'requests' }
  | { name: 'list' }
  /** `/bell on|off`; alone (`on` undefined): says whether it rings. */
  | { name: 'bell'; on: boolean | undefined }
  | { name: 'close' }
  | { name: 'nick'; nick: string }
  | { name: 'clear' }
  | { name: 'help' }
  | { name: 'whoami' }
  | { name: 'quit' }
  /** `exit` typed alone: close the current session, as in the CLI. */
  | { name: 'exit_session' }
  | { name: 'nothing' }
  | { name: 'invalid'; message: string }
  /** A single `/` and no command (`/etc/hosts is…`): not sent, and the line stays to be fixed. */
  | { name: 'not_command'; message: string };

export const COMMAND_HELP: readonly [string, string][] = [
  ['/connect IP PORT', 'chat with a peer, in a new tab'],
  ['/connect NICK', 'a known nick, or a fingerprint'],
  ['/contacts', 'known peers, verified, last seen'],
  ['/accept [N]', 'accept waiting request N (first)'],
  ['/decline [N]', 'decline waiting request N (first)'],
  ['/send PATH...', 'offer files or folders (Tab: paths)'],
  ['/accept, /decline', 'in a chat: its latest file offer'],
  ['/accept N, /decline N', 'in a chat: file offer N'],
  ['/transfers', 'file transfers: number, state'],
  ['/cancel N', 'stop file transfer N'],
  ['/requests', 'list the waiting requests'],
  ['/list', 'the conversations and their state'],
  ['/close', 'close this chat; again: the tab'],
  ['/nick NAME', 'your nick; open chats are told'],
  ['/me ACTION', 'send * you ACTION'],
  ['/clear', 'clear this tab'],
  ['/whoami', 'your nick and address'],
  ['/bell [on|off]', 'bell for requests: state, on, off'],
  ['/log [on|off]', 'chat history: state, on, off'],
  ['/help, F1', 'this help'],
  ['/quit, /exit', 'close every chat and quit'],
  ['exit', 'alone: close this chat'],
  ['//text', 'send text starting with /'],
];

export const KEY_HELP: readonly [string, string][] = [
  ['Ctrl+N, Ctrl+P', 'next, previous tab'],
  ['Alt+1 … Alt+9', 'tab 1 … 9 (Alt+0: home)'],
  ['PgUp, PgDn', 'scroll; up past the top: history'],
  ['Home, End', 'oldest line; back to the newest'],
  ['Up, Down', 'recall what you typed'],
  ['Tab', 'complete a command, nick, path'],
  ['Ctrl+A, Ctrl+E', 'start, end of the input'],
  ['Alt+B, Alt+F', 'word left, right'],
  ['Ctrl+W, Ctrl+U, Ctrl+K', 'delete word, to start, to end'],
  ['Ctrl+J', 'new line in the message'],
  ['Alt+Y, Alt+N', 'accept, decline request or offer'],
  ['Esc', 'dialog: answer it later'],
  ['Ctrl+L', 'redraw the screen'],
  ['Ctrl+C', 'quit (asks if chats are open)'],
];

/** The commands Tab completes. */
export const COMMAND_NAMES: readonly string[] = [
  '/connect',
  '/contacts',
  '/accept',
  '/decline',
  '/requests',
  '/send',
  '/transfers',
  '/cancel',
  '/list',
  '/close',
  '/nick',
  '/me',
  '/clear',
  '/whoami',
  '/bell',
  '/log',
  '/help',
  '/quit',
  '/exit',
];

/** `/history` is netchat's (the line client's): the TUI shows history in the chat itself. */
export const HISTORY_HINT =
  'no /history here: PgUp past the top of a chat shows its older lines (netchat history NAME prints them all)';

const CONNECT_USAGE = '/connect IP PORT (or HOST:PORT, a fingerprint, a known nick)';

function index(argument: string | undefined, usage: string): Command | number | undefined {
  if (argument === undefined || argument === '') return undefined;
  if (!/^\d+$/.test(argument) || Number(argument) < 1) return { name: 'invalid', message: `usage: ${usage}` };
  return Number(argument);
}

/** `/log` or `/bell` turned on or off, in any case as the command's word is (Caps Lock's `/BELL OFF`). */
function onOff(argument: string, name: 'log' | 'bell'): Command {
  const setting = argument.toLowerCase();
  return setting === 'on' || setting === 'off'
    ? { name, on: setting === 'on' }
    : { name: 'invalid', message: `usage: /${name} [on|off]` };
}

/** What `line` asks for; a command's words are trimmed, a message is kept as typed. */
export function parseInput(line: string): Command {
  const text = line.trim();
  if (text === '') return { name: 'nothing' };
  if (text === 'exit') return { name: 'exit_session' };
  // A command is one line: a multi-line paste is text, whatever it starts with.
  if (line.includes('\n')) return { name: 'say', text: line };
  if (text.startsWith('//')) return { name: 'say', text: line.trimStart().slice(1) };
  if (!text.startsWith('/')) return { name: 'say', text: line };
  const [word = '', ...rest] = text.slice(1).split(/\s+/);
  const argument = rest.join(' ');
  switch (word.toLowerCase()) {
    case 'connect':
      return argument
        ? { name: 'connect', target: argument }
        : { name: 'invalid', message: `usage: ${CONNECT_USAGE}` };
    case 'contacts':
      return { name: 'contacts' };
    case 'log':
      if (argument === '') return { name: 'log', on: undefined };
      return onOff(argument, 'log');
    case 'accept':
    case 'decline': {
      const n = index(rest[0], `/${word} [N]`);
      return typeof n === 'object' ? n : { name: word.toLowerCase() as 'accept' | 'decline', index: n };
    }
    case 'send': {
      // The paths as typed after the word, quotes and escapes read as a shell reads them.
      const paths = shellWords(text.slice(1 + word.length));
      if (paths === undefined)
        return { name: 'invalid', message: 'usage: /send PATH... (a quote is not closed)' };
      return paths.length > 0
        ? { name: 'send', paths }
        : { name: 'invalid', message: 'usage: /send PATH... (files or folders; Tab completes them)' };
    }
    case 'transfers':
      return { name: 'transfers' };
    case 'cancel': {
      const id = index(rest[0], '/cancel N (the number /transfers shows)');
      return typeof id === 'number'
        ? { name: 'cancel', id }
        : { name: 'invalid', message: 'usage: /cancel N (the number /transfers shows)' };
    }
    case 'requests':
      return { name: 'requests' };
    case 'list':
      return { name: 'list' };
    case 'bell':
      if (argument === '') return { name: 'bell', on: undefined };
      return onOff(argument, 'bell');
    case 'history':
      // netchat's /history, typed here out of habit: where the TUI keeps it.
      return { name: 'invalid', message: HISTORY_HINT };
    case 'close':
      return { name: 'close' };
    case 'nick':
      return argument ? { name: 'nick', nick: argument } : { name: 'invalid', message: 'usage: /nick NAME' };
    case 'me': {
      // What the person does, with its own spacing (only the space after /me goes).
      const action = text.slice(1 + word.length).trim();
      return action ? { name: 'me', action } : { name: 'invalid', message: 'usage: /me ACTION' };
    }
    case 'clear':
      return { name: 'clear' };
    case 'help':
      return { name: 'help' };
    case 'whoami':
      return { name: 'whoami' };
    case 'quit':
    case 'exit':
      return { name: 'quit' };
    default:
      return {
        name: 'not_command',
        message: `Not sent: /${word} is not a command (/help lists them; type // to send a line that starts with /).`,
      };
  }
}

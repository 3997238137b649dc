/**
 * Tab after `/send `: the path before the cursor completed from the folder it names, as a shell
 * does. `~` and `~/…` are the home folder (kept as typed in the line), a relative path is from the
 * working folder, names with blanks or quotes are written escaped (`my\ file.txt`) so `/send`
 * reads them back whole, and emoji or CJK names are completed like any other. A folder ends in
 * `/` (Tab again goes into it), a file in a space. Names starting with `.` are offered only when
 * the typed part starts with `.`. The folder is read by the `DirectoryLister` the app gives
 * (node's fs), so this file is pure.
 */
import { expandHome, quotePath, splitShellWords } from '@netchat/client';

export interface DirectoryEntry {
  readonly name: string;
  /** A folder (or a link to one): completed with `/`. */
  readonly folder: boolean;
}

/** The entries of a folder; undefined if it cannot be read (missing, not a folder, no permission). */
export type DirectoryLister = (folder: string) => readonly DirectoryEntry[] | undefined;

export interface PathContext {
  readonly list: DirectoryLister;
  readonly home: string;
  readonly cwd: string;
}

/** Candidates at most (a folder of 100,000 files is not all offered to Tab). */
export const MOST_CANDIDATES = 1000;

const SEND = /^\s*\/send\s/i;

/**
 * What Tab offers for the text before the cursor: where the word being completed starts (UTF-16
 * offset) and its replacements, in order; undefined when the text is not a `/send` line or no
 * name matches.
 */
export function pathCompletions(
  before: string,
  context: PathContext,
): { start: number; replacements: string[] } | undefined {
  const command = SEND.exec(before);
  if (!command) return undefined;
  const offset = command[0].length;
  const split = splitShellWords(before.slice(offset));
  const last = split.words.at(-1);
  const current =
    last && !split.trailingBlank && last.end === before.length - offset
      ? { value: last.value, start: offset + last.start }
      : { value: '', start: before.length };
  const typed = current.value;
  if (typed === '~') return { start: current.start, replacements: ['~/'] };
  const slash = typed.lastIndexOf('/');
  const folderPart = typed.slice(0, slash + 1);
  const prefix = typed.slice(slash + 1);
  const folder = resolveFolder(expandHome(folderPart === '' ? '.' : folderPart, context.home), context.cwd);
  const entries = context.list(folder) ?? [];
  const replacements = entries
    .filter((e) => e.name.startsWith(prefix) && (prefix.startsWith('.') || !e.name.startsWith('.')))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .slice(0, MOST_CANDIDATES)
    .map((e) => `${quoteTyped(folderPart)}${quotePath(e.name)}${e.folder ? '/' : ' '}`);
  return replacements.length > 0 ? { start: current.start, replacements } : undefined;
}

/** The folder part as typed, escaped again (a leading `~/` stays bare so it still means home). */
function quoteTyped(folderPart: string): string {
  return folderPart.startsWith('~/') ? `~/${quotePath(folderPart.slice(2))}` : quotePath(folderPart);
}

/** `folder` from the working folder (absolute paths as they are). */
function resolveFolder(folder: string, cwd: string): string {
  if (folder.startsWith('/')) return folder;
  return `${cwd.replace(/\/+$/, '')}/${folder}`;
}

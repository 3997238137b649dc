/**
 * How many files of one transfer end with a line of their own. A folder ends one file at a time,
 * and a line each (path, size, time, rate, verified) was 2,000 lines on each side for a folder of
 * 2,000 files, the chat pushed off the screen. The first FILE_END_LINES files of a transfer each
 * get their line; the next says the rest are not listed; the transfer's own end line
 * (`Transfer 5 done: all 2000 files verified.`) says how it went. A failed file always has its
 * line. Machine-readable output (`--json`) still has every file's event.
 */
import type { Transfer } from './transfer.js';

export const FILE_END_LINES = 10;

/**
 * What to show as a file of `t` arrives whole (receive) or is verified by the peer (send), `line`
 * being that file's own line: the line itself, the one line that says the rest are not listed,
 * or nothing. Call it after the file is counted in `t.received` / `t.sent` (Transfers does so
 * before it tells).
 */
export function fileEndNotice(t: Transfer, line: string): string | undefined {
  const ended = t.direction === 'send' ? t.sent.length : t.received.length;
  if (ended <= FILE_END_LINES) return line;
  if (ended > FILE_END_LINES + 1) return undefined;
  const rest = t.files.length - FILE_END_LINES;
  return `Transfer ${t.id}: its other ${rest} files are not listed one by one (a file that fails is); /transfers shows how far it is, and its end how it went.`;
}

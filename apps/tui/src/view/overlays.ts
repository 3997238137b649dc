/**
 * What the boxes drawn over the conversation say, as rows: the request dialog and the help. Their
 * sizes follow the screen, so that the dialog never covers the input line (typing goes on while
 * it is up) and everything fits down to 40×10.
 */
import { COMMAND_HELP, KEY_HELP } from '../model/commands.js';
import { DIALOG_KEYS, dialogNotices } from '../model/request-dialog.js';
import type { TuiModel, WaitingRequest } from '../model/tui-model.js';
import type { Look, Row } from './cells.js';
import { wrap } from './log-rows.js';

const BOLD: Look = { bold: true };

/** Where the dialog goes: as wide as 80% of the screen (all of it when narrow), above the input line. */
export function dialogBox(
  screen: { width: number; height: number },
  rowsNeeded: number,
): { top: number; left: number; width: number; height: number } {
  const width = screen.width < 60 ? screen.width : Math.floor(screen.width * 0.8);
  // It may cover the status bar (at 40×10 every row counts), never the input line or the tab bar.
  const room = Math.max(3, screen.height - 2);
  const height = Math.min(room, rowsNeeded + 2);
  return {
    top: Math.floor((room - height) / 2),
    left: Math.floor((screen.width - width) / 2),
    width,
    height,
  };
}

/**
 * The dialog's rows at `width`: who asks, its nick, what is known of its key (a warning in bold),
 * and how to answer. When they do not all fit in `height`, the last row (the keys) stays; the
 * home tab has every line too.
 */
export function dialogRows(model: TuiModel, request: WaitingRequest, width: number, height: number): Row[] {
  const rows: Row[] = [];
  for (const notice of dialogNotices(request, model.requestNick(request)))
    rows.push(...wrap([{ text: notice.text, look: notice.warning ? BOLD : {} }], width, 0));
  const keys = wrap([{ text: `Accept? ${DIALOG_KEYS}`, look: BOLD }], width, 0);
  const room = Math.max(0, height - keys.length);
  return [...rows.slice(0, room), ...keys];
}

/** The help in two columns, or (too narrow for that) each explanation under its command. */
export function helpText(width: number): string[] {
  const rows = [...COMMAND_HELP, ['', ''] as [string, string], ...KEY_HELP];
  const pad = Math.max(...rows.map(([what]) => what.length));
  const longest = Math.max(...rows.map(([, why]) => why.length));
  const wide = 1 + pad + 2 + longest <= width;
  return rows.flatMap(([what, why]) => {
    if (!what) return [''];
    return wide ? [` ${what.padEnd(pad)}  ${why}`] : [` ${what}`, `   ${why}`];
  });
}

/** The help's first line shown after a scroll by `rows` (clamped so the last page stays full). */
export function helpScroll(top: number, rows: number, lines: number, height: number): number {
  return Math.max(0, Math.min(top + rows, lines - height));
}

/**
 * What the boxes drawn over the conversation say, as rows: the request dialog (or a file offer
 * in it), the quit question, the progress rows under a chat, and the help. Their
 * sizes follow the screen, so that the dialog never covers the input line (typing goes on while
 * it is up) and everything fits down to 40×10.
 */
import { type Transfer, texts } from '@netchat/client';
import { COMMAND_HELP, KEY_HELP } from '../model/commands.js';
import { DIALOG_KEYS, dialogNotices, shortDialogNotices } from '../model/request-dialog.js';
import { clusterWidth, fitWidthFromStart, graphemes } from '../model/text-width.js';
import type { ProgressRow } from '../model/tui-files.js';
import type { TuiModel, WaitingRequest } from '../model/tui-model.js';
import type { Look, Row, Span } from './cells.js';
import { keepNumbersWhole, wrap } from './log-rows.js';

const BOLD: Look = { bold: true };

/** The rows the dialog may take: it may cover the status bar (at 40×10 every row counts), never the input line or the tab bar. */
export function dialogRoom(screen: { height: number }): number {
  return Math.max(3, screen.height - 2);
}

/** Where the dialog goes: as wide as 80% of the screen (all of it when narrow), above the input line. */
export function dialogBox(
  screen: { width: number; height: number },
  rowsNeeded: number,
): { top: number; left: number; width: number; height: number } {
  const width = screen.width < 60 ? screen.width : Math.floor(screen.width * 0.8);
  const room = dialogRoom(screen);
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
 * and how to answer; in fewer words when that does not fit in `height`.
 */
export function dialogRows(model: TuiModel, request: WaitingRequest, width: number, height: number): Row[] {
  const nick = model.requestNick(request);
  return fitted([dialogNotices(request, nick), shortDialogNotices(request, nick)], width, height);
}

/** A dialog's lines: its text, and a warning in bold. */
type DialogLine = { readonly text: string; readonly warning: boolean };

/**
 * The first of `forms` (each the same content, shorter and shorter) whose rows fit in `height`
 * with the keys below them. When none fits (a very long nick or path), the shortest is cut and
 * the keys stay, so the dialog can always be answered; the home tab and the chat have every line.
 */
function fitted(forms: readonly (readonly DialogLine[])[], width: number, height: number): Row[] {
  const keys = wrap([{ text: `Accept? ${DIALOG_KEYS}`, look: BOLD }], width, 0);
  let rows: Row[] = [];
  for (const form of forms) {
    rows = form.flatMap((line) =>
      wrap([{ text: keepNumbersWhole(line.text), look: line.warning ? BOLD : {} }], width, 0),
    );
    if (rows.length + keys.length <= height) break;
  }
  return [...rows.slice(0, Math.max(0, height - keys.length)), ...keys];
}

/**
 * The quit question at `width`, in at most `height` rows: what quitting leaves unfinished (a
 * transfer at 23% would otherwise stop unsaid) and the offers it declines, then the question,
 * which always shows.
 */
export function quitRows(model: TuiModel, width: number, height: number): Row[] {
  const n = model.openChats;
  const question = wrap(
    [{ text: `Close ${n} chat${n === 1 ? '' : 's'} and quit? (y/n)`, look: BOLD }],
    width,
    0,
  );
  const left = model.files?.unfinished();
  const declines = model.files?.declinedByQuit();
  const said = [
    ...(left ? [`It stops ${left}: what arrived is kept, and it goes on when offered again.`] : []),
    ...(declines ? [declines] : []),
  ].flatMap((text) => wrap([{ text, look: {} }], width, 0));
  return [...said.slice(0, Math.max(0, height - question.length)), ...question];
}

/** What the dialog asks about: `request N`, or (no request waiting) `offer N`; undefined: nothing. */
export function dialogSubject(model: TuiModel): string | undefined {
  const request = model.dialogRequest;
  const offer = model.dialogOffer;
  return request ? `request ${request.session}` : offer ? `offer ${offer.id}` : undefined;
}

/** The dialog's rows for what it asks about (a request first). */
export function dialogContent(model: TuiModel, width: number, height: number): Row[] {
  const request = model.dialogRequest;
  const offer = model.dialogOffer;
  if (request) return dialogRows(model, request, width, height);
  return offer ? offerRows(offer, model.files?.downloadFolder, width, height) : [];
}

/** The shown chat's progress rows, each drawn as its own bar. */
export function progressRows(model: TuiModel, width: number, height: number): Row[] {
  const files = model.files;
  if (!files) return [];
  return files.progressRows(model.currentTab, width, height).map((row) => progressRow(row, width));
}

/**
 * The dialog's rows for a file offer: who offers what (the name, or how many files and the
 * first names), its size, where it goes, relayed or not, and the keys, which always stay. Where
 * the screen is small, fewer names (down to `… and N more`), then the folder's path cut to its
 * end on one row (`Into …/Downloads`).
 */
export function offerRows(offer: Transfer, folder: string | undefined, width: number, height: number): Row[] {
  const line = (text: string, warning = false): DialogLine => ({ text, warning });
  // `File "report.pdf" (2.4 MB) from bob (transfer 3)`: the question's words, as a statement.
  const what = `${texts
    .offerQuestion(offer)
    .replace(/^Accept (file )?/, (_, file) => (file ? 'File ' : ''))
    .replace(/\? \(y\/n\)$/, '')} (transfer ${offer.id})`;
  const into = folder === undefined ? [] : [folder, fitWidthFromStart(folder, width - 'Into '.length)];
  const relayed = offer.relayed ? [line('Relayed: slower (the relay budget)', true)] : [];
  const names = offer.files.length > 1 ? [5, 4, 3, 2, 1, 0] : [undefined];
  const paths = into.length > 0 ? into : [undefined];
  const forms = paths.flatMap((path, i) =>
    names
      // No name at all only with the shortest path: a name and the path's end say more.
      .filter((most) => most !== 0 || i === paths.length - 1)
      .map((most) => [
        line(what),
        // With no name listed, "… and 200 more" (more than none) says less than the count above.
        ...(most === undefined || most === 0 ? [] : texts.offerFileLines(offer, most).map((n) => line(n))),
        ...(path === undefined ? [] : [line(`Into ${path}`)]),
        ...relayed,
      ]),
  );
  return fitted(forms, width, height);
}

/**
 * A progress row drawn as its own bar: the text over the whole width, the done part in inverse
 * video (no block characters, whose width terminals disagree on), cut by cluster.
 */
export function progressRow(row: ProgressRow, width: number): Row {
  const done = Math.max(0, Math.min(width, Math.round(row.fraction * width)));
  const spans: Span[] = [];
  let filled = '';
  let rest = '';
  let used = 0;
  for (const cluster of graphemes(row.text)) {
    const w = clusterWidth(cluster);
    if (used + w > width) break;
    if (used + w <= done) filled += cluster;
    else rest += cluster;
    used += w;
  }
  const pad = ' '.repeat(Math.max(0, width - used));
  if (used < done) filled += pad.slice(0, done - used);
  spans.push({ text: filled, look: { inverse: true } });
  spans.push({ text: rest + pad.slice(Math.max(0, done - used)), look: {} });
  return spans;
}

/**
 * The help in two columns, or (too narrow for that) each explanation under its command, wrapped
 * to the width so no word is cut off at the box's edge (at 40×10 the box is 34 columns wide).
 */
export function helpText(width: number): string[] {
  const rows = [...COMMAND_HELP, ['', ''] as [string, string], ...KEY_HELP];
  const pad = Math.max(...rows.map(([what]) => what.length));
  const longest = Math.max(...rows.map(([, why]) => why.length));
  const wide = 1 + pad + 2 + longest <= width;
  const under = (why: string) =>
    wrap([{ text: why, look: {} }], Math.max(1, width - 3), 0).map(
      (row) => `   ${row.map((span) => span.text).join('')}`,
    );
  return rows.flatMap(([what, why]) => {
    if (!what) return [''];
    return wide ? [` ${what.padEnd(pad)}  ${why}`] : [` ${what}`, ...under(why)];
  });
}

/** The help's first line shown after a scroll by `rows` (clamped so the last page stays full). */
export function helpScroll(top: number, rows: number, lines: number, height: number): number {
  return Math.max(0, Math.min(top + rows, lines - height));
}

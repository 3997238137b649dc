/**
 * Where a tab's conversation is scrolled to, in rows. The position is the last visible row, held
 * as (line, row within that line), so lines that arrive below it never move the view; `undefined`
 * follows the newest line. How many rows a line takes depends on the screen's width, so the view
 * lends its measure.
 */
export interface ScrollAnchor {
  /** The `seq` of the line holding the last visible row. */
  readonly seq: number;
  /** That row, counted from the line's first row. */
  readonly row: number;
}

export interface Viewport {
  /** Rows the conversation has on screen. */
  readonly height: number;
  /** Rows a line takes at the current width (at least 1). */
  rowsOf(line: { readonly seq: number }): number;
}

interface Lines {
  readonly length: number;
  readonly [index: number]: { readonly seq: number } | undefined;
}

/** The index of the line with `seq`, or of the first line after it (lines are in `seq` order). */
export function indexOfSeq(lines: Lines, seq: number): number {
  let low = 0;
  let high = lines.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if ((lines[mid]?.seq ?? 0) < seq) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The anchor moved `rows` back in time (negative: forward); `undefined` once it reaches the end. */
export function scrollAnchor(
  lines: Lines,
  anchor: ScrollAnchor | undefined,
  rows: number,
  view: Viewport,
): ScrollAnchor | undefined {
  if (lines.length === 0) return undefined;
  const last = lines.length - 1;
  const rowsAt = (i: number) => Math.max(1, view.rowsOf(lines[i] as { seq: number }));
  let { index, row } = lastShown(lines, anchor, view);
  if (rows > 0) {
    let left = rows;
    while (left > 0) {
      if (row >= left) {
        row -= left;
        left = 0;
      } else if (index === 0) {
        row = 0;
        left = 0;
      } else {
        left -= row + 1;
        index--;
        row = rowsAt(index) - 1;
      }
    }
    // Never above the point where the first row is at the top of the view.
    return clampToTop(lines, { index, row }, view);
  }
  let left = -rows;
  while (left > 0) {
    const height = rowsAt(index);
    if (row + left < height) {
      row += left;
      left = 0;
    } else if (index === last) {
      return undefined;
    } else {
      left -= height - row;
      index++;
      row = 0;
    }
  }
  if (index === last && row === rowsAt(last) - 1) return undefined;
  return { seq: (lines[index] as { seq: number }).seq, row };
}

/**
 * How many rows there are above the view's top row, counted up to `enough` at most (a caller
 * asking whether `enough` rows are there to scroll needs no more, however long the log).
 */
export function rowsAbove(
  lines: Lines,
  anchor: ScrollAnchor | undefined,
  view: Viewport,
  enough: number,
): number {
  if (lines.length === 0) return 0;
  const { index, row } = lastShown(lines, anchor, view);
  // The rows from the first one to the view's last, inclusive, counted from the top.
  let rows = row + 1;
  const wanted = view.height + enough;
  for (let i = 0; i < index && rows < wanted; i++)
    rows += Math.max(1, view.rowsOf(lines[i] as { seq: number }));
  return Math.min(enough, Math.max(0, rows - view.height));
}

/** The line and row the view's last row is at: the anchor's, or the newest row when following. */
function lastShown(
  lines: Lines,
  anchor: ScrollAnchor | undefined,
  view: Viewport,
): { index: number; row: number } {
  const last = lines.length - 1;
  const index = anchor ? Math.min(indexOfSeq(lines, anchor.seq), last) : last;
  const rows = Math.max(1, view.rowsOf(lines[index] as { seq: number }));
  const row = anchor && lines[index]?.seq === anchor.seq ? Math.min(anchor.row, rows - 1) : rows - 1;
  return { index, row };
}

/** The anchor that shows the first row at the top of the view (Home). */
export function topAnchor(lines: Lines, view: Viewport): ScrollAnchor | undefined {
  if (lines.length === 0) return undefined;
  return clampToTop(lines, { index: 0, row: 0 }, view);
}

/** Moves a position down until at least a screenful of rows is at or above it. */
function clampToTop(
  lines: Lines,
  at: { index: number; row: number },
  view: Viewport,
): ScrollAnchor | undefined {
  const last = lines.length - 1;
  let { index, row } = at;
  // Rows from the first row to this one, inclusive.
  let above = row + 1;
  for (let i = 0; i < index && above < view.height; i++)
    above += Math.max(1, view.rowsOf(lines[i] as { seq: number }));
  while (above < view.height) {
    const height = Math.max(1, view.rowsOf(lines[index] as { seq: number }));
    if (row < height - 1) {
      row++;
    } else if (index < last) {
      index++;
      row = 0;
    } else {
      return undefined;
    }
    above++;
  }
  if (index === last && row === Math.max(1, view.rowsOf(lines[last] as { seq: number })) - 1)
    return undefined;
  return { seq: (lines[index] as { seq: number }).seq, row };
}

/**
 * The one status line a terminal shows while files move: each moving transfer's progress, side
 * by side when several move at once (a file each way on one chat), each given its share of the
 * width. One transfer's progress alone took the line before, so with two moving the line jumped
 * between them with every update and a finished one blanked it while the other still moved.
 */
import { type Transfer, texts } from '@netchat/client';
import type { ProgressSnapshot } from '@netchat/core';

/** Between two transfers' figures on the line. */
export const PROGRESS_SEPARATOR = ' │ ';

/** The narrowest a transfer's share may be (progressLine keeps its tag, percent, rate and ETA). */
const MIN_SHARE = 30;

/**
 * The status line for `moving` (in the order given) at `width` columns, or undefined when nothing
 * moves. As many as fit at MIN_SHARE columns each are shown; the rest are counted (`+2 more`).
 */
export function progressStatus(
  moving: readonly { transfer: Transfer; progress: ProgressSnapshot }[],
  width: number,
): string | undefined {
  if (moving.length === 0) return undefined;
  const room = Math.max(MIN_SHARE, width);
  const fits = Math.max(
    1,
    Math.floor((room + PROGRESS_SEPARATOR.length) / (MIN_SHARE + PROGRESS_SEPARATOR.length)),
  );
  const shown = moving.slice(0, fits);
  const rest = moving.length - shown.length;
  const more = rest > 0 ? `${PROGRESS_SEPARATOR}+${rest} more` : '';
  const share = Math.floor(
    (room - texts.columnsOf(more) - PROGRESS_SEPARATOR.length * (shown.length - 1)) / shown.length,
  );
  const parts = shown.map((m) => texts.progressLine(m.transfer, m.progress, Math.max(10, share)));
  return texts.cutToWidth(parts.join(PROGRESS_SEPARATOR) + more, room);
}

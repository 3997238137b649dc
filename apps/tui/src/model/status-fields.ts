/**
 * The status bar as fields with a rank: when the bar is wider than the screen, the least
 * important fields go first (your own address before the session's state), and what is left is
 * cut with "…" only if even the most important ones do not fit.
 */
export interface StatusField {
  readonly text: string;
  /** Higher stays longer. */
  readonly rank: number;
}

export const SEPARATOR = ' │ ';

export function fitStatus(
  fields: readonly StatusField[],
  width: number,
  measure: (text: string) => number = (t) => Array.from(t).length,
): string {
  let kept = [...fields];
  const total = () => kept.reduce((sum, f, i) => sum + measure(f.text) + (i > 0 ? SEPARATOR.length : 0), 0);
  while (kept.length > 1 && total() > width) {
    const lowest = kept.reduce((low, f) => (f.rank < low.rank ? f : low));
    kept = kept.filter((f) => f !== lowest);
  }
  const text = kept.map((f) => f.text).join(SEPARATOR);
  if (measure(text) <= width) return text;
  const chars = Array.from(text);
  return `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}

/**
 * The conversation as screen rows: each line wrapped to the width (at spaces when it can, a hanging
 * indent under the time), styled with blessed tags, and only the rows the screen shows are built
 * per redraw, so a redraw costs the same with 10 lines or 10,000, and a 20 KB message is wrapped
 * once per width and mark, not at every key press.
 */
import blessed from 'blessed';
import { type ChatLine, clockTime } from '../model/tui-model.js';
import { indexOfSeq, type ScrollAnchor } from '../model/scroll.js';

/** blessed tags around a span; '' for the terminal's default look. */
export type Style = readonly [open: string, close: string];

export interface LogStyles {
  readonly plain: Style;
  readonly own: Style;
  readonly peer: Style;
  readonly notice: Style;
  readonly warning: Style;
  readonly failed: Style;
  /** Lines from the history of earlier chats. */
  readonly old: Style;
}

/** A sent line's mark; without an acknowledgement, say only what is known. */
export const MARKS = {
  pending: ' …',
  delivered: ' ✓',
  not_confirmed: ' ? not confirmed delivered',
  not_sent: ' ✗ not sent',
} as const;

const TIME_WIDTH = 6;

interface Span {
  readonly text: string;
  readonly style: Style;
}

interface Cached {
  readonly width: number;
  readonly mark: ChatLine['mark'];
  readonly rows: readonly string[];
}

interface BlessedUnicode {
  charWidth(str: string, i?: number): number;
}
const unicode = (blessed as unknown as { unicode: BlessedUnicode }).unicode;

/** Cells a code point takes on the terminal (blessed's table, taught emoji). */
function cells(ch: string): number {
  if (ch.length === 1 && ch >= ' ' && ch < '\u0300') return 1;
  return Math.max(0, unicode.charWidth(ch, 0));
}

export class LogRows {
  private readonly cache = new WeakMap<ChatLine, Cached>();

  constructor(private readonly styles: LogStyles) {}

  /** The rows `line` takes at `width`. */
  rowsOf(line: ChatLine, width: number): number {
    return this.rows(line, width).length;
  }

  /** `line` as tagged rows at `width`. */
  rows(line: ChatLine, width: number): readonly string[] {
    const cached = this.cache.get(line);
    if (cached && cached.width === width && cached.mark === line.mark) return cached.rows;
    const rows = wrap(this.spans(line), Math.max(1, width), width >= 24 ? TIME_WIDTH : 0);
    this.cache.set(line, { width, mark: line.mark, rows });
    return rows;
  }

  /** The `height` rows ending at `anchor` (the newest row when undefined), oldest first. */
  visible(
    lines: readonly ChatLine[],
    anchor: ScrollAnchor | undefined,
    width: number,
    height: number,
  ): string[] {
    if (lines.length === 0) return [];
    let index = lines.length - 1;
    let upTo = Number.POSITIVE_INFINITY;
    if (anchor) {
      index = Math.min(indexOfSeq(lines, anchor.seq), lines.length - 1);
      if (lines[index]?.seq === anchor.seq) upTo = anchor.row;
    }
    const out: string[][] = [];
    let count = 0;
    for (let i = index; i >= 0 && count < height; i--) {
      const rows = this.rows(lines[i] as ChatLine, width);
      const part = i === index ? rows.slice(0, Math.min(rows.length, upTo + 1)) : rows;
      const take = part.slice(Math.max(0, part.length - (height - count)));
      out.push([...take]);
      count += take.length;
    }
    return out.reverse().flat();
  }

  private spans(line: ChatLine): Span[] {
    if (line.old) return this.kindSpans(line).map((span) => ({ text: span.text, style: this.styles.old }));
    return this.kindSpans(line);
  }

  private kindSpans(line: ChatLine): Span[] {
    const s = this.styles;
    const time: Span = { text: `${clockTime(line.time)} `, style: s.plain };
    const body = line.text.replace(/\t/g, '    ');
    const mark: Span[] = line.mark
      ? [
          {
            text: MARKS[line.mark],
            style: line.mark === 'not_confirmed' || line.mark === 'not_sent' ? s.failed : s.plain,
          },
        ]
      : [];
    switch (line.kind) {
      case 'own':
        return [
          time,
          { text: `<${line.sender}>`, style: s.own },
          { text: ` ${body}`, style: s.plain },
          ...mark,
        ];
      case 'peer':
        return [time, { text: `<${line.sender}>`, style: s.peer }, { text: ` ${body}`, style: s.plain }];
      case 'own_action':
        return [
          time,
          { text: `* ${line.sender}`, style: s.own },
          { text: ` ${body}`, style: s.plain },
          ...mark,
        ];
      case 'peer_action':
        return [time, { text: `* ${line.sender}`, style: s.peer }, { text: ` ${body}`, style: s.plain }];
      case 'notice':
        return [time, { text: `-- ${body}`, style: s.notice }];
      case 'warning':
        return [time, { text: `!! ${body}`, style: s.warning }];
    }
  }
}

/**
 * Wraps styled spans into rows of at most `width` cells: at a line break, at the last space that
 * fits, or (a word longer than the row) anywhere; rows after the first start with `indent` spaces.
 */
export function wrap(spans: readonly Span[], width: number, indent: number): string[] {
  const chars: string[] = [];
  const styles: Style[] = [];
  for (const span of spans)
    for (const ch of span.text) {
      chars.push(ch);
      styles.push(span.style);
    }
  const rows: string[] = [];
  const room = (first: boolean) => Math.max(1, first ? width : width - indent);
  let start = 0;
  for (;;) {
    const first = rows.length === 0;
    const limit = room(first);
    let used = 0;
    let end = start;
    let lastSpace = -1;
    while (end < chars.length && chars[end] !== '\n') {
      const w = cells(chars[end] as string);
      if (used + w > limit) break;
      if (chars[end] === ' ') lastSpace = end;
      used += w;
      end++;
    }
    let next = end;
    const atBreak = end < chars.length && chars[end] === '\n';
    if (atBreak) next = end + 1;
    else if (end < chars.length && lastSpace > start) {
      end = lastSpace;
      next = lastSpace + 1;
    } else if (end === start && end < chars.length) {
      // A character wider than the row: show it alone rather than loop.
      end = start + 1;
      next = end;
    }
    const pad = first ? '' : ' '.repeat(Math.min(indent, width - 1));
    rows.push(pad + tagged(chars, styles, start, end));
    if (next >= chars.length) {
      if (atBreak) rows.push(' '.repeat(Math.min(indent, width - 1)));
      break;
    }
    start = next;
  }
  return rows;
}

function tagged(chars: readonly string[], styles: readonly Style[], from: number, to: number): string {
  let out = '';
  let i = from;
  while (i < to) {
    const style = styles[i] as Style;
    let j = i;
    while (j < to && styles[j] === style) j++;
    out += `${style[0]}${blessed.escape(chars.slice(i, j).join(''))}${style[1]}`;
    i = j;
  }
  return out;
}

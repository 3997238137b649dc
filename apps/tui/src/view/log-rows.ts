/**
 * The conversation as screen rows: each line wrapped to the width (at spaces when it can, a
 * hanging indent under the time), styled, and only the rows the screen shows are built per
 * redraw, so a redraw costs the same with 10 lines or 10,000, and a 20 KB message is wrapped once
 * per width and mark, not at every key press. Widths are those of text-width.ts, by grapheme
 * cluster, the measure the drawing uses (cells.ts): a row wrapped to fit is drawn whole, and a
 * cluster (an emoji with its skin tone, a flag, 👨‍👩‍👧) is never cut in two.
 */
import { indexOfSeq, type ScrollAnchor } from '../model/scroll.js';
import { clusterWidth, graphemes } from '../model/text-width.js';
import { type ChatLine, clockTime } from '../model/tui-model.js';
import type { Look, Row, Span } from './cells.js';

export interface LogStyles {
  readonly plain: Look;
  readonly own: Look;
  readonly peer: Look;
  readonly notice: Look;
  readonly warning: Look;
  readonly failed: Look;
  /** Lines from the history of earlier chats. */
  readonly old: Look;
}

/** A sent line's mark; without an acknowledgement, say only what is known. */
export const MARKS = {
  pending: ' …',
  delivered: ' ✓',
  not_confirmed: ' ? not confirmed delivered',
  not_sent: ' ✗ not sent',
} as const;

const TIME_WIDTH = 6;

interface Cached {
  readonly width: number;
  readonly mark: ChatLine['mark'];
  readonly rows: readonly Row[];
}

export class LogRows {
  private readonly cache = new WeakMap<ChatLine, Cached>();

  constructor(private readonly styles: LogStyles) {}

  /** The rows `line` takes at `width`. */
  rowsOf(line: ChatLine, width: number): number {
    return this.rows(line, width).length;
  }

  /** `line` as styled rows at `width`. */
  rows(line: ChatLine, width: number): readonly Row[] {
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
  ): Row[] {
    if (lines.length === 0) return [];
    let index = lines.length - 1;
    let upTo = Number.POSITIVE_INFINITY;
    if (anchor) {
      index = Math.min(indexOfSeq(lines, anchor.seq), lines.length - 1);
      if (lines[index]?.seq === anchor.seq) upTo = anchor.row;
    }
    const out: Row[][] = [];
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
    if (line.old) return this.kindSpans(line).map((span) => ({ text: span.text, look: this.styles.old }));
    return this.kindSpans(line);
  }

  private kindSpans(line: ChatLine): Span[] {
    const s = this.styles;
    const time: Span = { text: `${clockTime(line.time)} `, look: s.plain };
    const body = line.text.replace(/\t/g, '    ');
    const mark: Span[] = line.mark
      ? [
          {
            text: MARKS[line.mark],
            look: line.mark === 'not_confirmed' || line.mark === 'not_sent' ? s.failed : s.plain,
          },
        ]
      : [];
    switch (line.kind) {
      case 'own':
        return [
          time,
          { text: `<${line.sender}>`, look: s.own },
          { text: ` ${body}`, look: s.plain },
          ...mark,
        ];
      case 'peer':
        return [time, { text: `<${line.sender}>`, look: s.peer }, { text: ` ${body}`, look: s.plain }];
      case 'own_action':
        return [
          time,
          { text: `* ${line.sender}`, look: s.own },
          { text: ` ${body}`, look: s.plain },
          ...mark,
        ];
      case 'peer_action':
        return [time, { text: `* ${line.sender}`, look: s.peer }, { text: ` ${body}`, look: s.plain }];
      case 'notice':
        return [time, { text: `-- ${keepNumbersWhole(body)}`, look: s.notice }];
      case 'warning':
        return [time, { text: `!! ${keepNumbersWhole(body)}`, look: s.warning }];
    }
  }
}

/** A space that wrapping never breaks at, drawn as a plain space. */
const NO_BREAK = '\u00a0';

/** A space between a number and the next number or its unit: "127.0.0.1 5555", "2.4 MB", "337 B/s". */
const BETWEEN_NUMBER_AND_UNIT = /(?<=\d) (?=\d|(?:bytes?|[kMGT]?B|[KMGT]iB)(?:\/s)?(?![\p{L}\d]))/gu;

/**
 * Our own texts (notices, warnings, dialogs) with the spaces of addresses and sizes made
 * unbreakable, so that a narrow screen never shows a port or a unit alone at the start of a row
 * ("… from: 127.0.0.1" above "33870"). A peer's message is wrapped as typed.
 */
export function keepNumbersWhole(text: string): string {
  return text.replace(BETWEEN_NUMBER_AND_UNIT, NO_BREAK);
}

/** A line's grapheme clusters, each with how it looks and the cells it takes (parallel arrays). */
interface Units {
  readonly texts: string[];
  readonly looks: Look[];
  readonly widths: number[];
}

/**
 * Wraps styled spans into rows of at most `width` cells: at a line break, at the last space that
 * fits (never a no-break space, which is drawn as a space), or (a word longer than the row)
 * anywhere between two clusters; rows after the first start with `indent` spaces.
 */
export function wrap(spans: readonly Span[], width: number, indent: number): Row[] {
  const units: Units = { texts: [], looks: [], widths: [] };
  for (const span of spans)
    for (const text of graphemes(span.text)) {
      units.texts.push(text);
      units.looks.push(span.look);
      units.widths.push(text === '\n' ? 0 : clusterWidth(text));
    }
  const { texts, widths } = units;
  const count = texts.length;
  const rows: Row[] = [];
  const room = (first: boolean) => Math.max(1, first ? width : width - indent);
  const pad = (): Span[] => (indent > 0 ? [{ text: ' '.repeat(Math.min(indent, width - 1)), look: {} }] : []);
  let start = 0;
  for (;;) {
    const first = rows.length === 0;
    const limit = room(first);
    let used = 0;
    let end = start;
    let lastSpace = -1;
    while (end < count && texts[end] !== '\n') {
      const w = widths[end] as number;
      if (used + w > limit) break;
      if (texts[end] === ' ') lastSpace = end;
      used += w;
      end++;
    }
    let next = end;
    const atBreak = end < count && texts[end] === '\n';
    if (atBreak) next = end + 1;
    else if (end < count && (texts[end] === ' ' || lastSpace > start)) {
      // At the space the row is full at, else at the last space in it.
      if (texts[end] !== ' ') end = lastSpace;
      next = end + 1;
      // The run of spaces broken at goes at the break: none ends the row, none starts the next
      // ("fp  127.0.0.1" showed " 127.0.0.1").
      while (next < count && texts[next] === ' ') next++;
      while (end > start && texts[end - 1] === ' ') end--;
    } else if (end === start && end < count) {
      // A cluster wider than the row: show it alone rather than loop.
      end = start + 1;
      next = end;
    }
    rows.push([...(first ? [] : pad()), ...spansOf(units, start, end)]);
    if (next >= count) {
      if (atBreak) rows.push(pad());
      break;
    }
    start = next;
  }
  return rows;
}

/** Units `from` to `to` as spans, one per run of the same look. */
function spansOf(units: Units, from: number, to: number): Span[] {
  const out: Span[] = [];
  let i = from;
  while (i < to) {
    const look = units.looks[i] as Look;
    let j = i;
    while (j < to && units.looks[j] === look) j++;
    out.push({ text: units.texts.slice(i, j).join('').replaceAll(NO_BREAK, ' '), look });
    i = j;
  }
  return out;
}

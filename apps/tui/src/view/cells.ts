/**
 * The TUI draws every piece of text itself, cell by cell, into blessed's screen buffer, and lets
 * blessed do the rest (the screen, borders, keys, and writing only the cells that changed).
 *
 * Why: blessed (unchanged since 2016) measures text by UTF-16 code unit. With `fullUnicode` it
 * cuts a row it thinks too long (an emoji is 2 units and a filler, 3, for 2 cells), so
 * `basic 😀😀😀😀😀😀😀😀 one two …` lost `twelve`; and it puts each code point of a cluster in a
 * cell of its own, so a skin tone, a flag or a ZWJ family (👨‍👩‍👧) was split, and the terminal,
 * drawing it as one, left the rest of the row shifted with stale cells behind. Here each grapheme
 * cluster is one cell (and a filler cell after it when it takes two), measured by text-width.ts,
 * the same measure the wrapping used.
 *
 * Terminals still disagree on some clusters (tmux 3.3 draws 👍🏽 as four cells and ❤️ as one;
 * kitty, WezTerm and string-width say two). So a cluster that is an emoji or more than one code
 * point is drawn guarded: its cells are erased first (ECH), then it is drawn, then the cursor is
 * put where our measure says the next cell is (CUP), and the cells after it are written again
 * even where blessed thinks they did not change (a terminal that drew the cluster wider drew over
 * them). However wide the terminal draws it, the rest of the row stays in place and no stale cell
 * is left; at worst that one cluster looks clipped (tmux 3.3 then shows 👍 without its tone).
 * Autowrap is off while the screen is ours (see tui-view.ts), so nothing drawn wider than its
 * row can spill into the next one.
 */
import blessed from 'blessed';
import { clusterWidth, graphemes } from '../model/text-width.js';

/** How a span of text looks: the terminal's default colours and attributes, red for trouble. */
export interface Look {
  readonly bold?: boolean;
  readonly underline?: boolean;
  readonly inverse?: boolean;
  /** Faint (history lines); drawn as SGR 2, see dim.ts. */
  readonly dim?: boolean;
  readonly red?: boolean;
}

export interface Span {
  readonly text: string;
  readonly look: Look;
}

/** One screen row of styled text. */
export type Row = readonly Span[];

export const PLAIN: Look = {};

/** The cell after a two-cell cluster: blessed skips it when drawing (as it does its own). */
export const FILLER = '\x03';

const ESC = '\x1b';
const DEFAULT_COLOUR = 0x1ff;
const RED = 1;

/** blessed's attribute code for a look: flags, foreground, background. */
export function attrOf(look: Look): number {
  const flags = (look.bold ? 1 : 0) | (look.underline ? 2 : 0) | (look.inverse ? 8 : 0) | (look.dim ? 16 : 0);
  return (flags << 18) | ((look.red ? RED : DEFAULT_COLOUR) << 9) | DEFAULT_COLOUR;
}

/** Clusters terminals may draw wider or narrower than string-width says: drawn guarded. */
const UNCERTAIN = /\p{Extended_Pictographic}|\p{Regional_Indicator}/u;

/**
 * 0 for a cluster every terminal draws as measured; else how many cells past our measure a
 * terminal might draw it (each code point two cells wide, none joined): those are written again.
 */
function guarded(cluster: string): number {
  let codePoints = 0;
  for (const _ of cluster) codePoints++;
  return codePoints > 1 || UNCERTAIN.test(cluster) ? Math.max(1, 2 * codePoints - clusterWidth(cluster)) : 0;
}

/** The cells a cell string of ours takes when blessed writes it (see teachBlessedCells). */
function cellWidth(cell: string): number {
  // A guarded cell starts with its own erase: ESC [ <width> X.
  if (cell.charCodeAt(0) === 0x1b) return Number(cell[2]);
  return clusterWidth(cell);
}

interface BlessedUnicode {
  charWidth(str: string | number, i?: number): number;
}

let taught = false;

/**
 * Makes blessed's screen writer measure a cell as we do. It calls `charWidth(cell)` with one
 * argument for each cell it writes, and skips the next cell when that says 2; every other use in
 * blessed passes an index and keeps blessed's own table.
 */
export function teachBlessedCells(): void {
  if (taught) return;
  taught = true;
  const unicode = (blessed as unknown as { unicode: BlessedUnicode }).unicode;
  const charWidth = unicode.charWidth.bind(unicode);
  unicode.charWidth = (str, i) =>
    i === undefined && typeof str === 'string' && str !== '' ? cellWidth(str) : charWidth(str, i);
}

/** The part of the screen a widget's text goes in (absolute cells, end exclusive). */
export interface Region {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

type Cell = [attr: number, ch: string];
/** blessed's screen buffers: what the next draw shows, and what was last written. */
interface Screen {
  readonly lines: (Cell[] & { dirty?: boolean })[];
  readonly olines: Cell[][];
}

/**
 * Writes `rows` into `lines` over `region`: each cluster in one cell (a filler after a two-cell
 * one), zero-width clusters left out, a cluster that does not fit at the right edge replaced by
 * spaces, and every other cell of the region blanked with `fill`, so nothing of an earlier frame
 * stays. Rows past the region's height are not drawn.
 */
export function drawRows(screen: Screen, region: Region, rows: readonly Row[], fill: Look = PLAIN): void {
  const blank = attrOf(fill);
  for (let r = 0; r < region.height; r++) {
    const line = screen.lines[region.top + r];
    const written = screen.olines[region.top + r];
    if (!line) break;
    const end = Math.min(line.length, region.left + region.width);
    let x = region.left;
    /** Cells up to here are written again, whatever blessed last wrote there. */
    let rewriteTo = 0;
    const put = (attr: number, ch: string) => {
      const cell = line[x];
      if (cell && (cell[0] !== attr || cell[1] !== ch)) {
        cell[0] = attr;
        cell[1] = ch;
        line.dirty = true;
      }
      if (x < rewriteTo && written?.[x]) {
        (written[x] as Cell)[1] = '\0';
        line.dirty = true;
      }
      x++;
    };
    spans: for (const span of rows[r] ?? []) {
      const attr = attrOf(span.look);
      for (const cluster of graphemes(span.text)) {
        const width = clusterWidth(cluster);
        if (width === 0) continue;
        if (x + width > end) {
          while (x < end) put(attr, ' ');
          break spans;
        }
        const extra = guarded(cluster);
        if (extra === 0) put(attr, cluster);
        else put(attr, `${ESC}[${width}X${cluster}${ESC}[${region.top + r + 1};${x + width + 1}H`);
        if (width === 2) put(attr, FILLER);
        rewriteTo = Math.max(rewriteTo, x + extra);
      }
    }
    while (x < end) put(blank, ' ');
  }
}

/**
 * Mends the two-cell clusters another widget cut in half: a box drawn over the log (a dialog,
 * the help) whose border lands on one cell of a cluster. A filler left without its cluster
 * would go to the terminal as a raw \x03, which it draws as nothing, so the rest of the row
 * came one cell left, and stayed so (later frames write only the cells that changed); a
 * cluster left without its filler would make blessed skip the border cell after it. Each
 * becomes a blank of its look.
 */
export function mendSplitClusters(screen: Pick<Screen, 'lines'>): void {
  for (const line of screen.lines) {
    for (let x = 0; x < line.length; x++) {
      const cell = line[x] as Cell;
      const ch = cell[1];
      if (ch.length === 1 && ch.charCodeAt(0) < 0x7f && ch !== FILLER) continue;
      const split =
        ch === FILLER
          ? x === 0 || cellWidth((line[x - 1] as Cell)[1]) !== 2
          : cellWidth(ch) === 2 && line[x + 1]?.[1] !== FILLER;
      if (split) {
        cell[1] = ' ';
        line.dirty = true;
      }
    }
  }
}

/** Has blessed mend split clusters (mendSplitClusters) in every frame, just before it writes it. */
export function mendEveryFrame(screen: blessed.Widgets.Screen): void {
  const s = screen as unknown as Screen & { draw(start: number, end: number): void };
  const draw = s.draw.bind(s);
  s.draw = (start, end) => {
    mendSplitClusters(s);
    draw(start, end);
  };
}

/** A cell as a person sees it (what drawRows put there, without the guard's sequences). */
export function shownCell(ch: string): string {
  if (ch === FILLER) return '';
  if (ch.charCodeAt(0) !== 0x1b) return ch;
  return ch.replace(GUARD_ERASE, '').replace(GUARD_MOVE, '');
}

const GUARD_ERASE = new RegExp(`^${ESC}\\[\\dX`);
const GUARD_MOVE = new RegExp(`${ESC}\\[\\d+;\\d+H$`);

/** What a drawn box shows: its rows for the inner size it has now. */
export type RowSource = (width: number, height: number) => readonly Row[];

interface Coords {
  readonly xi: number;
  readonly xl: number;
  readonly yi: number;
  readonly yl: number;
}

/**
 * A blessed box (border, label, position, hiding) whose inside is drawn by drawRows from
 * `rows`, asked at each render for the size the box has then.
 */
export function drawnBox(
  options: blessed.Widgets.BoxOptions,
  rows: RowSource,
  fill: Look = PLAIN,
): blessed.Widgets.BoxElement {
  const box = blessed.box({ ...options, content: '', tags: false });
  const element = box as unknown as {
    render(): Coords | undefined;
    ileft: number;
    iright: number;
    itop: number;
    ibottom: number;
    screen: Screen;
  };
  const render = element.render.bind(box);
  element.render = () => {
    const coords = render();
    if (!coords) return coords;
    const width = coords.xl - coords.xi - element.ileft - element.iright;
    const height = coords.yl - coords.yi - element.itop - element.ibottom;
    if (width > 0 && height > 0) {
      const region = { left: coords.xi + element.ileft, top: coords.yi + element.itop, width, height };
      drawRows(element.screen, region, rows(width, height), fill);
    }
    return coords;
  };
  return box;
}

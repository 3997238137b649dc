/**
 * A tab's log: the lines it shows (messages with their marks, notices, warnings, dimmed history)
 * and where it is scrolled to. Lines are numbered (`seq`) in the order they are shown, so a
 * scroll position holds on to a line, and lines that arrive below it never move the view.
 */
import type { MessageStatus, Notice } from '@netchat/client';
import { rowsAbove, type ScrollAnchor, scrollAnchor, topAnchor, type Viewport } from './scroll.js';

/** A sent line's mark: the fate of its message (the client's MessageStatus). */
export type Mark = MessageStatus;
export type LineKind = 'own' | 'peer' | 'own_action' | 'peer_action' | 'notice' | 'warning';

export interface ChatLine {
  readonly time: Date;
  readonly kind: LineKind;
  readonly sender: string;
  readonly text: string;
  /** A line from the chat history of an earlier conversation (shown dimmed). */
  readonly old?: boolean;
  /** Increases by one per line, in the order shown: what the scroll position holds on to. */
  readonly seq: number;
  mark?: Mark;
}

export type NewLine = Omit<ChatLine, 'time' | 'seq'> & { readonly time?: Date };

/** The lines a tab keeps: the oldest go first as new ones come. */
export const MAX_LINES = 10_000;
/**
 * The first line's number. Lines put before every other line (earlier chats from the history,
 * see `prependWithHeading`) take the numbers below it (below 0 if need be), so no line is ever renumbered.
 */
const FIRST_SEQ = 0;

export class TabLog {
  lines: ChatLine[] = [];
  /** The last visible row while scrolled back; undefined follows new lines. */
  anchor: ScrollAnchor | undefined;
  /** The newest line's seq when the view was scrolled back: lines after it are "new below". */
  private seenSeq = 0;
  private nextSeq = FIRST_SEQ;

  constructor(private readonly clock: () => Date) {}

  add(line: NewLine): ChatLine {
    const full: ChatLine = { ...line, time: line.time ?? this.clock(), seq: this.nextSeq++ };
    this.lines.push(full);
    if (this.lines.length > MAX_LINES) this.lines.splice(0, this.lines.length - MAX_LINES);
    return full;
  }

  notice(text: string): void {
    this.add({ kind: 'notice', sender: '', text });
  }

  warn(text: string): void {
    this.add({ kind: 'warning', sender: '', text });
  }
  /** The client's notices, each a line (a warning marked as one). */
  notices(notices: readonly Notice[]): void {
    for (const notice of notices) {
      if (notice.warning) this.warn(notice.text);
      else this.notice(notice.text);
    }
  }


  /** How many more lines the tab keeps before its oldest go. */
  get room(): number {
    return Math.max(0, MAX_LINES - this.lines.length);
  }

  /**
   * A notice `heading`, then `lines` (as many of the newest as there is room for), above every
   * line shown so far; returns the heading's line.
   */
  prependWithHeading(heading: string, lines: readonly NewLine[]): ChatLine {
    const room = Math.max(0, this.room - 1);
    const kept = lines.slice(Math.max(0, lines.length - room));
    return this.putFirst([{ kind: 'notice', sender: '', text: heading }, ...kept])[0] as ChatLine;
  }

  /** Takes `line` out of the log; a view held on it holds on to the line after it. */
  remove(line: ChatLine): void {
    const index = this.lines.indexOf(line);
    if (index < 0) return;
    this.lines.splice(index, 1);
    const next = this.lines[index];
    if (this.anchor?.seq === line.seq) this.anchor = next ? { seq: next.seq, row: 0 } : undefined;
  }

  clear(): void {
    this.lines = [];
    this.anchor = undefined;
  }

  /** Scrolls by `rows` (positive: back in time); new lines then leave the view still. */
  scroll(rows: number, view: Viewport): void {
    if (this.anchor === undefined) this.seenSeq = this.nextSeq - 1;
    this.anchor = scrollAnchor(this.lines, this.anchor, rows, view);
  }

  /** The rows above the view's top, counted up to `enough`. */
  rowsAbove(view: Viewport, enough: number): number {
    return rowsAbove(this.lines, this.anchor, view, enough);
  }

  /** Home: to the oldest line kept. */
  scrollToTop(view: Viewport): void {
    if (this.anchor === undefined) this.seenSeq = this.nextSeq - 1;
    this.anchor = topAnchor(this.lines, view);
  }

  /** End: back to the newest line, following again. */
  scrollToBottom(): void {
    this.anchor = undefined;
  }

  /** Lines that arrived below the view since it was scrolled back (0 when following). */
  newBelow(): number {
    return this.anchor === undefined ? 0 : this.nextSeq - 1 - this.seenSeq;
  }

  private putFirst(lines: readonly NewLine[]): ChatLine[] {
    const first = this.lines[0]?.seq ?? this.nextSeq;
    const numbered = lines.map(
      (line, i): ChatLine => ({ ...line, time: line.time ?? this.clock(), seq: first - lines.length + i }),
    );
    this.lines.unshift(...numbered);
    return numbered;
  }
}

/**
 * A tab's log: the lines it shows (messages with their marks, notices, warnings, dimmed history)
 * and where it is scrolled to. Lines are numbered (`seq`) in the order they are shown, so a
 * scroll position holds on to a line, and lines that arrive below it never move the view.
 */
import type { MessageStatus } from '@netchat/client';
import { type ScrollAnchor, scrollAnchor, topAnchor, type Viewport } from './scroll.js';

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

const MAX_LINES = 10_000;
/**
 * The first line's number. Lines put before every other line (a reopened chat's history, see
 * `prepend`) take the numbers below it, so no line is ever renumbered.
 */
const FIRST_SEQ = 1_000;

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

  /** Puts `lines` above every line shown so far, in their order (at most FIRST_SEQ - 1 of them). */
  prepend(lines: readonly NewLine[]): void {
    const first = this.lines[0]?.seq ?? this.nextSeq;
    const kept = lines.slice(Math.max(0, lines.length - (first - 1)));
    const numbered = kept.map(
      (line, i): ChatLine => ({ ...line, time: line.time ?? this.clock(), seq: first - kept.length + i }),
    );
    this.lines.unshift(...numbered);
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
}

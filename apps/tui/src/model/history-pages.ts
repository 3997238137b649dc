/**
 * A tab's earlier chats with its peer's key, from the chat history: the last lines when the chat
 * opens (dimmed, under a heading, above everything the tab shows), then older pages read
 * (`ChatHistory.page`) as the person scrolls up past the top. The lines go above the oldest one
 * shown, numbered below it, so the scroll position (a line and a row) holds and the view does not
 * jump; the heading moves up to stay first. Paging stops at the start of the log, when the tab
 * keeps no more lines, or once the heading is no longer first (the tab was cleared, or trimmed).
 */
import { actionOf, type ChatHistory, type HistoryCursor, type HistoryEntry } from '@netchat/client';
import { terminalSafe } from '@netchat/core';
import type { Viewport } from './scroll.js';
import type { ChatLine, LineKind, NewLine, TabLog } from './tab-log.js';

/** How the lines name their senders: us (read when a page is read: /nick may change it), and the peer when it had no nick. */
export interface HistoryNames {
  own(): string;
  readonly peer: string;
}

/** How many lines of history a reopened chat shows. */
export const HISTORY_LINES = 10;
/** How many older lines are read at a time as the tab is scrolled up past its top. */
export const HISTORY_PAGE_LINES = 50;
/** At most this many pages are read for one scroll. */
const MAX_PAGES_PER_SCROLL = 20;

export class HistoryPages {
  /** Where the next older page ends; undefined once the start of the log is reached. */
  private before: HistoryCursor | undefined;
  private heading: ChatLine | undefined;
  private read = 0;

  constructor(
    private readonly history: ChatHistory,
    private readonly publicKey: string,
    private readonly names: HistoryNames,
    private readonly clock: () => Date,
  ) {}

  /**
   * The last `count` lines, above everything `log` shows so far (when the chat opens): false if
   * there are none. Throws what reading the history throws (an unreadable file).
   */
  open(log: TabLog, count: number): boolean {
    const page = this.history.page(this.publicKey, count);
    this.before = page.before;
    if (page.entries.length === 0) return false;
    this.read = page.entries.length;
    this.heading = log.prependWithHeading(this.headingText(), this.lines(page.entries));
    return true;
  }

  /** Whether older lines can be shown in `log`. */
  private canLoad(log: TabLog): boolean {
    return (
      this.before !== undefined && this.heading !== undefined && log.lines[0] === this.heading && log.room > 0
    );
  }

  /**
   * Up to `count` older lines above the oldest shown, the heading moved above them; false when
   * there are none to show. Throws what reading the history throws.
   */
  private loadOlder(log: TabLog, count: number): boolean {
    if (!this.canLoad(log)) return false;
    const page = this.history.page(this.publicKey, Math.min(count, log.room), this.before);
    this.before = page.before;
    if (page.entries.length === 0) {
      this.before = undefined;
      return false;
    }
    this.read += page.entries.length;
    log.remove(this.heading as ChatLine);
    this.heading = log.prependWithHeading(this.headingText(), this.lines(page.entries));
    return true;
  }

  /**
   * Before a scroll up by `rows`: older lines read in above the top of `log`, page by page, until
   * `rows` rows are there to scroll without bringing the heading into view (or none are left), so
   * the heading, which moves up as lines come in, never takes a row of the screen while there is
   * more above it. Nothing while the history is off. A log that cannot be read is one warning, and
   * paging stops.
   */
  readAbove(log: TabLog, rows: number, view: Viewport): void {
    if (!this.history.enabled) return;
    const wanted = () => rows + (this.canLoad(log) ? view.rowsOf(log.lines[0] as ChatLine) : 0);
    for (let read = 0; read < MAX_PAGES_PER_SCROLL && log.rowsAbove(view, wanted()) < wanted(); read++) {
      try {
        if (!this.loadOlder(log, HISTORY_PAGE_LINES)) return;
      } catch (error) {
        this.before = undefined;
        log.warn(`Chat history could not be read: ${(error as Error).message}`);
        return;
      }
    }
  }

  private headingText(): string {
    const lines = `${this.read} line${this.read === 1 ? '' : 's'}`;
    return this.before === undefined
      ? `Earlier chats with this key: the last ${lines}, dimmed.`
      : `Earlier chats with this key: the last ${lines}, dimmed (PgUp for older ones).`;
  }

  private lines(entries: readonly HistoryEntry[]): NewLine[] {
    return historyLines(entries, this.names, this.clock());
  }
}

/** `entries` as dimmed lines (`old`), oldest first; `fallback` for an unreadable time. */
export function historyLines(
  entries: readonly HistoryEntry[],
  names: HistoryNames,
  fallback: Date,
): NewLine[] {
  const own = names.own();
  return entries.map((entry) => {
    const action = actionOf(entry.text);
    const mine = entry.direction === 'out';
    const kind: LineKind =
      action === undefined ? (mine ? 'own' : 'peer') : mine ? 'own_action' : 'peer_action';
    const time = new Date(entry.at);
    return {
      kind,
      sender: terminalSafe(mine ? own : entry.nick || names.peer),
      text: terminalSafe(action ?? entry.text),
      time: Number.isNaN(time.getTime()) ? fallback : time,
      old: true,
    };
  });
}

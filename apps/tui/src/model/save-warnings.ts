/**
 * What the TUI could not save in the netchat home (the known peers, the chat history), said as
 * one warning line each, once per run, while the chat goes on: a home that is read-only, owned by
 * someone else, or has a file where a directory should be must never end the program or lose
 * what was typed.
 *
 * For now the TUI catches these itself at its edge: the known peers' `remember` throws (see
 * `guard`), and the chat history counts failed writes without a word (see `checkHistory`). Once
 * the client reports save failures through a callback, that callback calls `failed` and both
 * stop-gaps go.
 */
import type { ChatHistory } from '@netchat/client';

export class SaveWarnings {
  private readonly said = new Set<string>();
  private pending: string[] = [];
  private historyErrorsSeen = 0;

  /** Runs `save`; if it throws, the error becomes a warning about `what` (once per run). */
  guard(what: string, save: () => void): void {
    try {
      save();
    } catch (error) {
      this.failed(what, error);
    }
  }

  /** `what` could not be saved: a warning, the first time. */
  failed(what: string, error: unknown): void {
    if (this.said.has(what)) return;
    this.said.add(what);
    const why = error instanceof Error ? error.message : String(error);
    this.pending.push(`Could not save ${what}: ${firstLine(why)} (the chat goes on).`);
  }

  /** Writes the chat history failed since the last look (it counts them and never throws). */
  checkHistory(history: ChatHistory | undefined): void {
    if (!history || history.stats.writeErrors === this.historyErrorsSeen) return;
    this.historyErrorsSeen = history.stats.writeErrors;
    this.failed('the chat history', history.stats.lastError);
  }

  /** The warnings not shown yet, oldest first. */
  take(): string[] {
    const taken = this.pending;
    this.pending = [];
    return taken;
  }
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}

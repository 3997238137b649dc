/**
 * `file_progress` in --json about four times a second a transfer, as README says. The engine says
 * progress that often while bytes move and once more as each file ends (so a bar shows where it
 * stopped): a folder of 300 small files made 600 lines in two seconds. Between two printed ones
 * the newest is held back; it is printed when the next is due, just before the transfer's end
 * (`file_done`, a whole transfer's `file_failed`, `file_cancelled`, `file_declined`), and at once
 * the first time it says every byte is here (a sender's bytes are whole before the verdicts).
 */
import type { LinkEvent } from '@netchat/core';

/** The least time between two printed `file_progress` of one transfer (ms). */
export const JSON_PROGRESS_EVERY_MS = 250;

export class JsonProgressGate {
  /** Per transfer: when its last progress was printed and its bytes, and the newest one not printed since. */
  private readonly shown = new Map<number, { at: number; bytes: number; held?: string }>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** What to print for a file event whose JSON is `line`: nothing, the line, or a held progress and it. */
  lines(event: LinkEvent, line: string): string[] {
    if (!('transfer' in event)) return [line];
    const entry = this.shown.get(event.transfer);
    if (event.type === 'file_progress') {
      const now = this.now();
      const firstWhole = event.bytes >= event.size && (entry?.bytes ?? 0) < event.size;
      if (entry && now - entry.at < JSON_PROGRESS_EVERY_MS && !firstWhole) {
        entry.held = line;
        return [];
      }
      this.shown.set(event.transfer, { at: now, bytes: event.bytes });
      return [line];
    }
    if (!ends(event)) return [line];
    this.shown.delete(event.transfer);
    return entry?.held ? [entry.held, line] : [line];
  }
}

function ends(event: LinkEvent): boolean {
  switch (event.type) {
    case 'file_done':
    case 'file_cancelled':
    case 'file_declined':
      return true;
    case 'file_failed':
      return event.file === undefined;
    default:
      return false;
  }
}

/**
 * Tab completion, as in irssi: the word before the cursor is completed to the first candidate
 * that starts with it (commands when it is the first word and starts with "/", nicks otherwise);
 * pressing Tab again cycles through the others. A nick completed at the start of the line gets
 * ": " after it, as people address each other in chat.
 */
import type { LineEditor } from './line-editor.js';

interface Cycle {
  readonly start: number;
  readonly candidates: readonly string[];
  index: number;
}

export class Completer {
  private cycle: Cycle | undefined;

  /** Any other key ends a cycle. */
  reset(): void {
    this.cycle = undefined;
  }

  /** Completes (or, on the next Tab, cycles) in `editor`; false if nothing matches. */
  complete(editor: LineEditor, commands: readonly string[], nicks: readonly string[]): boolean {
    const cycle = this.cycle;
    if (cycle) {
      cycle.index = (cycle.index + 1) % cycle.candidates.length;
      this.put(editor, cycle);
      return true;
    }
    const { word, start } = editor.wordBeforeCursor();
    const pool = start === 0 && word.startsWith('/') ? commands : nicks;
    const lower = word.toLowerCase();
    const candidates = [...new Set(pool)].filter((c) => c !== '' && c.toLowerCase().startsWith(lower));
    if (candidates.length === 0 || word === '') return false;
    this.cycle = { start, candidates, index: 0 };
    this.put(editor, this.cycle);
    return true;
  }

  private put(editor: LineEditor, cycle: Cycle): void {
    const candidate = cycle.candidates[cycle.index] as string;
    const suffix = candidate.startsWith('/') || cycle.start > 0 ? ' ' : ': ';
    // Replaces the word, or what the previous Tab put in.
    editor.replaceBeforeCursor(cycle.start, `${candidate}${suffix}`);
  }
}

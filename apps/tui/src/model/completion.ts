/**
 * Tab completion, as in irssi: the word before the cursor is completed to the first candidate
 * that starts with it (commands when it is the first word and starts with "/", nicks otherwise,
 * paths after `/send`: path-completion.ts); pressing Tab again cycles through the others. A nick
 * completed at the start of the line gets ": " after it, as people address each other in chat.
 * A single candidate ends the cycle, so Tab after a completed folder (`docs/`) goes into it.
 */
import type { LineEditor } from './line-editor.js';
import { type PathContext, pathCompletions } from './path-completion.js';
import { graphemes } from './text-width.js';

interface Cycle {
  /** Where the replaced word starts (in clusters). */
  readonly start: number;
  /** Each candidate as it goes in the line (with what follows it). */
  readonly replacements: readonly string[];
  index: number;
}

export class Completer {
  private cycle: Cycle | undefined;

  /** Any other key ends a cycle. */
  reset(): void {
    this.cycle = undefined;
  }

  /** Completes (or, on the next Tab, cycles) in `editor`; false if nothing matches. */
  complete(
    editor: LineEditor,
    commands: readonly string[],
    nicks: readonly string[],
    paths?: PathContext,
  ): boolean {
    const cycle = this.cycle;
    if (cycle) {
      cycle.index = (cycle.index + 1) % cycle.replacements.length;
      editor.replaceBeforeCursor(cycle.start, cycle.replacements[cycle.index] as string);
      return true;
    }
    const before = paths ? editor.beforeCursor : '';
    const found = paths ? pathCompletions(before, paths) : undefined;
    if (found) return this.begin(editor, graphemes(before.slice(0, found.start)).length, found.replacements);
    if (paths && /^\s*\/send\s/i.test(before)) return false;
    const { word, start } = editor.wordBeforeCursor();
    const pool = start === 0 && word.startsWith('/') ? commands : nicks;
    const lower = word.toLowerCase();
    const candidates = [...new Set(pool)].filter((c) => c !== '' && c.toLowerCase().startsWith(lower));
    if (candidates.length === 0 || word === '') return false;
    const suffix = (c: string) => (c.startsWith('/') || start > 0 ? ' ' : ': ');
    return this.begin(
      editor,
      start,
      candidates.map((c) => `${c}${suffix(c)}`),
    );
  }

  private begin(editor: LineEditor, start: number, replacements: readonly string[]): boolean {
    editor.replaceBeforeCursor(start, replacements[0] as string);
    this.cycle = replacements.length > 1 ? { start, replacements, index: 0 } : undefined;
    return true;
  }
}

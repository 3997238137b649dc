/**
 * The input of one tab: text with a cursor, edited by grapheme cluster (so an emoji with its skin
 * tone, a flag or 👨‍👩‍👧 is one step and one Backspace, never split), and a history (shared by
 * every tab) recalled with Up and Down, keeping the unsent draft.
 *
 * A gap buffer: the clusters before the cursor in order, those after it in reverse, so typing,
 * deleting and moving by one cost the same however long the text is (a 20 KB paste stays cheap to
 * type after), and `window` shows the part around the cursor without walking the whole text.
 */
import { graphemes } from './text-width.js';

export class InputHistory {
  readonly lines: string[] = [];
  constructor(readonly max = 200) {}

  add(text: string): void {
    if (text.trim() === '' || this.lines.at(-1) === text) return;
    this.lines.push(text);
    if (this.lines.length > this.max) this.lines.shift();
  }
}

/** What the input line shows: the clusters around the cursor that fit in `room` cells. */
export interface InputWindow {
  readonly before: string;
  readonly at: string;
  readonly after: string;
  /** Whether text is hidden left or right of the window. */
  readonly clippedLeft: boolean;
  readonly clippedRight: boolean;
}

const isSpace = (ch: string | undefined) => ch !== undefined && /\s/u.test(ch);

export class LineEditor {
  private left: string[] = [];
  /** After the cursor, reversed: the next cluster is last. */
  private right: string[] = [];
  /** Index into history while browsing it with Up/Down; undefined: the draft. */
  private browsing: number | undefined;
  private draft = '';

  constructor(private readonly history = new InputHistory()) {}

  get text(): string {
    return this.left.join('') + this.right.slice().reverse().join('');
  }

  get cursor(): number {
    return this.left.length;
  }

  /** The first cluster ('' when empty), without building the text. */
  get first(): string {
    return this.left[0] ?? this.right.at(-1) ?? '';
  }

  get length(): number {
    return this.left.length + this.right.length;
  }

  /** Inserts at the cursor; what is typed after a cluster may extend it (a skin tone after 👍, a ZWJ and 👧 after 👨). */
  insert(text: string): void {
    if (text === '') return;
    const last = this.left.pop();
    const clusters = graphemes(last === undefined ? text : last + text);
    for (let i = 0; i < clusters.length; i++) this.left.push(clusters[i] as string);
  }

  backspace(): void {
    this.left.pop();
  }

  deleteForward(): void {
    this.right.pop();
  }

  left1(): void {
    const ch = this.left.pop();
    if (ch !== undefined) this.right.push(ch);
  }

  right1(): void {
    const ch = this.right.pop();
    if (ch !== undefined) this.left.push(ch);
  }

  /** Ctrl+A. */
  home(): void {
    while (this.left.length > 0) this.left1();
  }

  /** Ctrl+E. */
  end(): void {
    while (this.right.length > 0) this.right1();
  }

  /** Alt+B: to the start of this word (or the previous one). */
  wordLeft(): void {
    while (isSpace(this.left.at(-1))) this.left1();
    while (this.left.length > 0 && !isSpace(this.left.at(-1))) this.left1();
  }

  /** Alt+F: to the end of this word (or the next one). */
  wordRight(): void {
    while (isSpace(this.right.at(-1))) this.right1();
    while (this.right.length > 0 && !isSpace(this.right.at(-1))) this.right1();
  }

  /** Ctrl+K: delete from the cursor to the end. */
  killToEnd(): void {
    this.right = [];
  }

  /** Ctrl+U: delete from the start to the cursor. */
  killToStart(): void {
    this.left = [];
  }

  clear(): void {
    this.set('');
  }

  /** Ctrl+W: delete the word before the cursor. */
  deleteWordBack(): void {
    while (isSpace(this.left.at(-1))) this.left.pop();
    while (this.left.length > 0 && !isSpace(this.left.at(-1))) this.left.pop();
  }

  /** The text before the cursor (for completing a path, which may hold escaped blanks). */
  get beforeCursor(): string {
    return this.left.join('');
  }

  /** The word the cursor ends (for completion), and where it starts. */
  wordBeforeCursor(): { word: string; start: number } {
    let start = this.left.length;
    while (start > 0 && !isSpace(this.left[start - 1])) start--;
    return { word: this.left.slice(start).join(''), start };
  }

  /** Replaces the clusters from `start` to the cursor with `text`. */
  replaceBeforeCursor(start: number, text: string): void {
    this.left.length = start;
    this.insert(text);
  }

  /**
   * What fits in `room` cells around the cursor (the cluster at the cursor, or a space after the
   * end, takes at least one), the cursor near the right end as it types; `cells` measures a
   * cluster as it is shown.
   */
  window(room: number, cells: (cluster: string) => number): InputWindow {
    const at = this.right.at(-1) ?? '';
    let spare = Math.max(1, room) - Math.max(1, at === '' ? 1 : cells(at));
    let beforeCount = 0;
    while (beforeCount < this.left.length) {
      const w = cells(this.left[this.left.length - 1 - beforeCount] as string);
      if (w > spare) break;
      spare -= w;
      beforeCount++;
    }
    const after: string[] = [];
    for (let i = this.right.length - 2; i >= 0; i--) {
      const cluster = this.right[i] as string;
      const w = cells(cluster);
      if (w > spare) break;
      spare -= w;
      after.push(cluster);
    }
    return {
      before: this.left.slice(this.left.length - beforeCount).join(''),
      at,
      after: after.join(''),
      clippedLeft: beforeCount < this.left.length,
      clippedRight: after.length < Math.max(0, this.right.length - 1),
    };
  }

  up(): void {
    const lines = this.history.lines;
    if (this.browsing === 0 || lines.length === 0) return;
    if (this.browsing === undefined) {
      this.draft = this.text;
      this.browsing = lines.length;
    }
    this.browsing--;
    this.set(lines[this.browsing] ?? '');
  }

  down(): void {
    if (this.browsing === undefined) return;
    this.browsing++;
    if (this.browsing >= this.history.lines.length) {
      this.browsing = undefined;
      this.set(this.draft);
    } else this.set(this.history.lines[this.browsing] ?? '');
  }

  /** Returns the text and empties the editor, remembering the text in the history. */
  take(): string {
    const text = this.text;
    this.history.add(text);
    this.browsing = undefined;
    this.draft = '';
    this.set('');
    return text;
  }

  private set(text: string): void {
    this.left = graphemes(text);
    this.right = [];
  }
}

/**
 * The input of one tab: text with a cursor, edited by code point (so emoji are never split), and
 * a history (shared by every tab) recalled with Up and Down, keeping the unsent draft.
 *
 * A gap buffer: the code points before the cursor in order, those after it in reverse, so typing,
 * deleting and moving by one cost the same however long the text is (a 20 KB paste stays cheap to
 * type after), and `window` shows the part around the cursor without walking the whole text.
 */
export class InputHistory {
  readonly lines: string[] = [];
  constructor(readonly max = 200) {}

  add(text: string): void {
    if (text.trim() === '' || this.lines.at(-1) === text) return;
    this.lines.push(text);
    if (this.lines.length > this.max) this.lines.shift();
  }
}

/** What the input line shows: up to `room` code points around the cursor. */
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
  /** After the cursor, reversed: the next code point is last. */
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

  /** The first code point ('' when empty), without building the text. */
  get first(): string {
    return this.left[0] ?? this.right.at(-1) ?? '';
  }

  get length(): number {
    return this.left.length + this.right.length;
  }

  insert(text: string): void {
    for (const ch of text) this.left.push(ch);
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

  /** The word the cursor ends (for completion), and where it starts. */
  wordBeforeCursor(): { word: string; start: number } {
    let start = this.left.length;
    while (start > 0 && !isSpace(this.left[start - 1])) start--;
    return { word: this.left.slice(start).join(''), start };
  }

  /** Replaces the code points from `start` to the cursor with `text`. */
  replaceBeforeCursor(start: number, text: string): void {
    this.left.length = start;
    this.insert(text);
  }

  /** Up to `room` code points around the cursor, the cursor near the right end as it types. */
  window(room: number): InputWindow {
    const spare = Math.max(1, room) - 1;
    const beforeCount = Math.min(this.left.length, spare);
    const afterAvailable = Math.max(0, this.right.length - 1);
    const afterCount = Math.min(afterAvailable, spare - beforeCount);
    const after: string[] = [];
    for (let i = 2; i <= afterCount + 1; i++) after.push(this.right[this.right.length - i] as string);
    return {
      before: this.left.slice(this.left.length - beforeCount).join(''),
      at: this.right.at(-1) ?? '',
      after: after.join(''),
      clippedLeft: beforeCount < this.left.length,
      clippedRight: afterCount < afterAvailable,
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
    this.left = Array.from(text);
    this.right = [];
  }
}

/**
 * The input line: text with a cursor, edited by code point (so emoji are never split), and a
 * history recalled with Up and Down, keeping the unsent draft.
 */
export class LineEditor {
  private chars: string[] = [];
  cursor = 0;
  private readonly history: string[] = [];
  /** Index into history while browsing it with Up/Down; history.length means "the draft". */
  private browsing = 0;
  private draft: string[] = [];

  constructor(private readonly maxHistory = 200) {}

  get text(): string {
    return this.chars.join('');
  }

  /** The text as code points, for a view that must place the cursor. */
  get codePoints(): readonly string[] {
    return this.chars;
  }

  insert(text: string): void {
    const added = Array.from(text);
    this.chars.splice(this.cursor, 0, ...added);
    this.cursor += added.length;
  }

  backspace(): void {
    if (this.cursor === 0) return;
    this.chars.splice(--this.cursor, 1);
  }

  deleteForward(): void {
    this.chars.splice(this.cursor, 1);
  }

  left(): void {
    this.cursor = Math.max(0, this.cursor - 1);
  }

  right(): void {
    this.cursor = Math.min(this.chars.length, this.cursor + 1);
  }

  home(): void {
    this.cursor = 0;
  }

  end(): void {
    this.cursor = this.chars.length;
  }

  /** Ctrl+U: clear the line. */
  clear(): void {
    this.set([]);
  }

  /** Ctrl+W: delete the word before the cursor. */
  deleteWordBack(): void {
    let start = this.cursor;
    while (start > 0 && this.chars[start - 1] === ' ') start--;
    while (start > 0 && this.chars[start - 1] !== ' ') start--;
    this.chars.splice(start, this.cursor - start);
    this.cursor = start;
  }

  up(): void {
    if (this.browsing === 0) return;
    if (this.browsing === this.history.length) this.draft = this.chars;
    this.browsing--;
    this.set(Array.from(this.history[this.browsing] ?? ''));
  }

  down(): void {
    if (this.browsing >= this.history.length) return;
    this.browsing++;
    this.set(
      this.browsing === this.history.length ? this.draft : Array.from(this.history[this.browsing] ?? ''),
    );
  }

  /** Returns the line and empties the editor, remembering the line in the history. */
  take(): string {
    const text = this.text;
    if (text.trim() !== '' && this.history.at(-1) !== text) {
      this.history.push(text);
      if (this.history.length > this.maxHistory) this.history.shift();
    }
    this.browsing = this.history.length;
    this.draft = [];
    this.set([]);
    return text;
  }

  private set(chars: string[]): void {
    this.chars = [...chars];
    this.cursor = this.chars.length;
  }
}

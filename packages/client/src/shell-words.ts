/**
 * Paths typed after a command (`/send my\ file.txt "two words.pdf" ~/photos`), read as a shell
 * reads words: split on blanks, '…' and "…" quoting, \ escaping one character, and `~` or `~/…`
 * at the start of a word meaning the home folder. Both front-ends read `/send` this way, and the
 * TUI completes paths with `quotePath`, which writes a name so that it reads back the same.
 */

export interface ShellWord {
  /** The word as it reads (quotes and escapes taken off; `~` not yet expanded). */
  readonly value: string;
  /** Where it starts and ends in the text (UTF-16 offsets; `end` is past its last character). */
  readonly start: number;
  readonly end: number;
}

export interface ShellSplit {
  readonly words: readonly ShellWord[];
  /** The quote a word opened and did not close (the text ends inside it). */
  readonly openQuote: '"' | "'" | undefined;
  /** The text ends in a blank outside any word: the next word has not begun. */
  readonly trailingBlank: boolean;
}

/** Splits `text` into words, noting where each is and whether the text ends inside one. */
export function splitShellWords(text: string): ShellSplit {
  const words: ShellWord[] = [];
  let value: string | undefined;
  let start = 0;
  let quote: '"' | "'" | undefined;
  const begin = (at: number) => {
    if (value === undefined) {
      value = '';
      start = at;
    }
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) value = (value ?? '') + text[++i];
      else value = (value ?? '') + c;
    } else if (c === '"' || c === "'") {
      begin(i);
      quote = c;
    } else if (c === '\\' && i + 1 < text.length) {
      begin(i);
      value = (value ?? '') + text[++i];
    } else if (/\s/.test(c)) {
      if (value !== undefined) words.push({ value, start, end: i });
      value = undefined;
    } else {
      begin(i);
      value = (value ?? '') + c;
    }
  }
  if (value !== undefined) words.push({ value, start, end: text.length });
  const last = text.at(-1);
  return {
    words,
    openQuote: quote,
    trailingBlank: quote === undefined && value === undefined && last !== undefined && /\s/.test(last),
  };
}

/** The words of `text`, or undefined if a quote is not closed. */
export function shellWords(text: string): string[] | undefined {
  const split = splitShellWords(text);
  return split.openQuote ? undefined : split.words.map((w) => w.value);
}

/** `~` and `~/x` are the home folder (and x in it); any other path is as typed. */
export function expandHome(path: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return `${home.replace(/\/+$/, '')}/${path.slice(2)}`;
  return path;
}

/**
 * `path` written so that `splitShellWords` reads it back as one word, unchanged: blanks, quotes
 * and backslashes escaped with `\` (a leading `~/` stays as it is, so it still means the home
 * folder).
 */
export function quotePath(path: string): string {
  return path.replace(/[\s"'\\]/g, (c) => `\\${c}`);
}

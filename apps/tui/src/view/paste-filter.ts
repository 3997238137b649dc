/**
 * Bracketed paste: the terminal wraps pasted text in ESC[200~ … ESC[201~ (once the program asks
 * with ESC[?2004h). This sits between the terminal and blessed and takes the pasted text out
 * whole, so a 20 KB paste is one insertion into the input instead of 20,000 key presses, and its
 * line breaks stay in the message instead of sending it line by line. Everything else is passed
 * on to blessed untouched.
 */
import { PassThrough, type Readable } from 'node:stream';

export const PASTE_START = '\u001b[200~';
export const PASTE_END = '\u001b[201~';
export const BRACKETED_PASTE_ON = '\u001b[?2004h';
export const BRACKETED_PASTE_OFF = '\u001b[?2004l';

/**
 * An escape sequence (group 1: CSI, SS3 or ESC + one character), or (group 2) a run of text with
 * no control character too long to be typed between two reads of the terminal.
 */
const KEY_OR_LONG_TEXT = new RegExp(
  `(${String.fromCharCode(27)}(?:\\[[0-9;?<>=]*[ -/]*[@-~]|O[\\s\\S]|[\\s\\S])?)|([^\\p{Cc}]{64,})`,
  'gu',
);

/** Control characters a paste may not carry into the input (all but tab and line breaks). */
const UNPASTABLE = /(?![\t\n])\p{Cc}/gu;

/** Pasted text as the input takes it: line breaks as \n, no control characters, no trailing break. */
export function cleanPaste(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(UNPASTABLE, '').replace(/\n+$/, '');
}

/**
 * How much of `text`'s end could be the start of `marker` (held until the next chunk). Outside a
 * paste, a lone ESC at the end is not held: it is the Esc key, which must act at once.
 */
function partialMarkerAtEnd(text: string, marker: string, shortest: number): number {
  for (let n = Math.min(marker.length - 1, text.length); n >= shortest; n--)
    if (text.endsWith(marker.slice(0, n))) return n;
  return 0;
}

export class PasteFilter {
  private pasting = false;
  private held = '';
  private pasted: string[] = [];

  constructor(
    private readonly forward: (text: string) => void,
    private readonly onPaste: (text: string) => void,
  ) {}

  feed(chunk: string): void {
    let text = this.held + chunk;
    this.held = '';
    while (text.length > 0) {
      const marker = this.pasting ? PASTE_END : PASTE_START;
      const at = text.indexOf(marker);
      if (at < 0) {
        const partial = partialMarkerAtEnd(text, marker, this.pasting ? 1 : 2);
        this.held = text.slice(text.length - partial);
        this.take(text.slice(0, text.length - partial));
        return;
      }
      this.take(text.slice(0, at));
      text = text.slice(at + marker.length);
      if (this.pasting) {
        this.onPaste(cleanPaste(this.pasted.join('')));
        this.pasted = [];
      }
      this.pasting = !this.pasting;
    }
  }

  private take(text: string): void {
    if (text === '') return;
    if (this.pasting) {
      this.pasted.push(text);
      return;
    }
    // Without bracketed paste a paste comes as plain text: a long run of it is inserted whole too,
    // rather than handed to blessed as one key press per character. Key sequences and line breaks
    // around it still go to blessed, in order.
    let from = 0;
    for (const match of text.matchAll(KEY_OR_LONG_TEXT)) {
      const run = match[2];
      if (run === undefined) continue; // a key sequence: stays with the keys around it
      if (match.index > from) this.forward(text.slice(from, match.index));
      this.onPaste(run);
      from = match.index + run.length;
    }
    if (from < text.length) this.forward(text.slice(from));
  }
}

/**
 * A stream for blessed to read keys from: what `input` sends, minus bracketed pastes (given to
 * `onPaste`). Raw mode is set on the real input.
 */
export function filteredInput(
  input: Readable,
  onPaste: (text: string) => void,
): { stream: Readable; close(): void } {
  const real = input as Readable & { isTTY?: boolean; setRawMode?(mode: boolean): unknown; isRaw?: boolean };
  const proxy = new PassThrough() as PassThrough & {
    isTTY?: boolean;
    isRaw?: boolean;
    setRawMode?(m: boolean): unknown;
  };
  proxy.isTTY = real.isTTY ?? true;
  proxy.isRaw = false;
  proxy.setRawMode = (mode: boolean) => {
    real.setRawMode?.(mode);
    proxy.isRaw = mode;
    return proxy;
  };
  const filter = new PasteFilter(
    (text) => proxy.write(text),
    (text) => onPaste(text),
  );
  real.setEncoding?.('utf8');
  const onData = (chunk: string | Buffer) => filter.feed(chunk.toString());
  real.on('data', onData);
  real.resume();
  return {
    stream: proxy,
    close: () => {
      real.off('data', onData);
      real.pause();
    },
  };
}

/**
 * blessed (unchanged since 2016) knows CJK is two cells wide but not emoji, so a line with 😀
 * drifts one cell from what the terminal draws. blessed marks a wide character by a filler cell
 * (\x03) after it and skips that cell when drawing; this teaches both steps about emoji, once,
 * before any screen is made.
 */
import blessed from 'blessed';

interface BlessedUnicode {
  charWidth(str: string | number, i?: number): number;
  codePointAt(str: string, i: number): number;
  chars: { all: RegExp };
}

const unicode = (blessed as unknown as { unicode: BlessedUnicode }).unicode;
const emoji = /^\p{Emoji_Presentation}$/u;
let patched = false;

export function teachBlessedWideCharacters(): void {
  if (patched) return;
  patched = true;
  const charWidth = unicode.charWidth.bind(unicode);
  unicode.charWidth = (str, i) => {
    const point = typeof str === 'number' ? str : unicode.codePointAt(str, i ?? 0);
    return emoji.test(String.fromCodePoint(point)) ? 2 : charWidth(str, i);
  };
  // blessed's own wide ranges (rewritten for a u-flag regex) plus emoji.
  unicode.chars.all =
    /([\u{1100}-\u{115f}\u{2329}\u{232a}\u{2e80}-\u{303e}\u{3040}-\u{a4cf}\u{ac00}-\u{d7a3}\u{f900}-\u{faff}\u{fe10}-\u{fe19}\u{fe30}-\u{fe6f}\u{ff00}-\u{ff60}\u{ffe0}-\u{ffe6}\u{20000}-\u{2fffd}\u{30000}-\u{3fffd}]|\p{Emoji_Presentation})/gu;
}

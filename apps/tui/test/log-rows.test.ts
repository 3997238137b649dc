import { describe, expect, it } from 'vitest';
import type { ChatLine } from '../src/model/tui-model.js';
import { LogRows, wrap } from '../src/view/log-rows.js';
import { teachBlessedWideCharacters } from '../src/view/wide-characters.js';

teachBlessedWideCharacters();
const P = ['', ''] as const;
const plain = (text: string) => [{ text, style: P }];

describe('wrapping a line into rows', () => {
  it('breaks at the last space that fits, with a hanging indent', () => {
    expect(wrap(plain('10:30 aaa bbb ccc ddd'), 12, 6)).toEqual([
      '10:30 aaa',
      '      bbb',
      '      ccc',
      '      ddd',
    ]);
  });

  it('breaks a word longer than the row anywhere, keeps line breaks, and ends after a trailing one', () => {
    expect(wrap(plain('x'.repeat(25)), 10, 0)).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
    expect(wrap(plain('a\nb\n'), 10, 2)).toEqual(['a', '  b', '  ']);
    expect(wrap(plain(''), 10, 2)).toEqual(['']);
  });

  it('counts wide characters as two cells and never splits one', () => {
    expect(wrap(plain('😀😀😀'), 5, 0)).toEqual(['😀😀', '😀']);
    expect(wrap(plain('漢'), 1, 0)).toEqual(['漢']);
  });

  it('styles each span, escaping blessed tags in the text', () => {
    const rows = wrap(
      [
        { text: '{a}', style: ['{bold}', '{/bold}'] as const },
        { text: ' b', style: P },
      ],
      20,
      0,
    );
    expect(rows).toEqual(['{bold}{open}a{close}{/bold} b']);
  });
});

describe('the rows on screen', () => {
  const styles = { plain: P, own: P, peer: P, notice: P, warning: P, failed: P, old: P };
  const line = (seq: number, text: string): ChatLine => ({
    seq,
    text,
    kind: 'peer',
    sender: 'al',
    time: new Date('2026-11-24T10:30:00'),
  });

  it('builds only the rows that fit, ending at the anchor', () => {
    const rows = new LogRows(styles);
    const lines = Array.from({ length: 10_000 }, (_, i) => line(i + 1, `m${i + 1}`));
    expect(rows.visible(lines, undefined, 40, 3)).toEqual([
      '10:30 <al> m9998',
      '10:30 <al> m9999',
      '10:30 <al> m10000',
    ]);
    expect(rows.visible(lines, { seq: 5, row: 0 }, 40, 2)).toEqual(['10:30 <al> m4', '10:30 <al> m5']);
  });
});

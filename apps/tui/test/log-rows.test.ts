import { describe, expect, it } from 'vitest';
import { clusterWidth, graphemes, textWidth } from '../src/model/text-width.js';
import type { ChatLine } from '../src/model/tui-model.js';
import type { Row } from '../src/view/cells.js';
import { LogRows, wrap } from '../src/view/log-rows.js';

const plain = (text: string) => [{ text, look: {} }];
/** A row as the text it shows. */
const text = (row: Row) => row.map((span) => span.text).join('');
const texts = (rows: readonly Row[]) => rows.map(text);

describe('wrapping a line into rows', () => {
  it('breaks at the last space that fits, with a hanging indent', () => {
    expect(texts(wrap(plain('10:30 aaa bbb ccc ddd'), 12, 6))).toEqual([
      '10:30 aaa',
      '      bbb',
      '      ccc',
      '      ddd',
    ]);
  });

  it('starts no row with the rest of the spaces it broke at (columns of /contacts)', () => {
    expect(texts(wrap(plain('10:30 aaa bbb  ccc'), 13, 6))).toEqual(['10:30 aaa bbb', '      ccc']);
    expect(texts(wrap(plain('10:30 aaa    bbb'), 12, 6))).toEqual(['10:30 aaa', '      bbb']);
  });

  it('breaks a word longer than the row anywhere, keeps line breaks, and ends after a trailing one', () => {
    expect(texts(wrap(plain('x'.repeat(25)), 10, 0))).toEqual([
      'x'.repeat(10),
      'x'.repeat(10),
      'x'.repeat(5),
    ]);
    expect(texts(wrap(plain('a\nb\n'), 10, 2))).toEqual(['a', '  b', '  ']);
    expect(texts(wrap(plain(''), 10, 2))).toEqual(['']);
  });

  it('counts wide characters as two cells and never splits one', () => {
    expect(texts(wrap(plain('😀😀😀'), 5, 0))).toEqual(['😀😀', '😀']);
    expect(texts(wrap(plain('漢'), 1, 0))).toEqual(['漢']);
  });

  it('keeps every word of a line with emoji (issue 18: "twelve" was lost)', () => {
    const words =
      'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen';
    const line = `basic ${'😀'.repeat(8)} ${words}`;
    for (const width of [40, 94, 100]) {
      const rows = texts(wrap(plain(line), width, 6));
      expect(rows.every((row) => textWidth(row) <= width)).toBe(true);
      expect(rows.join(' ').replace(/ +/g, ' ')).toBe(line);
    }
  });

  it('never splits a grapheme cluster: skin tones, flags, ZWJ families, combining accents', () => {
    const clusters = ['👍🏽', '🇺🇸', '👨‍👩‍👧', 'e\u0301', '❤️', '1\uFE0F\u20E3'];
    for (const cluster of clusters) expect([...graphemes(cluster)]).toEqual([cluster]);
    expect(clusters.map(clusterWidth)).toEqual([2, 2, 2, 1, 2, 2]);
    // Rows of 3 cells: each two-cell cluster alone on its row, never half of one on each.
    const rows = texts(wrap(plain('👍🏽🇺🇸👨‍👩‍👧'), 3, 0));
    expect(rows).toEqual(['👍🏽', '🇺🇸', '👨‍👩‍👧']);
    expect(texts(wrap(plain('ae\u0301b'), 2, 0))).toEqual(['ae\u0301', 'b']);
  });

  it('measures CJK as two cells and right-to-left letters as one', () => {
    expect(textWidth('漢字テスト')).toBe(10);
    expect(textWidth('שלום עולם')).toBe(9);
    expect(textWidth('مرحبا')).toBe(5);
    expect(texts(wrap(plain('漢字 テスト'), 6, 0))).toEqual(['漢字', 'テスト']);
  });

  it('keeps the look of each span', () => {
    const bold = { bold: true };
    const rows = wrap(
      [
        { text: '{a}', look: bold },
        { text: ' b', look: {} },
      ],
      20,
      0,
    );
    expect(rows).toEqual([
      [
        { text: '{a}', look: bold },
        { text: ' b', look: {} },
      ],
    ]);
  });
});

describe('the rows on screen', () => {
  const P = {};
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
    expect(texts(rows.visible(lines, undefined, 40, 3))).toEqual([
      '10:30 <al> m9998',
      '10:30 <al> m9999',
      '10:30 <al> m10000',
    ]);
    expect(texts(rows.visible(lines, { seq: 5, row: 0 }, 40, 2))).toEqual(['10:30 <al> m4', '10:30 <al> m5']);
  });

  it("keeps a notice's sizes and addresses whole on a narrow screen, and a message as typed", () => {
    const rows = new LogRows(styles);
    const of = (seq: number, kind: ChatLine['kind'], text: string): ChatLine => ({
      ...line(seq, text),
      kind,
    });
    const notice = of(
      1,
      'notice',
      'Accept file "sparse.bin" (1.1 GB) from al? Received in 0:00, 337 B/s average',
    );
    const shown = texts(rows.rows(notice, 40));
    // Before: "(1.1" ended a row and "GB)" began the next; "337" and "B/s" likewise.
    expect(shown.join('\n')).toContain('(1.1 GB)');
    expect(shown.join('\n')).toContain('337 B/s');
    expect(shown.every((row) => !row.includes('\u00a0'))).toBe(true);
    const warning = of(2, 'warning', 'Connection request from: 127.0.0.1 33870 (al)');
    expect(texts(rows.rows(warning, 40))).toEqual([
      '10:30 !! Connection request from:',
      '      127.0.0.1 33870 (al)',
    ]);
    // A message is the peer's text: wrapped at its spaces as ever.
    const message = of(3, 'peer', 'abcdefghijklmnopqrstuvwxyz 12345 67');
    expect(texts(rows.rows(message, 40))).toEqual([
      '10:30 <al> abcdefghijklmnopqrstuvwxyz',
      '      12345 67',
    ]);
  });
});

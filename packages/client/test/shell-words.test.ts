import { describe, expect, it } from 'vitest';
import { expandHome, quotePath, shellWords, splitShellWords } from '../src/shell-words.js';

describe('shell words (what /send reads)', () => {
  it('splits on blanks, with quotes and backslashes, and says where each word is', () => {
    const text = `a "two words.pdf" my\\ file 'it"s' 写真 😀.png`;
    expect(shellWords(text)).toEqual(['a', 'two words.pdf', 'my file', 'it"s', '写真', '😀.png']);
    const split = splitShellWords(text);
    expect(split.words.map((w) => text.slice(w.start, w.end))).toEqual([
      'a',
      '"two words.pdf"',
      'my\\ file',
      `'it"s'`,
      '写真',
      '😀.png',
    ]);
    expect(split.trailingBlank).toBe(false);
    expect(splitShellWords('a ').trailingBlank).toBe(true);
    expect(splitShellWords('a\\ ').trailingBlank).toBe(false);
  });

  it('an open quote is no list of words, but is noted for completion', () => {
    expect(shellWords('"open')).toBeUndefined();
    const split = splitShellWords('x "my fi');
    expect(split.openQuote).toBe('"');
    expect(split.words.at(-1)).toEqual({ value: 'my fi', start: 2, end: 8 });
  });

  it('~ is the home folder only at the start of a word', () => {
    expect(expandHome('~', '/home/zoe')).toBe('/home/zoe');
    expect(expandHome('~/a b', '/home/zoe/')).toBe('/home/zoe/a b');
    expect(expandHome('a/~/b', '/home/zoe')).toBe('a/~/b');
    expect(expandHome('~bob/x', '/home/zoe')).toBe('~bob/x');
  });

  it('quotePath writes any name so that it reads back the same', () => {
    for (const name of [
      'my file.txt',
      `it's "quoted"`,
      'back\\slash',
      '写真 2.jpg',
      '👨‍👩‍👧 tab\t.txt',
      '~/x y',
    ])
      expect(shellWords(quotePath(name))).toEqual([name]);
    expect(quotePath('~/a b')).toBe('~/a\\ b');
  });
});

/** Copies never overwrite (name (1).ext), extensions, shortening, and the check of an offer's list of files. */
import { describe, expect, it } from 'vitest';
import { checkOffer, fitName, numberedName, OFFER_LIMITS, splitExtension, uniqueName } from '../src/index.js';

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

describe('splitExtension', () => {
  it.each([
    ['report.pdf', 'report', '.pdf'],
    ['backup.tar.gz', 'backup', '.tar.gz'],
    ['dump.sql.zst', 'dump', '.sql.zst'],
    ['photo.2024.jpg', 'photo.2024', '.jpg'],
    ['v1.2.gz', 'v1.2', '.gz'],
    ['archive.TAR.GZ', 'archive', '.TAR.GZ'],
    ['.bashrc', '.bashrc', ''],
    ['README', 'README', ''],
    ['Mr. Smith', 'Mr. Smith', ''],
    ['x.', 'x.', ''],
    ['a.verylongextension17', 'a.verylongextension17', ''],
    ['.tar.gz', '.tar', '.gz'],
  ])('%j is [%j, %j]', (name, stem, extension) => {
    expect(splitExtension(name)).toEqual([stem, extension]);
  });
});

describe('numberedName and uniqueName', () => {
  it('puts the number before the extension, in the last component only', () => {
    expect(numberedName('report.pdf', 0)).toBe('report.pdf');
    expect(numberedName('report.pdf', 1)).toBe('report (1).pdf');
    expect(numberedName('backup.tar.gz', 2)).toBe('backup (2).tar.gz');
    expect(numberedName('photos/2024/a.jpg', 3)).toBe('photos/2024/a (3).jpg');
    expect(numberedName('a.b/README', 1)).toBe('a.b/README (1)');
  });

  it('keeps a numbered name within 255 bytes, cutting the stem on a grapheme boundary', () => {
    const name = `${'é'.repeat(125)}.txt`; // 254 bytes
    const numbered = numberedName(name, 12);
    expect(numbered).toBe(`${'é'.repeat(123)} (12).txt`); // 246 + 9 bytes
    expect(bytes(numbered)).toBeLessThanOrEqual(255);
  });

  it('takes the first name that does not exist, and never one that does', () => {
    const taken = new Set(['report.pdf', 'report (1).pdf', 'report (2).pdf']);
    expect(uniqueName('report.pdf', (c) => taken.has(c))).toBe('report (3).pdf');
    expect(uniqueName('new.pdf', (c) => taken.has(c))).toBe('new.pdf');
    expect(uniqueName('x', () => true)).toBeUndefined();
  });

  it('fitName keeps the suffix whole and cuts by code point inside one huge cluster', () => {
    expect(fitName('abc', '.txt', 255)).toBe('abc.txt');
    const zalgo = `x${'\u0301'.repeat(300)}`;
    const cut = fitName(zalgo, '.txt', 255);
    expect(cut).toBe(`x${'\u0301'.repeat(125)}.txt`);
    expect(() => fitName('a', 'x'.repeat(300), 255)).toThrow(RangeError);
  });
});

describe('checkOffer', () => {
  it('maps every path and adds up the sizes', () => {
    const check = checkOffer([
      { path: 'photos/a.jpg', size: 10 },
      { path: 'photos/CON', size: 5 },
    ]);
    expect(check).toEqual({
      ok: true,
      totalBytes: 15,
      files: [
        { path: 'photos/a.jpg', size: 10, renamed: false },
        { path: 'photos/_CON', size: 5, renamed: true },
      ],
    });
  });

  it.each([
    [[], { reason: 'empty_offer' }],
    [[{ path: '../../x', size: 1 }], { reason: 'unsafe_name', index: 0, refusal: 'parent' }],
    [[{ path: 'a', size: -1 }], { reason: 'bad_size', index: 0 }],
    [[{ path: 'a', size: 1.5 }], { reason: 'bad_size', index: 0 }],
    [
      [
        { path: 'a\\b', size: 1 },
        { path: 'a_b', size: 1 },
      ],
      { reason: 'duplicate_path', index: 1 },
    ],
    [
      [
        { path: 'a', size: 1 },
        { path: 'a/b', size: 1 },
      ],
      { reason: 'path_conflict', index: 1 },
    ],
    [
      [
        { path: 'a/b', size: 1 },
        { path: 'a', size: 1 },
      ],
      { reason: 'path_conflict', index: 1 },
    ],
    [
      [
        { path: 'x', size: Number.MAX_SAFE_INTEGER },
        { path: 'y', size: 1 },
      ],
      { reason: 'bad_size', index: 1 },
    ],
  ])('refuses %j: %j', (files, problem) => {
    expect(checkOffer(files)).toEqual({ ok: false, problem });
  });

  it('refuses more files than an offer may carry, before looking at any', () => {
    const files = Array.from({ length: OFFER_LIMITS.maxFiles + 1 }, (_, i) => ({ path: `f${i}`, size: 0 }));
    expect(checkOffer(files)).toEqual({
      ok: false,
      problem: { reason: 'too_many_files', count: OFFER_LIMITS.maxFiles + 1 },
    });
    expect(checkOffer(files.slice(1)).ok).toBe(true);
  });
});

/** Byte counts in words (size-text.ts): what every front-end and core's own messages show. */
import { describe, expect, it } from 'vitest';
import { sizesApart, sizeText } from '../src/index.js';

describe('sizeText', () => {
  it('says bytes below 1 kB, then SI units to three figures', () => {
    expect([0, 1, 999, 1000, 1500, 99_950, 999_499, 999_949, 8_388_608, 15e9].map(sizeText)).toEqual([
      '0 bytes',
      '1 byte',
      '999 bytes',
      '1 kB',
      '1.5 kB',
      '100 kB',
      '999 kB',
      '1 MB', // not "1000 kB"
      '8.4 MB',
      '15 GB',
    ]);
  });
});

describe('sizesApart', () => {
  it('gives the words of each, or exact bytes where the words would read the same', () => {
    expect(sizesApart(8_388_608, 5_000_000)).toEqual(['8.4 MB', '5 MB']);
    expect(sizesApart(5_000_001, 5_000_000)).toEqual(['5000001 bytes', '5000000 bytes']);
    expect(sizesApart(5_000_000, 5_000_000)).toEqual(['5 MB', '5 MB']);
  });
});

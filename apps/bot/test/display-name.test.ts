import { describe, expect, it } from 'vitest';
import { displayName } from '../src/display-name.js';

describe('what the bot calls a peer', () => {
  it('is its nick when it has one', () => {
    expect(displayName('ana', 'YRZP-ABCD-EFGH-IJKL')).toBe('ana');
    expect(displayName(' ana ', 'YRZP-ABCD-EFGH-IJKL')).toBe(' ana ');
  });

  it('is the first group of its fingerprint when the nick is empty or only spaces, never empty', () => {
    expect(displayName('', 'YRZP-ABCD-EFGH-IJKL')).toBe('YRZP');
    expect(displayName('   ', 'YRZP-ABCD-EFGH-IJKL')).toBe('YRZP');
    expect(displayName('\u3000', 'YRZP-ABCD-EFGH-IJKL')).toBe('YRZP');
  });
});

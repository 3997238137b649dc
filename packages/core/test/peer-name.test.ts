import { describe, expect, it } from 'vitest';
import { peerName } from '../src/node/trust-words.js';

describe('peerName: what the front-ends and the bot call a peer', () => {
  it('is its nick when it has one', () => {
    expect(peerName('ana', 'YRZP-ABCD-EFGH-IJKL')).toBe('ana');
    expect(peerName(' ana ', 'YRZP-ABCD-EFGH-IJKL')).toBe(' ana ');
  });

  it('is the first group of its fingerprint when the nick is empty or only spaces, never empty', () => {
    expect(peerName('', 'YRZP-ABCD-EFGH-IJKL')).toBe('YRZP');
    expect(peerName('   ', 'YRZP-ABCD-EFGH-IJKL')).toBe('YRZP');
    expect(peerName('\u3000', 'YRZP-ABCD-EFGH-IJKL')).toBe('YRZP');
  });
});

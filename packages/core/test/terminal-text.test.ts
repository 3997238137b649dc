import { describe, expect, it } from 'vitest';
import { terminalSafe } from '../src/index.js';

describe('terminalSafe', () => {
  it('neutralises escape sequences and other control characters but keeps text, tabs and newlines', () => {
    expect(terminalSafe('\u001b]0;pwned\u0007hi\u001b[2J')).toBe('\uFFFD]0;pwned\uFFFDhi\uFFFD[2J');
    expect(terminalSafe('a\tb\nc \u{1F600} ナ')).toBe('a\tb\nc \u{1F600} ナ');
    expect(terminalSafe('\u009b31m')).toBe('\uFFFD31m');
  });

  it('neutralises bidi overrides and isolates, which could make text read as something else', () => {
    expect(terminalSafe('abc\u202edcba')).toBe('abc\uFFFDdcba');
    expect(terminalSafe('\u2066x\u2069 \u200fرسالة')).toBe('\uFFFDx\uFFFD \u200fرسالة');
  });
});

/** What a `not_sent` event carries of its line: the whole line while it could be a message, else its start. */
import { describe, expect, it } from 'vitest';
import { lineOf, NOT_SENT_HEAD_CHARACTERS, NOT_SENT_WHOLE_MAX_BYTES } from '../src/flow-outcome.js';

describe('a not_sent line', () => {
  it('up to the largest message (65,536 bytes) is whole, so a script can send it again', () => {
    const most = 'a'.repeat(NOT_SENT_WHOLE_MAX_BYTES);
    expect(lineOf(most)).toEqual({ text: most });
    expect(lineOf('')).toEqual({ text: '' });
  });

  it('past it (a piped line cut at 1 MiB) is its first 256 characters, truncated, and its length in bytes', () => {
    const cut = 'b'.repeat(1024 * 1024);
    const event = lineOf(cut);
    expect(event).toEqual({
      text: 'b'.repeat(NOT_SENT_HEAD_CHARACTERS),
      truncated: true,
      bytes: 1024 * 1024,
    });
    expect(JSON.stringify({ type: 'not_sent', ...event }).length).toBeLessThan(400);
    expect(lineOf('c'.repeat(NOT_SENT_WHOLE_MAX_BYTES + 1))).toMatchObject({
      truncated: true,
      bytes: 65_537,
    });
  });

  it('counts bytes, not characters, and never cuts a character in two', () => {
    // 30,000 emoji are 120,000 bytes of UTF-8 (over the bound) but 60,000 UTF-16 units.
    const emoji = '😀'.repeat(30_000);
    const event = lineOf(emoji);
    expect(event).toEqual({ text: '😀'.repeat(NOT_SENT_HEAD_CHARACTERS), truncated: true, bytes: 120_000 });
    // One unit in: the head then ends between the halves of a pair unless cut by code point.
    const shifted = lineOf(`x${emoji}`);
    expect(Array.from(shifted.text)).toHaveLength(NOT_SENT_HEAD_CHARACTERS);
    expect(shifted.text.endsWith('😀')).toBe(true);
    expect(Buffer.from(shifted.text).toString()).toBe(shifted.text);
  });
});

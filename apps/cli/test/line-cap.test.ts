/**
 * Piped input with a line that never ends (`netchat 0 < /dev/zero`): the console hands on at most
 * MAX_LINE_BYTES of it, and the lines after it whole. Before, readline held the whole line, and
 * the process died of it (`RangeError: Invalid string length`) once it passed V8's string limit.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LineCap, MAX_LINE_BYTES } from '../src/line-cap.js';
import { LineConsole } from '../src/line-console.js';

describe('piped input with a line longer than any message', () => {
  it('hands on the first MAX_LINE_BYTES of it, then the next lines as they were', async () => {
    const input = new PassThrough();
    const lines: string[] = [];
    let ended = false;
    const console = new LineConsole(
      { input, output: new PassThrough(), errors: new PassThrough() },
      { line: (text) => lines.push(text), end: () => (ended = true), interrupt: () => {} },
    );
    const chunk = Buffer.alloc(256 * 1024, 'x'.charCodeAt(0));
    for (let i = 0; i < 40; i++) input.write(chunk); // 10 MiB without a newline
    input.end('\nhello\n  indented\n');
    for (let i = 0; i < 1000 && !ended; i++) await new Promise((r) => setImmediate(r));
    console.close();
    expect(ended).toBe(true);
    expect(lines.map((l) => l.length)).toEqual([MAX_LINE_BYTES, 5, 10]);
    expect(lines.slice(1)).toEqual(['hello', '  indented']);
  });

  it('cuts by bytes across chunks, and keeps short lines and a last line without newline whole', async () => {
    const cap = new LineCap(4);
    const out: Buffer[] = [];
    cap.on('data', (b: Buffer) => out.push(b));
    const done = new Promise((r) => cap.on('end', r));
    cap.write('ab');
    cap.write('cdef\ngh');
    cap.write('\n\n123456789');
    cap.end();
    await done;
    expect(Buffer.concat(out).toString()).toBe('abcd\ngh\n\n1234');
  });
});

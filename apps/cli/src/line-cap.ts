/**
 * Piped input cut to lines of at most `MAX_LINE_BYTES`. readline holds a line whole until its
 * newline, so input without one (`netchat 0 < /dev/zero`, a binary file piped by mistake) grew
 * until the process died (`RangeError: Invalid string length`). Past the bound, the rest of the
 * line is dropped up to its newline: what arrives is still longer than any message can be, so it
 * is reported not sent (too large) like any other line too long to send, and the lines after it
 * arrive as they were.
 */
import { Transform, type TransformCallback } from 'node:stream';

/** 1 MiB: sixteen times the largest message (65,536 bytes), so a line that fits is never cut. */
export const MAX_LINE_BYTES = 1024 * 1024;

const NEWLINE = 0x0a;

export class LineCap extends Transform {
  /** Bytes of the current line passed on so far. */
  private passed = 0;

  constructor(private readonly max = MAX_LINE_BYTES) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const parts: Buffer[] = [];
    let from = 0;
    while (from < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, from);
      const lineEnd = newline < 0 ? chunk.length : newline;
      const keep = Math.min(lineEnd - from, this.max - this.passed);
      if (keep > 0) parts.push(chunk.subarray(from, from + keep));
      if (newline < 0) {
        this.passed += keep;
        break;
      }
      parts.push(chunk.subarray(newline, newline + 1));
      this.passed = 0;
      from = newline + 1;
    }
    if (parts.length > 0) this.push(parts.length === 1 ? parts[0] : Buffer.concat(parts));
    done();
  }
}

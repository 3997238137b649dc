/** The status line while files move: every moving transfer on it, side by side, within the width. */
import type { Transfer } from '@netchat/client';
import { texts } from '@netchat/client';
import type { ProgressSnapshot } from '@netchat/core';
import { describe, expect, it } from 'vitest';
import { PROGRESS_SEPARATOR, progressStatus } from '../src/progress-status.js';

function moving(id: number, path: string, fraction: number) {
  const size = 209_715_200;
  const transfer = { id, files: [{ path, size }], relayed: false } as unknown as Transfer;
  const progress = {
    fraction,
    bytes: Math.floor(size * fraction),
    size,
    rate: 25_000_000,
    eta: 4,
  } as ProgressSnapshot;
  return { transfer, progress };
}

describe('progressStatus', () => {
  it('one transfer: its progress line, as before', () => {
    const one = moving(1, 'a200.bin', 0.38);
    expect(progressStatus([one], 79)).toBe(texts.progressLine(one.transfer, one.progress, 79));
  });

  it('a file each way at once: both on the line, each with its number and percent, within the width', () => {
    const line = progressStatus([moving(1, 'a200.bin', 0.38), moving(2, 'c200.bin', 0.69)], 79) ?? '';
    const [first, second] = line.split(PROGRESS_SEPARATOR);
    expect(first).toMatch(/^\[1\] +38%/);
    expect(second).toMatch(/^\[2\] +69%/);
    expect(texts.columnsOf(line)).toBeLessThanOrEqual(79);
  });

  it('more than fit: as many as fit, and the rest counted; never wider than the terminal', () => {
    const four = [1, 2, 3, 4].map((id) => moving(id, `f${id}.bin`, 0.1 * id));
    const line = progressStatus(four, 79) ?? '';
    expect(line).toMatch(/^\[1\] /);
    expect(line).toContain('+2 more');
    expect(texts.columnsOf(line)).toBeLessThanOrEqual(79);
    expect(progressStatus(four, 39)).toMatch(/^\[1\] .* \+3 more$/);
  });

  it('nothing moving: no line', () => {
    expect(progressStatus([], 79)).toBeUndefined();
  });
});

/**
 * Many small files received at once (a folder of them, or a stranger's thousands of 1-byte
 * files: the engine asks for at most TRANSFER_LIMITS' 192 at once): a partial file's write
 * buffers are made at its first bytes and sized to what is left, so each costs about its size,
 * not two 256 KiB buffers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type PartialFile, PartialStore, TRANSFER_LIMITS } from '../src/index.js';
import { keyOf, temporaryFolder } from './support/partial-files.js';

const MiB = 1024 * 1024;
let made: ReturnType<typeof temporaryFolder> | undefined;
afterEach(() => {
  made?.remove();
  made = undefined;
});

describe('PartialStore: many small files open at once', () => {
  it("192 one-byte files open and written (the engine's bound for all receives) hold under 8 MiB (two 256 KiB buffers each: 96 MiB)", async () => {
    made = temporaryFolder('small-files');
    const store = new PartialStore(made.folder); // the default buffers: 256 KiB each
    const count = 32 * TRANSFER_LIMITS.ownFilesAsked + TRANSFER_LIMITS.sharedFilesAsked;
    const data = Array.from({ length: count }, (_, i) =>
      Buffer.from([i % 256, i >> 8]).subarray(0, 1 + (i % 2)),
    );
    const before = process.memoryUsage().arrayBuffers;
    const files: PartialFile[] = [];
    for (const [i, bytes] of data.entries()) files.push(await store.open(keyOf(bytes), `f${i}.bin`));
    // Each takes its bytes into the buffer it lends, as the receive pipe does.
    for (const [i, file] of files.entries()) {
      const bytes = data[i] as Buffer;
      const into = file.lend();
      if (!into) throw new Error('no buffer lent');
      into.set(bytes);
      await file.write(0, into.subarray(0, bytes.length));
    }
    const grew = process.memoryUsage().arrayBuffers - before;
    console.log(
      `[small files] ${count} open and written: ${(grew / 1024).toFixed(0)} KiB more in ArrayBuffers`,
    );
    // Their buffers are a few bytes each; the rest is the handles' and hashers' small objects.
    expect(grew).toBeLessThan(8 * MiB);
    for (const file of files) await file.finish();
    for (const [i, bytes] of data.entries())
      expect(readFileSync(join(made.folder, `f${i}.bin`)).equals(bytes)).toBe(true);
  });
});

/**
 * The attacker's test of the download folder's identity check (folder-identity.ts) on a real temp
 * disk: a stranger cannot swap the folder, but chooses what makes the check run. Each check costs
 * a stat of the folder and an lstat per folder on the way (up to MAX_PATH_DEPTH = 32). A stranger
 * sending many small files under one name as deep as allowed (`d1/.../d31/x.bin`, each of other
 * content) made every file search its free name (`x (k).bin`) with a whole check before each name
 * tried: the k-th file cost k checks of 32 lstats (the 60th: 61 checks, about 2000 syscalls; the
 * 9999th of one name would cost 320,000). A name seen taken is now passed over by one lstat, and
 * the check runs before the one name tried: a file costs a bounded number of checks, however many
 * copies of its name there are. Measured: checks per file, descriptors left open, files placed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_PATH_DEPTH, PartialStore } from '../src/index.js';
import { feed, keyOf, randomData, temporaryFolder } from './support/partial-files.js';

let folders: ReturnType<typeof temporaryFolder>[] = [];
afterEach(() => {
  for (const made of folders) made.remove();
  folders = [];
});

const openDescriptors = () => readdirSync('/proc/self/fd').length;

describe('the download folder check, made to run by a stranger', () => {
  it('costs a bounded number of checks per file, however many copies of its deep name exist', async () => {
    const made = temporaryFolder('identity-deep');
    folders.push(made);
    const store = new PartialStore(made.folder, { bufferBytes: 4096, syncEveryBytes: 64 * 1024 });
    const parts = Array.from({ length: MAX_PATH_DEPTH - 1 }, (_, i) => `d${i}`);
    const name = [...parts, 'x.bin'].join('/');
    const FILES = 60;
    const descriptorsBefore = openDescriptors();
    const checksPerFile: number[] = [];
    for (let i = 0; i < FILES; i++) {
      const data = randomData(100 + i, 900 + i);
      const before = store.identity.checks;
      const file = await store.open(keyOf(data), name);
      await feed(file, data);
      const placed = await file.finish();
      checksPerFile.push(store.identity.checks - before);
      expect(placed.relativePath).toBe([...parts, i === 0 ? 'x.bin' : `x (${i}).bin`].join('/'));
      expect(readFileSync(placed.path).equals(data)).toBe(true);
    }
    // Before the fix the last file ran 62 checks (one before each of its 60 taken names).
    // Now: one as the partial is made, one before its folders, one before the first name tried
    // (taken) and one before the free name found.
    expect(Math.max(...checksPerFile)).toBeLessThanOrEqual(4);
    const deepest = join(made.folder, ...parts);
    expect(readdirSync(deepest)).toHaveLength(FILES);
    expect(made.entries()).toEqual(['d0']);
    expect(openDescriptors()).toBeLessThanOrEqual(descriptorsBefore);
  });
});

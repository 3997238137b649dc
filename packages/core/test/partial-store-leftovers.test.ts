/**
 * What a program killed while it wrote a partial's state leaves (`.netchat-<id>.state.<pid>.tmp`)
 * goes when the partial is taken up again, so the folder holds nothing of a transfer once it
 * ends; a temporary of a program still running (another sharing the folder) is left alone.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PartialStore, partialId } from '../src/index.js';
import { feed, keyOf, randomData, temporaryFolder } from './support/partial-files.js';

const KiB = 1024;
let made: ReturnType<typeof temporaryFolder> | undefined;
afterEach(() => made?.remove());

describe('PartialStore and temporaries left by a killed program', () => {
  it('removes those of programs that ended when the partial is opened again; keeps a running one', async () => {
    made = temporaryFolder('leftovers');
    const data = randomData(700 * KiB + 3, 7);
    const key = keyOf(data);
    const store = new PartialStore(made.folder, { bufferBytes: 64 * KiB, syncEveryBytes: 128 * KiB });
    const first = await store.open(key, 'a.bin');
    await feed(first, data, 0, 300 * KiB);
    const kept = await first.close();
    expect(kept).toBeGreaterThan(0);

    // A program that ended (a child that has exited) and one still running (our parent).
    const ended = spawnSync(process.execPath, ['-e', '0']).pid;
    const temporary = (pid: number) => `.netchat-${partialId(key)}.state.${pid}.tmp`;
    writeFileSync(join(made.folder, temporary(ended)), '{"half": ');
    writeFileSync(join(made.folder, temporary(process.ppid)), '{"half": ');

    const again = await store.open(key, 'a.bin');
    expect(again.offset).toBe(kept);
    expect(made.entries()).not.toContain(temporary(ended));
    await feed(again, data, kept);
    await again.finish();
    expect(made.entries()).toEqual([temporary(process.ppid), 'a.bin'].sort());
  });
});

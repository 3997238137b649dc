/**
 * The attacker's test of a placed file's record (partial-state.ts `placed`, placed-file.ts): a
 * file placed while another offer of the same content waited (finish keepRecord) or whose sender
 * heard no verdict keeps a hidden `.state` saying where it went, and a later offer of that
 * content from that sender is answered from it (`held` = the size, nothing sent). On a real temp
 * disk:
 * - a placed file changed or replaced after placing, even to the same size with its modification
 *   time set back (`cp -p`, `touch -r`, a file renamed into its place), is no longer answered
 *   from: the sender would be told `verified` for bytes the person no longer has;
 * - another key's offer of the same content is never answered from it (no leak that it exists);
 * - records piled up by offers joined and never finished: one per (sender, content), each under
 *   1 KiB, removed by the 7-day sweep with the placed file left alone.
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PartialFile, PartialStore, PlacedFile } from '../src/index.js';
import { BOB, feed, keyOf, randomData, temporaryFolder } from './support/partial-files.js';

const KiB = 1024;

let folders: ReturnType<typeof temporaryFolder>[] = [];
afterEach(() => {
  for (const made of folders) made.remove();
  folders = [];
});

/** A file of `bytes` received whole and placed with its record kept (finish keepRecord). */
async function placedWithRecord(store: PartialStore, data: Buffer, name: string) {
  const file = await store.open(keyOf(data), name);
  await feed(file, data);
  const finished = file.finish();
  const kept = file.keepPlaced();
  const placed = await finished;
  await kept;
  return placed;
}

async function setup(label: string, bytes: number, seed: number) {
  const made = temporaryFolder(label);
  folders.push(made);
  const data = randomData(bytes, seed);
  const store = new PartialStore(made.folder);
  const placed = await placedWithRecord(store, data, 'report.bin');
  expect(await store.held(keyOf(data))).toBe(data.length);
  return { made, data, key: keyOf(data), placed };
}

/** Bytes of the same size, not the same. */
function otherBytes(data: Buffer): Buffer {
  const other = Buffer.from(data);
  other[0] = (other[0] ?? 0) ^ 0xff;
  return other;
}

describe('a placed file record, attacked', () => {
  it('is not answered from once the file was rewritten to the same size and its time set back', async () => {
    const { made, data, key, placed } = await setup('placed-rewritten', 64 * KiB, 71);
    const before = statSync(placed.path);
    // `cp -p other report.bin` of a file as old: same inode, same size, same modification time.
    const other = join(made.folder, 'other.bin');
    writeFileSync(other, otherBytes(data));
    execFileSync('touch', ['-r', placed.path, other]);
    execFileSync('cp', ['-p', other, placed.path]);
    rmSync(other);
    expect(statSync(placed.path)).toMatchObject({ mtimeMs: before.mtimeMs, ino: before.ino });

    const store = new PartialStore(made.folder);
    expect(await store.held(key)).toBe(0);
    const again = await store.receive(key, 'report.bin');
    expect(again).toBeInstanceOf(PartialFile);
    expect(again.offset).toBe(0);
    await again.cancel();
    // The person's file is left as they made it.
    expect(readFileSync(placed.path).equals(otherBytes(data))).toBe(true);
  });

  it('is not answered from once another file of the same size and time was renamed into its place', async () => {
    const { made, data, key, placed } = await setup('placed-replaced', 48 * KiB, 73);
    const before = statSync(placed.path);
    const planted = join(made.folder, 'planted.bin');
    writeFileSync(planted, otherBytes(data));
    execFileSync('touch', ['-r', placed.path, planted]);
    renameSync(planted, placed.path);
    expect(lstatSync(placed.path).mtimeMs).toBe(before.mtimeMs);

    const store = new PartialStore(made.folder);
    expect(await store.held(key)).toBe(0);
    const again = await store.receive(key, 'report.bin');
    expect(again).toBeInstanceOf(PartialFile);
    await again.cancel();
  });

  it('is still answered from while the file is untouched (read, not written)', async () => {
    const { made, data, key, placed } = await setup('placed-read', 32 * KiB, 79);
    expect(readFileSync(placed.path).equals(data)).toBe(true);
    const store = new PartialStore(made.folder);
    expect(await store.held(key)).toBe(data.length);
    const again = await store.receive(key, 'report.bin');
    expect(again).toBeInstanceOf(PlacedFile);
    expect((await again.finish()).relativePath).toBe('report.bin');
  });

  it("never answers another key's offer of the same content from it", async () => {
    const { made, data, placed } = await setup('placed-other-key', 40 * KiB, 83);
    const stranger = keyOf(data, BOB);
    const store = new PartialStore(made.folder);
    expect(await store.held(stranger)).toBe(0);
    const theirs = await store.receive(stranger, 'report.bin');
    expect(theirs).toBeInstanceOf(PartialFile);
    expect(theirs.offset).toBe(0);
    if (!(theirs instanceof PartialFile)) throw new Error('not a partial');
    // Received whole, beside the first: written again, a copy of its own.
    await feed(theirs, data);
    const second = await theirs.finish();
    expect(second.relativePath).toBe('report (1).bin');
    expect(readFileSync(placed.path).equals(data)).toBe(true);
  });

  it('piles up one record per content, each under 1 KiB, all swept after 7 days with the files kept', async () => {
    const made = temporaryFolder('placed-pile');
    folders.push(made);
    let clock = Date.now();
    const store = new PartialStore(made.folder, { now: () => new Date(clock) });
    const FILES = 40;
    const datas = Array.from({ length: FILES }, (_, i) => randomData(1 * KiB + i, 100 + i));
    // Each placed with its record kept, then the same content offered and joined again (the
    // record rewritten in place): never a second record of one content.
    for (const [i, data] of datas.entries()) {
      await placedWithRecord(store, data, `f${i}.bin`);
      const again = await store.receive(keyOf(data), `f${i}.bin`);
      expect(again).toBeInstanceOf(PlacedFile);
      const answered = again.finish();
      await again.keepPlaced();
      await answered;
    }
    const hidden = made.entries().filter((e) => e.startsWith('.'));
    expect(hidden).toHaveLength(FILES);
    expect(hidden.every((e) => e.endsWith('.state'))).toBe(true);
    const bytes = hidden.map((e) => statSync(join(made.folder, e)).size);
    expect(Math.max(...bytes)).toBeLessThan(1 * KiB);

    // Eight days on (the sweep judges the records' modification times by the store's clock).
    clock += 8 * 24 * 3600 * 1000;
    expect(await store.removeStale()).toHaveLength(FILES);
    expect(made.entries()).toEqual(datas.map((_, i) => `f${i}.bin`).sort());
  });
});

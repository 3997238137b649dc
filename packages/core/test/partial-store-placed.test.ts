/**
 * A file whose transfer ended while it was being finished (its final fsync held): `keepPlaced`
 * lets the finish go on and leaves a record of where it placed the file (the sender heard no
 * verdict and will offer it again). The next offer of it is given as a PlacedFile that holds
 * every byte and answers with the path, writing nothing and leaving one file in the folder. A
 * file removed since is received again whole; a record never outlives a normal finish.
 */
import { readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PartialFile, PartialStore, type PartialStoreOptions, PlacedFile } from '../src/index.js';
import { feed, keyOf, randomData, temporaryFolder } from './support/partial-files.js';
import { until } from './support/until.js';

const KiB = 1024;

let folders: ReturnType<typeof temporaryFolder>[] = [];
afterEach(() => {
  for (const made of folders) made.remove();
  folders = [];
});

/** A store whose syncs wait while `held` is set, and a way to let them go. */
function heldSyncStore(dir: string) {
  let release: () => void = () => {};
  let gate: Promise<void> | undefined;
  let waiting = 0;
  const options: PartialStoreOptions = {
    bufferBytes: 64 * KiB,
    syncEveryBytes: 1024 * KiB,
    io: {
      async sync(handle) {
        if (gate) {
          waiting++;
          await gate;
        }
        await handle.datasync();
      },
    },
  };
  return {
    store: new PartialStore(dir, options),
    hold() {
      gate = new Promise((resolve) => {
        release = resolve;
      });
    },
    release() {
      gate = undefined;
      release();
    },
    waiting: () => waiting,
  };
}

/** A file fed whole to a store whose final sync is held; its finish pending. */
async function finishing(dir: string, data: Buffer) {
  const disk = heldSyncStore(dir);
  const file = await disk.store.open(keyOf(data), 'photos/report.bin');
  await feed(file, data);
  disk.hold();
  const finished = file.finish();
  expect(await until(() => disk.waiting() > 0)).toBe(true);
  return { ...disk, file, finished };
}

/** A file of `bytes` received whole into a new folder, its finish held, recorded by keepPlaced, then placed. */
async function placedRecord(label: string, bytes: number, seed: number) {
  const made = temporaryFolder(label);
  folders.push(made);
  const data = randomData(bytes, seed);
  const { file, finished, release } = await finishing(made.folder, data);
  const kept = file.keepPlaced();
  release();
  const placed = await finished;
  await kept;
  return { made, data, key: keyOf(data), placed };
}

describe('PartialStore: a file placed after its transfer ended', () => {
  for (const when of ['while the finish is held', 'after the finish placed it'] as const)
    it(`is recorded by keepPlaced (${when}) and answered from there when offered again`, async () => {
      const made = temporaryFolder('placed');
      folders.push(made);
      const data = randomData(300 * KiB + 7, 41);
      const key = keyOf(data);
      const { file, finished, release } = await finishing(made.folder, data);
      let kept: Promise<void> | undefined;
      if (when === 'while the finish is held') kept = file.keepPlaced();
      release();
      const placed = await finished;
      if (when === 'after the finish placed it') kept = file.keepPlaced();
      await kept;
      expect(placed.relativePath).toBe('photos/report.bin');
      // The partial went into place; its state stays and says so (a hidden record, no data).
      const entries = made.entries();
      expect(entries.filter((e) => e.endsWith('.part'))).toEqual([]);
      expect(entries.filter((e) => e.endsWith('.state'))).toHaveLength(1);

      // A restart: a new store finds the record, holds it all, and lists no partial.
      const store = new PartialStore(made.folder);
      expect(await store.held(key)).toBe(data.length);
      expect(await store.list()).toEqual([]);
      const again = await store.receive(key, 'report.bin');
      expect(again).toBeInstanceOf(PlacedFile);
      expect(again.offset).toBe(data.length);
      // Received once at a time, as a partial is.
      await expect(store.receive(key, 'report.bin')).rejects.toMatchObject({ code: 'busy' });
      const received = await again.finish();
      expect(received).toMatchObject({
        relativePath: 'photos/report.bin',
        size: data.length,
        hash: key.hash,
      });
      expect(readFileSync(received.path).equals(data)).toBe(true);
      // One file, and nothing hidden left.
      expect(made.entries()).toEqual(['photos']);
      expect(await store.held(key)).toBe(0);
    });

  it('offered again while the finish still runs: waits for it, then is answered from the record', async () => {
    const made = temporaryFolder('placed-waits');
    folders.push(made);
    const data = randomData(250 * KiB + 3, 59);
    const key = keyOf(data);
    const { store, file, finished, release } = await finishing(made.folder, data);
    void file.keepPlaced();
    // The same store (the same program): not `busy`, but the finish's outcome.
    const held = store.held(key);
    const again = store.receive(key, 'report.bin');
    release();
    await finished;
    expect(await held).toBe(data.length);
    const placed = await again;
    expect(placed).toBeInstanceOf(PlacedFile);
    expect((await placed.finish()).relativePath).toBe('photos/report.bin');
    expect(made.entries()).toEqual(['photos']);
  });

  it('is received again whole when the file placed was removed or changed', async () => {
    const { made, data, key, placed } = await placedRecord('placed-gone', 200 * KiB, 43);

    // Changed (another size): not held; removed: not held either.
    writeFileSync(placed.path, 'edited');
    const store = new PartialStore(made.folder);
    expect(await store.held(key)).toBe(0);
    rmSync(placed.path);
    expect(await store.held(key)).toBe(0);
    const again = await store.receive(key, 'photos/report.bin');
    expect(again).toBeInstanceOf(PartialFile);
    expect(again.offset).toBe(0);
    if (!(again instanceof PartialFile)) throw new Error('not a partial');
    await feed(again, data);
    const received = await again.finish();
    expect(received.relativePath).toBe('photos/report.bin');
    expect(readFileSync(join(made.folder, 'photos', 'report.bin')).equals(data)).toBe(true);
    expect(made.entries()).toEqual(['photos']);
  });

  it('trusts no record that names a path outside the folder, or a link where the file was', async () => {
    const { made, data, key, placed } = await placedRecord('placed-hostile', 120 * KiB, 67);
    const statePath = join(made.folder, made.entries().find((e) => e.endsWith('.state')) ?? '');
    const record = JSON.parse(readFileSync(statePath, 'utf8'));

    // A record pointing outside the folder (at a file of the right size) is no record.
    const outside = temporaryFolder('placed-outside');
    folders.push(outside);
    writeFileSync(join(outside.folder, 'x.bin'), data);
    writeFileSync(
      statePath,
      JSON.stringify({ ...record, placed: `../${outside.folder.split('/').pop()}/x.bin` }),
    );
    expect(await new PartialStore(made.folder).held(key)).toBe(0);

    // A symbolic link planted where the file was (to a file of the right size) is not the file.
    writeFileSync(statePath, JSON.stringify(record));
    rmSync(placed.path);
    symlinkSync(join(outside.folder, 'x.bin'), placed.path);
    expect(await new PartialStore(made.folder).held(key)).toBe(0);
    const fresh = await new PartialStore(made.folder).receive(key, 'report.bin');
    expect(fresh).toBeInstanceOf(PartialFile);
    await fresh.cancel();
  });

  it('leaves no record after a finish nobody asked to keep', async () => {
    const made = temporaryFolder('placed-none');
    folders.push(made);
    const data = randomData(100 * KiB, 47);
    const { finished, release } = await finishing(made.folder, data);
    release();
    await finished;
    expect(made.entries()).toEqual(['photos']);
    expect(await new PartialStore(made.folder).held(keyOf(data))).toBe(0);
  });

  it('keeps its record when the re-offer ends again before its verdict, and drops it on a cancel', async () => {
    const { made, data, key } = await placedRecord('placed-again', 150 * KiB, 53);

    const store = new PartialStore(made.folder);
    const second = await store.receive(key, 'report.bin');
    if (!(second instanceof PlacedFile)) throw new Error('not placed');
    const answered = second.finish();
    await second.keepPlaced();
    await answered;
    expect(await store.held(key)).toBe(data.length);

    const third = await store.receive(key, 'report.bin');
    await third.cancel();
    expect(await store.held(key)).toBe(0);
    // The file itself stays: it is whole and verified.
    expect(readFileSync(join(made.folder, 'photos', 'report.bin')).equals(data)).toBe(true);
    expect(made.entries()).toEqual(['photos']);
  });
});

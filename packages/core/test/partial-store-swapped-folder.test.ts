/**
 * The download folder, or a folder in it, swapped for a link to a folder outside while a file is
 * received (by whoever may write its parent: a local user, not a stranger on the network): the
 * folder is held to the one first opened (node/folder-identity.ts), so nothing is made, written or
 * removed through the link. Each case a temp dir holding `downloads` and `outside`; removed after.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { link } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PartialStore, type PartialStoreOptions, PlacedFile } from '../src/index.js';
import { FolderIdentity } from '../src/node/folder-identity.js';
import {
  partialId,
  partialPaths,
  placedState,
  saveStateDurably,
  stateText,
} from '../src/node/partial-state.js';
import { failure, feed, keyOf, randomData, temporaryFolder } from './support/partial-files.js';

const KiB = 1024;
const small: PartialStoreOptions = { bufferBytes: 64 * KiB, syncEveryBytes: 256 * KiB };

let made: ReturnType<typeof temporaryFolder>[] = [];
afterEach(() => {
  for (const folder of made) folder.remove();
  made = [];
});

/** A temp dir with the download folder and a folder outside it. */
function folders() {
  const top = temporaryFolder('swapped');
  made.push(top);
  const downloads = join(top.folder, 'downloads');
  const outside = join(top.folder, 'outside');
  mkdirSync(downloads);
  mkdirSync(outside);
  return {
    top: top.folder,
    downloads,
    outside,
    /** Everything under the folder outside (it must stay empty). */
    inOutside: () => readdirSync(outside, { recursive: true }).map(String).sort(),
    /** `downloads` moved away and a link to `outside` put in its place. */
    swapTop: () => {
      renameSync(downloads, join(top.folder, 'downloads-moved'));
      symlinkSync(outside, downloads);
    },
  };
}

describe('PartialStore: the download folder swapped for a link', () => {
  it('swapped while a file waits for its data: its state is not saved through the link, the file fails not_a_folder, nothing is made outside', async () => {
    const { downloads, swapTop, inOutside } = folders();
    const data = randomData(600 * KiB);
    const store = new PartialStore(downloads, small);
    const file = await store.open(keyOf(data), 'sub/a.bin');
    swapTop();
    // Past a sync period: a state save is due, and refused.
    await feed(file, data).catch(() => undefined);
    const error = await failure(file.finish());
    expect(error.code).toBe('not_a_folder');
    expect(error.message).toContain('moved away or replaced');
    expect(inOutside()).toEqual([]);
  });

  it('swapped between the last write and the placing: not_a_folder, no folder or name made outside, the partial left in the moved folder', async () => {
    const { top, downloads, swapTop, inOutside } = folders();
    const data = randomData(100 * KiB);
    const store = new PartialStore(downloads, small);
    const file = await store.open(keyOf(data), 'sub/deeper/a.bin');
    await feed(file, data);
    swapTop();
    const error = await failure(file.finish());
    expect(error.code).toBe('not_a_folder');
    expect(inOutside()).toEqual([]);
    // What was received is where it was written, in the folder moved away (complete, for a resume).
    const moved = readdirSync(join(top, 'downloads-moved'));
    expect(moved.filter((name) => name.endsWith('.part'))).toHaveLength(1);
  });

  it('swapped before a new file is opened: refused (not_a_folder), no partial made outside', async () => {
    const { downloads, swapTop, inOutside } = folders();
    const store = new PartialStore(downloads, small);
    const first = randomData(10);
    // The first use takes the folder's identity.
    const firstFile = await store.open(keyOf(first), 'first.bin');
    await feed(firstFile, first);
    await firstFile.finish();
    swapTop();
    const data = randomData(20);
    const error = await failure(store.open(keyOf(data), 'b.bin'));
    expect(error.code).toBe('not_a_folder');
    expect(inOutside()).toEqual([]);
  });

  it("a placed file's record, cancelled after the swap: nothing removed through the link", async () => {
    const { top, downloads, outside, swapTop } = folders();
    const data = randomData(700);
    const key = keyOf(data);
    // A file placed whole whose sender never heard so: its record says where.
    writeFileSync(join(downloads, 'a.bin'), data);
    const { mtimeMs } = lstatSync(join(downloads, 'a.bin'));
    const paths = partialPaths(downloads, partialId(key));
    const record = stateText(placedState(key, 'a.bin', 'a.bin', mtimeMs, new Date()));
    await saveStateDurably(paths.state, paths.temporary, record);
    const store = new PartialStore(downloads, small);
    const placed = await store.receive(key, 'a.bin');
    expect(placed).toBeInstanceOf(PlacedFile);
    swapTop();
    // A file of the record's name outside, where the link now leads.
    const recordName = basename(paths.state);
    writeFileSync(join(outside, recordName), record);
    await placed.cancel();
    expect(readFileSync(join(outside, recordName), 'utf8')).toBe(record);
    // The record stays in the folder moved away, for the next offer.
    expect(existsSync(join(top, 'downloads-moved', recordName))).toBe(true);
  });

  it("a download folder that is a link by the person's choice stays usable (the folder it leads to is the identity)", async () => {
    const { top, outside } = folders();
    const chosen = join(top, 'chosen-link');
    symlinkSync(outside, chosen);
    const data = randomData(3000);
    const store = new PartialStore(chosen, small);
    const file = await store.open(keyOf(data), 'x/a.bin');
    await feed(file, data);
    const received = await file.finish();
    expect(readFileSync(received.path).equals(data)).toBe(true);
    expect(store.identity.checks).toBeGreaterThan(0);
  });
});

describe("placing: a folder in the download folder swapped for a link between the file's accept and its placing", () => {
  it('swapped before the placing: not_a_folder, nothing outside', async () => {
    const { downloads, outside, inOutside } = folders();
    mkdirSync(join(downloads, 'sub'));
    const data = randomData(5000);
    const store = new PartialStore(downloads, small);
    const file = await store.open(keyOf(data), 'sub/a.bin');
    await feed(file, data);
    renameSync(join(downloads, 'sub'), join(downloads, 'sub-moved'));
    symlinkSync(outside, join(downloads, 'sub'));
    expect((await failure(file.finish())).code).toBe('not_a_folder');
    expect(inOutside()).toEqual([]);
  });

  it('swapped after its folders were made, right before the name is taken (its name taken, the next tried): checked again, nothing outside', async () => {
    const { downloads, outside, inOutside } = folders();
    mkdirSync(join(downloads, 'sub'));
    // The name is taken: the first link fails EEXIST, and the next name is tried.
    writeFileSync(join(downloads, 'sub', 'a.bin'), 'there before');
    let swapped = false;
    const data = randomData(5000);
    const store = new PartialStore(downloads, {
      ...small,
      io: {
        link: async (existing, target) => {
          if (!swapped) {
            // After the folders were made and checked: `sub` moved away, a link in its place.
            swapped = true;
            renameSync(join(downloads, 'sub'), join(downloads, 'sub-moved'));
            symlinkSync(outside, join(downloads, 'sub'));
            writeFileSync(join(outside, 'a.bin'), 'outside');
          }
          await link(existing, target);
        },
      },
    });
    const file = await store.open(keyOf(data), 'sub/a.bin');
    await feed(file, data);
    expect((await failure(file.finish())).code).toBe('not_a_folder');
    // Only what the test itself put there: no `a (1).bin` made through the link.
    expect(inOutside()).toEqual(['a.bin']);
    expect(existsSync(join(downloads, 'sub-moved', 'a (1).bin'))).toBe(false);
  });
});

describe('FolderIdentity', () => {
  it('is taken at the first check; a folder of the same path made again is another folder', async () => {
    const { top } = folders();
    const folder = join(top, 'f');
    mkdirSync(folder);
    const identity = new FolderIdentity(folder);
    await identity.check();
    renameSync(folder, join(top, 'f-old'));
    mkdirSync(folder);
    expect((await failure(identity.check())).code).toBe('not_a_folder');
  });

  it('a link, or a file, among the folders below is refused; a missing one is not unless asked', async () => {
    const { top, outside } = folders();
    const folder = join(top, 'g');
    mkdirSync(folder);
    symlinkSync(outside, join(folder, 'linked'));
    writeFileSync(join(folder, 'file'), '');
    const identity = new FolderIdentity(folder);
    await identity.check(['missing', 'deeper']);
    expect((await failure(identity.check(['missing'], false))).code).toBe('not_a_folder');
    expect((await failure(identity.check(['linked']))).code).toBe('not_a_folder');
    expect((await failure(identity.check(['file', 'x']))).code).toBe('not_a_folder');
  });
});

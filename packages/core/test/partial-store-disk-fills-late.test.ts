import { readdirSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PartialStore, sizeText } from '../src/index.js';
import { partialId, partialPaths } from '../src/node/partial-state.js';
import { failure, feed, keyOf, randomData, temporaryFolder } from './support/partial-files.js';
import { mountTinyDisk } from './support/tiny-disk.js';

const KiB = 1024;
const MiB = 1024 * KiB;

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** fdatasync, until `fail` says to fail with ENOSPC (as NFS or a thin volume may). */
function syncFailing(fail: () => boolean) {
  return async (handle: FileHandle) => {
    if (fail())
      throw Object.assign(new Error('ENOSPC: no space left on device, fdatasync'), { code: 'ENOSPC' });
    await handle.datasync();
  };
}

describe('a disk that fills as a file is finished', () => {
  it('nothing durable yet: disk_full says nothing was kept, and nothing is left in the folder', async () => {
    const { folder, entries, remove } = temporaryFolder('late-full-none');
    cleanups.push(remove);
    const data = randomData(300 * KiB);
    const store = new PartialStore(folder, {
      bufferBytes: 64 * KiB,
      syncEveryBytes: 16 * MiB,
      io: { sync: syncFailing(() => true) },
    });
    const file = await store.open(keyOf(data), 'big.bin');
    await feed(file, data);
    const error = await failure(file.finish());
    expect(error.code).toBe('disk_full');
    expect(error.message).toBe(
      'no space left on the disk writing big.bin: nothing of it could be kept; it starts over when offered again',
    );
    expect(entries()).toEqual([]);
    expect(await store.held(keyOf(data))).toBe(0);
  });

  it('some durable: the partial is cut to what its state records, and the message says that much', async () => {
    const { folder, entries, remove } = temporaryFolder('late-full-some');
    cleanups.push(remove);
    const data = randomData(300 * KiB + 5);
    const key = keyOf(data);
    // Synced every 64 KiB while the bytes come; the finish's sync fails.
    let full = false;
    const store = new PartialStore(folder, {
      bufferBytes: 16 * KiB,
      syncEveryBytes: 64 * KiB,
      io: { sync: syncFailing(() => full) },
    });
    const file = await store.open(key, 'big.bin');
    await feed(file, data);
    full = true;
    const error = await failure(file.finish());
    expect(error.code).toBe('disk_full');
    const held = await store.held(key);
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(data.length);
    expect(error.message).toBe(
      `no space left on the disk writing big.bin: the first ${sizeText(held)} are kept, and it goes on from there when offered again`,
    );
    const paths = partialPaths(folder, partialId(key));
    expect(statSync(paths.data).size).toBe(held);
    expect(entries().every((name) => name.startsWith('.netchat-'))).toBe(true);

    // Offered again: it goes on from there and arrives whole.
    const resumed = await new PartialStore(folder, { bufferBytes: 16 * KiB }).open(key, 'big.bin');
    expect(resumed.offset).toBe(held);
    await feed(resumed, data);
    expect((await resumed.finish()).relativePath).toBe('big.bin');
    expect(entries()).toEqual(['big.bin']);
  });

  it('on a real tmpfs another writer filled: no partial left, and the disk has its room back', async (ctx) => {
    const disk = mountTinyDisk('latefull', '5m', (reason) => ctx.skip(reason));
    cleanups.push(() => disk.remove());
    const { mountPoint } = disk;
    const free = () => {
      const fs = statfsSync(mountPoint);
      return fs.bavail * fs.bsize;
    };
    // 3.5 MB in one buffer: its one write starts with its last byte, after another writer took
    // all but 2 MiB of the disk, and fails in the finish.
    const data = randomData(3.5 * 1000 * 1000);
    const store = new PartialStore(mountPoint, { bufferBytes: 4 * MiB, reserveBytes: 64 * KiB });
    expect((await store.checkRoom(data.length)).ok).toBe(true);
    const file = await store.open(keyOf(data), 'big.bin');
    await feed(file, data, 0, data.length - 1, 256 * KiB);
    const filler = Buffer.alloc(free() - 2 * MiB);
    writeFileSync(join(mountPoint, 'filler'), filler);
    const before = free();
    await file.write(data.length - 1, data.subarray(data.length - 1));
    const error = await failure(file.finish());
    expect(error.code).toBe('disk_full');
    expect(error.message).toMatch(/nothing of it could be kept; it starts over when offered again$/);
    expect(readdirSync(mountPoint)).toEqual(['filler']);
    expect(free()).toBe(before);
  });
});

/**
 * The receiver's partial files on a real folder: byte-for-byte integrity, no clobbering, hash and
 * size checks, cancel, resume after close and after a restart, the fsync policy, and what a
 * hostile folder (links where folders or partials should be) cannot make it do.
 */

import { spawnSync } from 'node:child_process';
import {
  existsSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileErrors } from '../src/files/file-errors.js';
import {
  NetchatError,
  type PartialIo,
  PartialStore,
  type PartialStoreOptions,
  partialId,
} from '../src/index.js';
import { partialPaths } from '../src/node/partial-state.js';
import { failure, feed, keyOf, randomData, temporaryFolder } from './support/partial-files.js';

const KiB = 1024;
const small: PartialStoreOptions = { bufferBytes: 64 * KiB, syncEveryBytes: 256 * KiB };

let folders: ReturnType<typeof temporaryFolder>[] = [];
function folder() {
  const made = temporaryFolder('partial');
  folders.push(made);
  return made;
}
afterEach(() => {
  for (const made of folders) made.remove();
  folders = [];
});

describe('PartialStore: receiving whole files', () => {
  it.each([0, 1, 64 * KiB - 1, 64 * KiB, 64 * KiB + 1, 5 * 64 * KiB + 123, 3 * 1024 * KiB + 7])(
    '%i bytes arrive byte for byte, and only the file is left in the folder',
    async (size) => {
      const { folder: dir, entries } = folder();
      const data = randomData(size);
      const store = new PartialStore(dir, small);
      const file = await store.open(keyOf(data), 'received.bin');
      expect(file.offset).toBe(0);
      await feed(file, data);
      const received = await file.finish();
      expect(received).toEqual({
        path: join(dir, 'received.bin'),
        relativePath: 'received.bin',
        size,
        hash: keyOf(data).hash,
      });
      expect(readFileSync(received.path).equals(data)).toBe(true);
      expect(entries()).toEqual(['received.bin']);
    },
  );

  it('a placed file has the mode any new file gets (0666 less the umask), not a private 0600', async () => {
    const { folder: dir } = folder();
    const data = randomData(1000);
    const before = process.umask(0o022);
    try {
      const file = await new PartialStore(dir, small).open(keyOf(data), 'shared.txt');
      await feed(file, data);
      const received = await file.finish();
      expect(statSync(received.path).mode & 0o777).toBe(0o644);
    } finally {
      process.umask(before);
    }
  });

  it('a name taken (by a file, a folder or a dangling link) gets name (1).ext; what was there is untouched', async () => {
    const { folder: dir, entries } = folder();
    writeFileSync(join(dir, 'report.pdf'), 'mine');
    mkdirSync(join(dir, 'report (1).pdf'));
    symlinkSync(join(dir, 'nowhere'), join(dir, 'report (2).pdf'));
    const data = randomData(1000);
    const store = new PartialStore(dir, small);
    const file = await store.open(keyOf(data), 'report.pdf');
    await feed(file, data);
    expect((await file.finish()).relativePath).toBe('report (3).pdf');
    expect(readFileSync(join(dir, 'report.pdf'), 'utf8')).toBe('mine');
    expect(lstatSync(join(dir, 'report (1).pdf')).isDirectory()).toBe(true);
    expect(readlinkSync(join(dir, 'report (2).pdf'))).toBe(join(dir, 'nowhere'));
    expect(readFileSync(join(dir, 'report (3).pdf')).equals(data)).toBe(true);
    expect(entries()).toEqual(['report (1).pdf', 'report (2).pdf', 'report (3).pdf', 'report.pdf']);
  });

  it('on a file system without hard links, the name is reserved exclusively and still never overwrites', async () => {
    const { folder: dir } = folder();
    writeFileSync(join(dir, 'report.pdf'), 'mine');
    let links = 0;
    const io: Partial<PartialIo> = {
      link: async () => {
        links++;
        throw Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM' });
      },
    };
    const data = randomData(5000);
    const store = new PartialStore(dir, { ...small, io });
    const file = await store.open(keyOf(data), 'report.pdf');
    await feed(file, data);
    expect((await file.finish()).relativePath).toBe('report (1).pdf');
    expect(links).toBe(1);
    expect(readFileSync(join(dir, 'report.pdf'), 'utf8')).toBe('mine');
    expect(readFileSync(join(dir, 'report (1).pdf')).equals(data)).toBe(true);
  });

  it('makes the folders of a nested path', async () => {
    const { folder: dir, entries } = folder();
    const data = randomData(100);
    const store = new PartialStore(dir, small);
    const file = await store.open(keyOf(data), 'photos/2024/a.jpg');
    await feed(file, data);
    expect((await file.finish()).path).toBe(join(dir, 'photos', '2024', 'a.jpg'));
    expect(readFileSync(join(dir, 'photos', '2024', 'a.jpg')).equals(data)).toBe(true);
    expect(entries()).toEqual(['photos']);
  });

  it('a symbolic link where a folder should be is not followed: not_a_folder, nothing written through it, the complete partial kept', async () => {
    const { folder: dir } = folder();
    const { folder: elsewhere, entries: elsewhereEntries } = folder();
    symlinkSync(elsewhere, join(dir, 'photos'));
    const data = randomData(2000);
    const store = new PartialStore(dir, small);
    const file = await store.open(keyOf(data), 'photos/a.jpg');
    await feed(file, data);
    const error = await failure(file.finish());
    expect(error.code).toBe('not_a_folder');
    expect(elsewhereEntries()).toEqual([]);
    // Verified and kept: offered again, nothing more is sent and it can be placed once the link is gone.
    expect(await store.held(keyOf(data))).toBe(2000);
  });

  it('a file where a folder should be: not_a_folder', async () => {
    const { folder: dir } = folder();
    writeFileSync(join(dir, 'photos'), 'a file');
    const data = randomData(10);
    const file = await new PartialStore(dir, small).open(keyOf(data), 'photos/a.jpg');
    await feed(file, data);
    expect((await failure(file.finish())).code).toBe('not_a_folder');
    expect(readFileSync(join(dir, 'photos'), 'utf8')).toBe('a file');
  });
});

describe('PartialStore: data that does not match the offer', () => {
  it('another hash: hash_mismatch, and nothing is left behind', async () => {
    const { folder: dir, entries } = folder();
    const data = randomData(300 * KiB);
    const offered = { ...keyOf(data), hash: keyOf(randomData(300 * KiB, 1)).hash };
    const file = await new PartialStore(dir, small).open(offered, 'x.bin');
    await feed(file, data);
    const error = await failure(file.finish());
    expect(error.code).toBe('hash_mismatch');
    expect(error.message).toContain('x.bin');
    expect(entries()).toEqual([]);
  });

  it('data that ends early: size_mismatch, and nothing is left behind', async () => {
    const { folder: dir, entries } = folder();
    const data = randomData(300 * KiB);
    const file = await new PartialStore(dir, small).open(keyOf(data), 'x.bin');
    await feed(file, data, 0, 200 * KiB);
    expect((await failure(file.finish())).code).toBe('size_mismatch');
    expect(entries()).toEqual([]);
  });

  it('data past the size is refused (size_mismatch) without being written', async () => {
    const { folder: dir, entries } = folder();
    const data = randomData(1000);
    const file = await new PartialStore(dir, small).open(keyOf(data), 'x.bin');
    await feed(file, data, 0, 900);
    expect((await failure(file.write(900, randomData(101)) ?? Promise.resolve())).code).toBe('size_mismatch');
    expect(file.received).toBe(900);
    expect(file.failed?.code).toBe('size_mismatch');
    // It sticks: the next write, even a right one, rejects with it.
    expect((await failure(file.write(900, randomData(1)) ?? Promise.resolve())).code).toBe('size_mismatch');
    // Finished anyway: the mismatch again, and nothing left.
    expect((await failure(file.finish())).code).toBe('size_mismatch');
    expect(entries()).toEqual([]);
  });

  it('cancel removes the partial and its state', async () => {
    const { folder: dir, entries } = folder();
    const data = randomData(1000 * KiB);
    const store = new PartialStore(dir, small);
    const file = await store.open(keyOf(data), 'x.bin');
    await feed(file, data, 0, 700 * KiB);
    expect(entries().length).toBe(2); // the partial and its state (a sync happened)
    await file.cancel();
    expect(entries()).toEqual([]);
    expect(await store.held(keyOf(data))).toBe(0);
  });

  it('misuse throws INVALID_ARGUMENT: a write at another offset, after the end, or while one is pending', async () => {
    const { folder: dir } = folder();
    const data = randomData(1000 * KiB);
    const file = await new PartialStore(dir, small).open(keyOf(data), 'x.bin');
    expect(() => file.write(5, data.subarray(5, 10))).toThrow(NetchatError);
    const pending = file.write(0, data.subarray(0, 200 * KiB));
    expect(pending).toBeInstanceOf(Promise);
    expect(() => file.write(200 * KiB, data.subarray(200 * KiB, 200 * KiB + 1))).toThrow(/pending/);
    await pending;
    await file.cancel();
    expect(() => file.write(200 * KiB, data.subarray(200 * KiB))).toThrow(/ended/);
    await expect(new PartialStore(dir).open({ senderKey: 'x', hash: 'y', size: -1 }, 'a')).rejects.toThrow(
      NetchatError,
    );
    await expect(new PartialStore(dir).open(keyOf(data), '../x')).rejects.toThrow(/not a safe relative path/);
  });
});

describe('PartialStore: durability', () => {
  it('the state only ever records bytes fsynced before it was written, and fsyncs are not per chunk', async () => {
    const { folder: dir } = folder();
    const data = randomData(3 * 1024 * KiB + 17);
    let syncedUpTo = 0;
    let syncs = 0;
    const recorded: number[] = [];
    const io: Partial<PartialIo> = {
      sync: async (handle) => {
        // Every byte in the file when the fsync begins is durable when it ends.
        const size = fstatSync(handle.fd).size;
        await handle.datasync();
        syncs++;
        syncedUpTo = Math.max(syncedUpTo, size);
      },
      saveState: async (paths, text) => {
        const { held } = JSON.parse(text) as { held: number };
        expect(held).toBeLessThanOrEqual(syncedUpTo);
        recorded.push(held);
        const { saveStateDurably } = await import('../src/node/partial-state.js');
        await saveStateDurably(paths.state, paths.temporary, text);
      },
    };
    const store = new PartialStore(dir, { ...small, io });
    const file = await store.open(keyOf(data), 'x.bin');
    await feed(file, data, 0, data.length, 1200);
    await file.finish();
    // Some records while writing (3 MiB at 256 KiB between syncs), each at least a period after the last.
    expect(recorded.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < recorded.length; i++)
      expect((recorded[i] ?? 0) - (recorded[i - 1] ?? 0)).toBeGreaterThanOrEqual(256 * KiB);
    // Never a sync per chunk (2,600 chunks of 1,200 bytes): one per period at most, and the last.
    expect(syncs).toBeLessThanOrEqual(Math.ceil(data.length / (256 * KiB)) + 1);
  });

  it('a disk slow to sync holds writing back: never more than about two periods beyond what is durable', async () => {
    const { folder: dir } = folder();
    const data = randomData(4 * 1024 * KiB);
    const io: Partial<PartialIo> = {
      // A disk whose every sync takes 100 ms, far longer than writing a period to the page cache.
      sync: async (handle) => {
        await handle.datasync();
        await new Promise((resolve) => setTimeout(resolve, 100));
      },
    };
    const file = await new PartialStore(dir, { ...small, io }).open(keyOf(data), 'x.bin');
    let worst = 0;
    for (let at = 0; at < data.length; at += 8 * KiB) {
      const waiting = file.write(at, data.subarray(at, at + 8 * KiB));
      worst = Math.max(worst, file.received - file.durable);
      if (waiting) await waiting;
    }
    expect(worst).toBeLessThanOrEqual(2 * 256 * KiB + 3 * 64 * KiB);
    expect(readFileSync((await file.finish()).path).equals(data)).toBe(true);
  });

  it('by default a file being received holds at most two 256 KiB buffers of its bytes unwritten', async () => {
    const { folder: dir } = folder();
    const data = randomData(3 * 1024 * KiB);
    const key = keyOf(data);
    const file = await new PartialStore(dir).open(key, 'x.bin');
    const { data: partial } = partialPaths(dir, partialId(key));
    let worst = 0;
    for (let at = 0; at < data.length; at += 8 * KiB) {
      const waiting = file.write(at, data.subarray(at, at + 8 * KiB));
      if (waiting) await waiting;
      // Taken but not in the file yet: the buffer filling, and at most one being written.
      worst = Math.max(worst, file.received - statSync(partial).size);
    }
    expect(worst).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(2 * 256 * KiB);
    expect(readFileSync((await file.finish()).path).equals(data)).toBe(true);
  });

  it('a symbolic link planted at the partial file name is not written through', async () => {
    const { folder: dir } = folder();
    const { folder: elsewhere } = folder();
    const victim = join(elsewhere, 'victim');
    writeFileSync(victim, 'precious');
    const data = randomData(1000);
    symlinkSync(victim, join(dir, `.netchat-${partialId(keyOf(data))}.part`));
    const error = await failure(new PartialStore(dir, small).open(keyOf(data), 'x.bin'));
    expect(error.code).toBe('write_failed');
    expect(readFileSync(victim, 'utf8')).toBe('precious');
  });
});

describe('PartialStore: a hostile folder', () => {
  it('a pipe or a link planted at the state name is neither waited on nor followed: no state', async () => {
    const { folder: dir } = folder();
    const data = randomData(1000);
    const state = join(dir, `.netchat-${partialId(keyOf(data))}.state`);
    expect(spawnSync('mkfifo', [state]).status).toBe(0);
    const store = new PartialStore(dir, small);
    expect(await store.held(keyOf(data))).toBe(0);
    const file = await store.open(keyOf(data), 'x.bin');
    expect(file.offset).toBe(0);
    await file.cancel();
  });
});

describe('PartialStore: room', () => {
  it('says the room in words a person reads, in bytes only when the rounded sizes would read the same', () => {
    const offer = (bytes: number) => ({ offer: bytes, underWay: 0, keptFree: 0 });
    expect(fileErrors.noRoom('/in', offer(4_048_576), 1_048_576).message).toBe(
      'not enough room in /in: 4 MB needed, 1 MB free',
    );
    expect(fileErrors.noRoom('/in', offer(1_040_000), 1_000_000).message).toBe(
      'not enough room in /in: 1040000 bytes needed, 1000000 bytes free',
    );
  });

  it('says the margin it keeps free, and what transfers under way still need, beside the offer', () => {
    // A 3 MB file into a folder with 3 MB free: the 4 MB it needs is the file and the margin.
    const needs = { offer: 3_000_000, underWay: 0, keptFree: 1_048_576 };
    expect(fileErrors.noRoom('/in', needs, 3_000_000).message).toBe(
      'not enough room in /in: 4 MB needed (3 MB for the offer and 1 MB kept free), 3 MB free',
    );
    expect(fileErrors.noRoom('/in', { ...needs, underWay: 2_500_000 }, 3_000_000).message).toBe(
      'not enough room in /in: 6.5 MB needed (3 MB for the offer, 2.5 MB still to come in transfers under way and 1 MB kept free), 3 MB free',
    );
    expect(fileErrors.noRoom('/in', { ...needs, offer: 0, underWay: 2_500_000 }, 3_000_000).message).toBe(
      'not enough room in /in: 3.5 MB needed (2.5 MB still to come in transfers under way and 1 MB kept free), 3 MB free',
    );
  });

  it('says whether the folder has room, counting what files being received still need', async () => {
    const { folder: dir } = folder();
    const store = new PartialStore(dir, small);
    const room = await store.checkRoom(0);
    expect(room.ok).toBe(true);
    const tooMuch = await store.checkRoom(room.available * 2);
    expect(tooMuch).toMatchObject({ ok: false, needed: room.available * 2 + 1024 * KiB });
    if (!tooMuch.ok)
      expect(tooMuch.reason).toMatch(
        /^not enough room in .*: \d+(\.\d)? [kMGT]B needed \(\d+(\.\d)? [kMGT]B for the offer and 1 MB kept free\), \d+(\.\d)? [kMGT]B free$/,
      );
    // A file being received promises its remaining bytes.
    const data = randomData(1000);
    const promised = Math.floor(room.available / 2);
    const file = await store.open({ ...keyOf(data), size: promised }, 'big.bin');
    expect((await store.checkRoom(promised)).ok).toBe(false);
    await file.cancel();
    expect(existsSync(join(dir, 'big.bin'))).toBe(false);
  });
});

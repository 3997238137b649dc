/**
 * A disk that fills while a file is being finished (its last buffer written, or its last sync):
 * the partial keeps exactly what its state records. Nothing durable: nothing is left, and the
 * disk gets its room back; some: the bytes past it are cut, the state says how many are kept,
 * and the message says the same. Once with the sync failing (any machine), once on a real tmpfs
 * that something else fills (mounting needs root on Linux: skipped with the reason otherwise).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PartialStore, sizeText } from '../src/index.js';
import { partialId, partialPaths } from '../src/node/partial-state.js';
import { failure, feed, keyOf, randomData, temporaryFolder } from './support/partial-files.js';

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
    if (process.platform !== 'linux' || process.getuid?.() !== 0)
      ctx.skip('mounting a tmpfs needs root on Linux');
    const mountPoint = mkdtempSync(join(tmpdir(), `netchat-latefull-${process.pid}-`));
    const mounted = run('mount', ['-t', 'tmpfs', '-o', 'size=5m,mode=0700', 'tmpfs', mountPoint]);
    if (mounted !== undefined) {
      rmSync(mountPoint, { recursive: true, force: true });
      ctx.skip(`cannot mount a tmpfs here: ${mounted}`);
    }
    cleanups.push(() => {
      // Lazily, so a handle left open by a failed assertion cannot keep the mount.
      run('umount', ['-l', mountPoint]);
      rmSync(mountPoint, { recursive: true, force: true });
    });
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

function run(command: string, args: string[]): string | undefined {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 20_000 });
  if (result.error) return result.error.message;
  return result.status === 0 ? undefined : result.stderr.trim() || `exit code ${result.status}`;
}

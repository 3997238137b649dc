/** DiskStorage's reads for the sender: into the engine's spare chunk when it gives one, else a new buffer. */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StorageOutcome, StorageRequest } from '../src/files/storage-requests.js';
import { DiskStorage } from '../src/index.js';
import { randomData, temporaryFolder } from './support/partial-files.js';

let folders: ReturnType<typeof temporaryFolder>[] = [];
let storages: DiskStorage[] = [];
afterEach(async () => {
  // Each file being sent is released (its source closed), pass or fail.
  for (const storage of storages) {
    storage.perform({ kind: 'release', transfer: 1, file: 0 }, () => {});
    await storage.idle();
  }
  for (const made of folders) made.remove();
  folders = [];
  storages = [];
});

/** Performs `request` and waits for its answer (bounded: the storage answers or the test times out). */
function perform(storage: DiskStorage, request: StorageRequest): Promise<StorageOutcome> {
  return new Promise((resolve) => storage.perform(request, (_id, outcome) => resolve(outcome)));
}

describe('DiskStorage reading a file being sent', () => {
  it('reads into the buffer the request carries, and allocates only without one', async () => {
    const made = temporaryFolder('disk-storage');
    folders.push(made);
    const source = join(made.folder, 'a.bin');
    const data = randomData(700_000, 3);
    writeFileSync(source, data);
    // As FileSource notes it (whole milliseconds, from the exact time).
    const stats = statSync(source, { bigint: true });
    const size = Number(stats.size);
    const mtimeMs = Number(stats.mtimeMs);
    const storage = new DiskStorage();
    storages.push(storage);
    storage.addSources(1, [{ source, size, mtimeMs }]);
    const chunk = 256 * 1024;
    const read = (id: number, offset: number, into?: Uint8Array) =>
      perform(storage, {
        kind: 'read',
        id,
        transfer: 1,
        file: 0,
        offset,
        length: Math.min(chunk, size - offset),
        ...(into ? { into } : {}),
      });

    const first = await read(1, 0);
    if (!first.ok || !first.bytes) throw new Error(`the first read failed: ${JSON.stringify(first)}`);
    expect(Buffer.from(first.bytes).equals(data.subarray(0, chunk))).toBe(true);
    expect(storage.stats.readsIntoSpare).toBe(0);

    // The first chunk's buffer comes back with the next read: the bytes are read into it.
    const spare = first.bytes;
    const second = await read(2, chunk, spare);
    if (!second.ok || !second.bytes) throw new Error('the second read failed');
    // (Compared by identity: a failed toBe would diff 256 KiB of bytes for minutes.)
    expect(second.bytes === spare, 'read into the spare').toBe(true);
    expect(Buffer.from(second.bytes).equals(data.subarray(chunk, 2 * chunk))).toBe(true);

    // The last, shorter chunk into a whole chunk's buffer: the answer is the part read, in it.
    const last = await read(3, 2 * chunk, spare);
    if (!last.ok || !last.bytes) throw new Error('the last read failed');
    expect(last.bytes.length).toBe(size - 2 * chunk);
    expect(last.bytes.buffer === spare.buffer, 'read into the spare').toBe(true);
    expect(Buffer.from(last.bytes).equals(data.subarray(2 * chunk))).toBe(true);
    expect(storage.stats.readsIntoSpare).toBe(2);
    expect(storage.stats.bytesRead).toBe(size);
  });
});

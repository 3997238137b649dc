/** DiskStorage's reads for the sender: into the engine's spare chunk when it gives one, else a new buffer. */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StorageOutcome, StorageRequest } from '../src/files/storage-requests.js';
import { contentHash, DiskStorage, PartialStore } from '../src/index.js';
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

describe('DiskStorage writing a file being received', () => {
  it('lends the partial file its buffer: bytes read into it are written without a copy, and whole', async () => {
    const made = temporaryFolder('disk-storage-lend');
    folders.push(made);
    const data = randomData(3 * 1024 * 1024 + 5, 7);
    const storage = new DiskStorage();
    storages.push(storage);
    storage.setStore(2, new PartialStore(made.folder, { bufferBytes: 256 * 1024 }));
    const opened = await perform(storage, {
      kind: 'open',
      id: 1,
      transfer: 2,
      file: 0,
      senderKey: 'a1'.repeat(32),
      hash: contentHash(data),
      size: data.length,
      name: 'lent.bin',
    });
    expect(opened).toMatchObject({ ok: true, offset: 0 });
    // The first bytes come from a buffer of the caller's (copied); then each answer lends the
    // next place to put bytes, and the caller fills it as a stream read would, in pieces.
    let id = 2;
    let at = 0;
    let lent: Uint8Array | undefined;
    const own = new Uint8Array(100_000);
    const lendings = new Set<ArrayBufferLike>();
    for (let guard = 0; guard < 1_000 && at < data.length; guard++) {
      const into = lent ?? own;
      const n = Math.min(into.length, data.length - at, 70_000 + (guard % 5) * 40_000);
      into.set(data.subarray(at, at + n));
      const answer = await perform(storage, {
        kind: 'write',
        id: id++,
        transfer: 2,
        file: 0,
        offset: at,
        bytes: into.subarray(0, n),
      });
      if (!answer.ok) throw new Error(answer.message);
      at += n;
      lent = answer.into;
      if (lent) lendings.add(lent.buffer);
    }
    expect(at).toBe(data.length);
    const finished = await perform(storage, { kind: 'finish', id: id++, transfer: 2, file: 0 });
    expect(finished).toMatchObject({ ok: true, path: 'lent.bin' });
    expect(readFileSync(join(made.folder, 'lent.bin')).equals(data)).toBe(true);
    // All but the first write's bytes went straight into the partial's two buffers.
    expect(storage.stats.bytesWritten).toBe(data.length);
    expect(storage.stats.bytesWrittenLent).toBe(data.length - 70_000);
    expect(lendings.size).toBe(2);
  });
});

/**
 * Resuming a partial file: after close, after a restart (a new store), with bytes past its
 * state, with a partial shorter than its state or a corrupt state, with a hash state of another
 * layout or damaged; one receiver at a time per file; discarding a kept partial.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PartialStore, type PartialStoreOptions, partialId } from '../src/index.js';
import { BOB, failure, feed, keyOf, randomData, temporaryFolder } from './support/partial-files.js';

const KiB = 1024;
const small: PartialStoreOptions = { bufferBytes: 64 * KiB, syncEveryBytes: 256 * KiB };

let folders: ReturnType<typeof temporaryFolder>[] = [];
function folder() {
  const made = temporaryFolder('resume');
  folders.push(made);
  return made;
}
afterEach(() => {
  for (const made of folders) made.remove();
  folders = [];
});

describe('PartialStore: resuming', () => {
  it('after close, a new store (a restart) goes on from the bytes kept, under the name offered now', async () => {
    const { folder: dir, entries } = folder();
    const data = randomData(2 * 1024 * KiB + 333);
    const key = keyOf(data);
    const first = await new PartialStore(dir, small).open(key, 'old name.bin');
    await feed(first, data, 0, 1234 * KiB + 5);
    expect(await first.close()).toBe(1234 * KiB + 5);
    expect(entries().every((name) => name.startsWith('.netchat-'))).toBe(true);

    const store = new PartialStore(dir, small);
    expect(await store.held(key)).toBe(1234 * KiB + 5);
    // Another sender offering the same file has nothing here.
    expect(await store.held({ ...key, senderKey: BOB })).toBe(0);
    const list = await store.list();
    expect(list).toEqual([
      expect.objectContaining({
        id: partialId(key),
        name: 'old name.bin',
        held: 1234 * KiB + 5,
        size: data.length,
      }),
    ]);
    const second = await store.open(key, 'new name.bin');
    expect(second.offset).toBe(1234 * KiB + 5);
    await feed(second, data);
    const received = await second.finish();
    expect(received.relativePath).toBe('new name.bin');
    expect(readFileSync(received.path).equals(data)).toBe(true);
    expect(entries()).toEqual(['new name.bin']);
  });

  it('the same file is received once at a time (busy), and can be opened again once it ended', async () => {
    const { folder: dir } = folder();
    const data = randomData(1000);
    const store = new PartialStore(dir, small);
    const [first, second] = await Promise.allSettled([
      store.open(keyOf(data), 'a'),
      store.open(keyOf(data), 'b'),
    ]);
    expect(first.status).toBe('fulfilled');
    expect(second).toMatchObject({ status: 'rejected', reason: { code: 'busy' } });
    if (first.status === 'fulfilled') await first.value.close();
    const again = await store.open(keyOf(data), 'a');
    await again.cancel();
  });

  it('offered again while its last transfer is still being closed (its chat just ended): held and open wait for the close and go on from all it kept', async () => {
    const { folder: dir } = folder();
    const data = randomData(2 * 1024 * KiB);
    const key = keyOf(data);
    const store = new PartialStore(dir, small);
    const first = await store.open(key, 'f.bin');
    await feed(first, data, 0, 700 * KiB + 3);
    const closing = first.close(); // not waited for: the next offer comes at once
    expect(await store.held(key)).toBe(700 * KiB + 3);
    const again = await store.receive(key, 'f.bin');
    expect(again.offset).toBe(700 * KiB + 3);
    expect(await closing).toBe(700 * KiB + 3);
    await (again as Awaited<ReturnType<PartialStore['open']>>).cancel();
  });

  it('bytes in the partial past what its state records (a crash) are dropped and written again', async () => {
    const { folder: dir } = folder();
    const data = randomData(1024 * KiB);
    const key = keyOf(data);
    const first = await new PartialStore(dir, small).open(key, 'x.bin');
    await feed(first, data, 0, 600 * KiB);
    const kept = await first.close();
    expect(kept).toBe(600 * KiB);
    // As after a crash: bytes written after the last record, here not even the file's own.
    const partial = join(dir, `.netchat-${partialId(key)}.part`);
    writeFileSync(partial, Buffer.concat([readFileSync(partial), Buffer.alloc(50_000, 7)]));
    const second = await new PartialStore(dir, small).open(key, 'x.bin');
    expect(second.offset).toBe(kept);
    await feed(second, data);
    expect(readFileSync((await second.finish()).path).equals(data)).toBe(true);
  });

  it('a partial shorter than its state says, or a corrupt state, starts over', async () => {
    const { folder: dir } = folder();
    const data = randomData(800 * KiB);
    const key = keyOf(data);
    const first = await new PartialStore(dir, small).open(key, 'x.bin');
    await feed(first, data, 0, 500 * KiB);
    await first.close();
    const partial = join(dir, `.netchat-${partialId(key)}.part`);
    const state = join(dir, `.netchat-${partialId(key)}.state`);
    writeFileSync(partial, readFileSync(partial).subarray(0, 100));
    expect(await new PartialStore(dir).held(key)).toBe(0);
    const shortened = await new PartialStore(dir).open(key, 'x.bin');
    expect(shortened.offset).toBe(0);
    await feed(shortened, data, 0, 300 * KiB);
    await shortened.close();
    writeFileSync(state, '{"version": 1, "held": "lots"');
    const corrupt = await new PartialStore(dir, small).open(key, 'x.bin');
    expect(corrupt.offset).toBe(0);
    await feed(corrupt, data);
    expect(readFileSync((await corrupt.finish()).path).equals(data)).toBe(true);
  });

  it('a state saved by a libsodium of another layout: the bytes held are hashed again and the file verifies', async () => {
    const { folder: dir } = folder();
    const data = randomData(900 * KiB);
    const key = keyOf(data);
    const first = await new PartialStore(dir, small).open(key, 'x.bin');
    await feed(first, data, 0, 700 * KiB);
    const kept = await first.close();
    const statePath = join(dir, `.netchat-${partialId(key)}.state`);
    const state = JSON.parse(readFileSync(statePath, 'utf8'));
    writeFileSync(
      statePath,
      JSON.stringify({ ...state, hashFormat: 'blake2b-256/sodium/384/other', hashState: 'AAAA' }),
    );
    const second = await new PartialStore(dir, small).open(key, 'x.bin');
    expect(second.offset).toBe(kept);
    await feed(second, data);
    expect(readFileSync((await second.finish()).path).equals(data)).toBe(true);
  });

  it('a damaged hash state in the right format is caught by the final check: hash_mismatch, nothing left', async () => {
    const { folder: dir, entries } = folder();
    const data = randomData(900 * KiB);
    const key = keyOf(data);
    const first = await new PartialStore(dir, small).open(key, 'x.bin');
    await feed(first, data, 0, 700 * KiB);
    await first.close();
    const statePath = join(dir, `.netchat-${partialId(key)}.state`);
    const state = JSON.parse(readFileSync(statePath, 'utf8'));
    const hashState = Buffer.from(state.hashState, 'base64');
    hashState[0] = (hashState[0] ?? 0) ^ 1;
    writeFileSync(statePath, JSON.stringify({ ...state, hashState: hashState.toString('base64') }));
    const second = await new PartialStore(dir, small).open(key, 'x.bin');
    await feed(second, data);
    expect((await failure(second.finish())).code).toBe('hash_mismatch');
    expect(entries()).toEqual([]);
  });

  it('discard removes a kept partial; a partial being received is not discarded', async () => {
    const { folder: dir, entries } = folder();
    const data = randomData(600 * KiB);
    const store = new PartialStore(dir, small);
    const file = await store.open(keyOf(data), 'x.bin');
    await feed(file, data, 0, 300 * KiB);
    expect(await store.discard(keyOf(data))).toBe(false);
    await file.close();
    expect(await store.discard(keyOf(data))).toBe(true);
    expect(entries()).toEqual([]);
    expect(await store.list()).toEqual([]);
  });
});

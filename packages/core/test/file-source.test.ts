/** Files being sent: reads at offsets, blocks with read-ahead, the hashing pass, a file that changes, a folder walk. */
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { contentHash, FileSource, walkFolder } from '../src/index.js';
import { failure, randomData, temporaryFolder } from './support/partial-files.js';

let folders: ReturnType<typeof temporaryFolder>[] = [];
let sources: FileSource[] = [];
function folder() {
  const made = temporaryFolder('source');
  folders.push(made);
  return made;
}
async function openSource(path: string, checkEveryBytes?: number) {
  const source = await FileSource.open(path, checkEveryBytes === undefined ? {} : { checkEveryBytes });
  sources.push(source);
  return source;
}
afterEach(async () => {
  for (const source of sources) await source.close();
  for (const made of folders) made.remove();
  sources = [];
  folders = [];
});

describe('FileSource', () => {
  it('knows its size and time, reads any piece at any offset into the caller buffer, and hashes', async () => {
    const { folder: dir } = folder();
    const data = randomData(3 * 1024 * 1024 + 5);
    const path = join(dir, 'f.bin');
    writeFileSync(path, data);
    const source = await openSource(path);
    expect(source.size).toBe(data.length);
    expect(source.mtimeMs).toBeGreaterThan(0);
    const target = Buffer.alloc(70_000);
    for (const position of [0, 1, 65_535, 1_000_000, data.length - 70_000]) {
      expect(await source.readAt(position, target)).toBe(70_000);
      expect(target.equals(data.subarray(position, position + 70_000))).toBe(true);
    }
    // At the end: fewer bytes than asked, then none.
    expect(await source.readAt(data.length - 10, target)).toBe(10);
    expect(await source.readAt(data.length, target)).toBe(0);
    const seen: number[] = [];
    expect(await source.hash((bytes) => seen.push(bytes), 1024 * 1024)).toBe(contentHash(data));
    expect(seen).toEqual([1, 2, 3].map((n) => n * 1024 * 1024).concat(data.length));
  });

  it('gives its blocks from any offset in order, reusing two buffers', async () => {
    const { folder: dir } = folder();
    const data = randomData(1_000_001);
    const path = join(dir, 'f.bin');
    writeFileSync(path, data);
    const source = await openSource(path);
    const pieces: Buffer[] = [];
    const buffers = new Set<ArrayBufferLike>();
    for await (const block of source.blocks(12_345, 65_536)) {
      pieces.push(Buffer.from(block));
      buffers.add(block.buffer);
    }
    expect(Buffer.concat(pieces).equals(data.subarray(12_345))).toBe(true);
    expect(buffers.size).toBeLessThanOrEqual(2);
    // An empty file has no blocks and the empty hash.
    writeFileSync(join(dir, 'empty'), '');
    const empty = await openSource(join(dir, 'empty'));
    for await (const _ of empty.blocks()) throw new Error('a block of an empty file');
    expect(await empty.hash()).toBe(contentHash(Buffer.alloc(0)));
  });

  it('a file that grows, shrinks or is modified while sent: source_changed', async () => {
    const { folder: dir } = folder();
    const path = join(dir, 'f.bin');
    writeFileSync(path, randomData(200_000));
    const grows = await openSource(path);
    appendFileSync(path, 'more');
    expect((await failure(grows.readAt(0, Buffer.alloc(200_000)))).code).toBe('source_changed');

    writeFileSync(path, randomData(200_000));
    const shrinks = await openSource(path);
    truncateSync(path, 1000);
    const error = await failure(shrinks.readAt(0, Buffer.alloc(100_000)));
    expect(error.code).toBe('source_changed');
    expect(error.message).toBe(`${path} changed while it was being sent (it ends at 1000 bytes, not 200000)`);

    writeFileSync(path, randomData(200_000));
    const modified = await openSource(path);
    utimesSync(path, new Date(), new Date(Date.now() + 60_000));
    expect((await failure(modified.check())).message).toMatch(/it was modified/);
    expect((await failure(modified.hash())).code).toBe('source_changed');
  });

  it('checks the size and time every checkEveryBytes read, not on every read', async () => {
    const { folder: dir } = folder();
    const path = join(dir, 'f.bin');
    writeFileSync(path, randomData(1_000_000));
    const source = await openSource(path, 300_000);
    const target = Buffer.alloc(100_000);
    await source.readAt(0, target);
    appendFileSync(path, 'x');
    // 200,000 bytes read: no check yet; the third read reaches 300,000 and checks.
    await source.readAt(100_000, target);
    expect((await failure(source.readAt(200_000, target))).code).toBe('source_changed');
  });

  it('refuses what is not a regular file, and says why it cannot read', async () => {
    const { folder: dir } = folder();
    expect((await failure(FileSource.open(dir))).code).toBe('not_a_file');
    const missing = await failure(FileSource.open(join(dir, 'missing')));
    expect(missing.code).toBe('read_failed');
    expect(missing.message).toBe(`cannot read ${join(dir, 'missing')}: no such file or folder`);
  });
});

describe('walkFolder', () => {
  it('lists regular files with /-separated paths under the folder name, in order, with sizes', async () => {
    const { folder: dir } = folder();
    const root = join(dir, 'photos');
    mkdirSync(join(root, '2024', 'summer'), { recursive: true });
    mkdirSync(join(root, 'empty'));
    writeFileSync(join(root, 'b.jpg'), 'bb');
    writeFileSync(join(root, '2024', 'a.jpg'), 'a');
    writeFileSync(join(root, '2024', 'summer', 'sea.jpg'), 'seaaa');
    const walk = await walkFolder(root);
    expect(walk.files.map((f) => [f.path, f.size])).toEqual([
      ['photos/2024/a.jpg', 1],
      ['photos/2024/summer/sea.jpg', 5],
      ['photos/b.jpg', 2],
    ]);
    expect(walk.files[0]?.source).toBe(join(root, '2024', 'a.jpg'));
    expect(walk.totalBytes).toBe(8);
    expect(walk.skipped).toEqual([]);
  });

  it('does not follow symbolic links (a link to / or to a parent) and skips special files and non-UTF-8 names', async () => {
    const { folder: dir } = folder();
    const root = join(dir, 'shared');
    mkdirSync(root);
    writeFileSync(join(root, 'real.txt'), 'x');
    symlinkSync('/', join(root, 'everything'));
    symlinkSync(root, join(root, 'loop'));
    symlinkSync(join(root, 'real.txt'), join(root, 'alias.txt'));
    expect(spawnSync('mkfifo', [join(root, 'pipe')]).status).toBe(0);
    writeFileSync(Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0x66, 0xff, 0x66])]), 'latin-1');
    const walk = await walkFolder(root);
    expect(walk.files.map((f) => f.path)).toEqual(['shared/real.txt']);
    expect(walk.skipped.map((s) => [s.path, s.why])).toEqual([
      ['shared/alias.txt', 'symlink'],
      ['shared/everything', 'symlink'],
      ['shared/f\ufffdf', 'not_utf8'],
      ['shared/loop', 'symlink'],
      ['shared/pipe', 'special'],
    ]);
    expect(walk.skippedCount).toBe(5);
  });

  it('stops with too_many_files past the count or the depth, and refuses a file', async () => {
    const { folder: dir } = folder();
    const root = join(dir, 'many');
    mkdirSync(root);
    for (let i = 0; i < 11; i++) writeFileSync(join(root, `f${i}`), '');
    expect((await failure(walkFolder(root, { maxFiles: 10 }))).code).toBe('too_many_files');
    expect((await walkFolder(root, { maxFiles: 11 })).files).toHaveLength(11);
    mkdirSync(join(root, 'a', 'b', 'c'), { recursive: true });
    const deep = await failure(walkFolder(root, { maxDepth: 3 }));
    expect(deep.code).toBe('too_many_files');
    expect(deep.message).toContain('deeper');
    expect((await failure(walkFolder(join(root, 'f0')))).code).toBe('not_a_folder');
    // Entries that are not files count too: a folder of links is not read without end.
    const links = join(dir, 'links');
    mkdirSync(links);
    for (let i = 0; i < 9; i++) symlinkSync('/', join(links, `l${i}`));
    expect((await failure(walkFolder(links, { maxFiles: 2 }))).message).toContain(
      'more than 8 entries in one folder',
    );
    expect((await walkFolder(links, { maxFiles: 3 })).skippedCount).toBe(9);
  });
});

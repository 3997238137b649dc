/**
 * The file-transfer building blocks, measured (not part of `pnpm bench`; run with
 * `node --import tsx bench/files-base.ts [MiB]`, 1024 by default):
 * - BLAKE2b-256 (ContentHasher) in memory, in 1 MiB and in 1,200-byte updates, beside libsodium
 *   one-shot and node:crypto's BLAKE2b-512 on the same bytes;
 * - FileSource.hash of a file in the page cache;
 * - PartialStore receiving a file in 1,200-byte writes (as datagrams bring it), hashed, fsynced
 *   every 16 MiB, verified and moved into place, beside raw `fs.writeSync` of 1 MiB blocks and one
 *   fsync (the disk's own rate), and with the fsync only at the end (what the policy costs);
 * with the peak RSS of each. It prints figures and asserts nothing.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sodium from 'sodium-native';
import { ContentHasher, contentHash, FileSource, PartialStore } from '../src/index.js';

const MiB = 1024 * 1024;
const total = Number(process.argv[2] ?? 1024) * MiB;
const block = Buffer.allocUnsafe(MiB);
sodium.randombytes_buf(block);

function mbPerSecond(bytes: number, ms: number): number {
  return Math.round(bytes / 1e6 / (ms / 1000));
}

/** Runs `work`, sampling RSS; returns [ms, peak RSS in MB]. */
async function measure(work: () => Promise<void> | void): Promise<[number, number]> {
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const start = performance.now();
  await work();
  const ms = performance.now() - start;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  return [ms, Math.round(peak / 1e6)];
}

function line(what: string, bytes: number, ms: number, rss?: number): void {
  const rate = `${mbPerSecond(bytes, ms)} MB/s`.padStart(10);
  console.log(`${what.padEnd(66)} ${rate}${rss === undefined ? '' : `   peak RSS ${rss} MB`}`);
}

async function hashing(): Promise<void> {
  // 64 MiB hashed four times: 256 MiB through each path.
  const bytes = 256 * MiB;
  const memory = Buffer.allocUnsafe(64 * MiB);
  for (let at = 0; at < memory.length; at += MiB) block.copy(memory, at);
  // Warm up every path once.
  contentHash(memory.subarray(0, 16 * MiB));
  createHash('blake2b512')
    .update(memory.subarray(0, 16 * MiB))
    .digest();
  console.log(`hashing ${bytes / MiB} MiB in memory:`);
  let [ms] = await measure(() => {
    const out = Buffer.alloc(32);
    for (let i = 0; i < 4; i++) sodium.crypto_generichash(out, memory);
  });
  line('  libsodium BLAKE2b-256, one call per 64 MiB (the limit)', bytes, ms);
  [ms] = await measure(() => {
    const hasher = ContentHasher.start();
    for (let at = 0; at < bytes; at += MiB)
      hasher.update(memory.subarray(at % memory.length, (at % memory.length) + MiB));
    hasher.digest();
  });
  line('  ContentHasher, 1 MiB updates', bytes, ms);
  [ms] = await measure(() => {
    const hasher = ContentHasher.start();
    for (let i = 0; i < 4; i++)
      for (let at = 0; at < memory.length; at += 1200) hasher.update(memory.subarray(at, at + 1200));
    hasher.digest();
  });
  line('  ContentHasher, 1,200-byte updates', bytes, ms);
  [ms] = await measure(() => {
    const hash = createHash('blake2b512');
    for (let i = 0; i < 4; i++) hash.update(memory);
    hash.digest();
  });
  line('  node:crypto BLAKE2b-512 (OpenSSL), 64 MiB updates', bytes, ms);
}

async function writeFile(path: string): Promise<void> {
  const fd = openSync(path, 'w');
  for (let at = 0; at < total; at += MiB) writeSync(fd, block);
  fsyncSync(fd);
  closeSync(fd);
}

async function receive(folder: string, name: string, hash: string, syncEveryBytes: number): Promise<void> {
  const store = new PartialStore(folder, { syncEveryBytes });
  const file = await store.open({ senderKey: 'a1'.repeat(32), hash, size: total }, name);
  for (let at = 0; at < total; ) {
    const offset = at % MiB;
    const end = Math.min(offset + 1200, MiB);
    const waiting = file.write(at, block.subarray(offset, end));
    at += end - offset;
    if (waiting) await waiting;
  }
  await file.finish();
}

async function main(): Promise<void> {
  console.log(`RSS at the start: ${Math.round(process.memoryUsage().rss / 1e6)} MB`);
  const folder = mkdtempSync(join(tmpdir(), 'netchat-bench-files-'));
  try {
    console.log(`\na ${total / MiB} MiB file in ${folder}:`);
    let [ms, rss] = await measure(() => writeFile(join(folder, 'raw.bin')));
    line('  raw writeSync, 1 MiB blocks, one fsync (the disk)', total, ms, rss);
    const hasher = ContentHasher.start();
    for (let at = 0; at < total; at += MiB) hasher.update(block);
    const hash = hasher.digestHex();

    const source = await FileSource.open(join(folder, 'raw.bin'));
    await source.hash();
    [ms, rss] = await measure(async () => {
      if ((await source.hash()) !== hash) throw new Error('FileSource hashed something else');
    });
    await source.close();
    line('  FileSource.hash, in the page cache', total, ms, rss);
    rmSync(join(folder, 'raw.bin'));

    [ms, rss] = await measure(() => receive(folder, 'received.bin', hash, 16 * MiB));
    line('  PartialStore, 1,200-byte writes, fsync every 16 MiB, verified', total, ms, rss);
    rmSync(join(folder, 'received.bin'));
    [ms, rss] = await measure(() => receive(folder, 'received.bin', hash, Number.MAX_SAFE_INTEGER));
    line('  PartialStore, the same with one fsync at the end', total, ms, rss);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
  console.log('');
  await hashing();
}

await main();

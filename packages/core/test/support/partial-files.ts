/** Helpers for tests of the receiver's partial files: data, keys, feeding a PartialFile in chunks. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contentHash, FileTransferError, type PartialFile, type PartialKey } from '../../src/index.js';
import { seededRandom } from './random.js';

export const ALICE = 'a1'.repeat(32);
export const BOB = 'b2'.repeat(32);

/** `length` seeded pseudo-random bytes. */
export function randomData(length: number, seed = length): Buffer {
  const next = seededRandom(seed);
  const data = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) data[i] = Math.floor(next() * 256);
  return data;
}

export function keyOf(data: Uint8Array, senderKey = ALICE): PartialKey {
  return { senderKey, hash: contentHash(data), size: data.length };
}

/**
 * Writes `data[from, to)` into `file` in seeded chunks of 1 to `maxChunk` bytes (now and then one
 * several buffers long), waiting when the file asks to.
 */
export async function feed(
  file: PartialFile,
  data: Uint8Array,
  from = file.received,
  to = data.length,
  maxChunk = 3000,
) {
  const next = seededRandom(from + to);
  let at = from;
  while (at < to) {
    const size = next() < 0.02 ? Math.floor(next() * 300_000) + 1 : Math.floor(next() * maxChunk) + 1;
    const end = Math.min(to, at + size);
    const waiting = file.write(at, data.subarray(at, end));
    at = end;
    if (waiting) await waiting;
  }
}

/** A temporary folder, and what is in it (hidden entries too), removed by `remove`. */
export function temporaryFolder(prefix: string) {
  const folder = mkdtempSync(join(tmpdir(), `netchat-${prefix}-`));
  return {
    folder,
    entries: () => readdirSync(folder).sort(),
    remove: () => rmSync(folder, { recursive: true, force: true }),
  };
}

/** The FileTransferError `promise` rejects with (anything else is rethrown; no rejection fails the test). */
export async function failure(promise: Promise<unknown>): Promise<FileTransferError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof FileTransferError) return error;
    throw error;
  }
  throw new Error('did not fail');
}

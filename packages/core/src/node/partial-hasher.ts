/**
 * The hash state a partial taken up again goes on from: the one its state file saved (no byte
 * read again), or, if a libsodium of another layout saved it, the held bytes hashed again (read
 * once, 1 MiB at a time).
 */
import type { FileHandle } from 'node:fs/promises';
import { ContentHasher } from '../files/content-hash.js';
import type { PartialState } from './partial-state.js';

const HASH_READ_BYTES = 1024 * 1024;

export async function resumedHasher(state: PartialState, handle: FileHandle): Promise<ContentHasher> {
  const resumed = ContentHasher.resume(Buffer.from(state.hashState, 'base64'), state.hashFormat, state.held);
  if (resumed) return resumed;
  const hasher = ContentHasher.start();
  const buffer = Buffer.allocUnsafe(HASH_READ_BYTES);
  for (let position = 0; position < state.held; ) {
    const { bytesRead } = await handle.read(
      buffer,
      0,
      Math.min(buffer.length, state.held - position),
      position,
    );
    if (bytesRead === 0)
      throw Object.assign(new Error('the partial file is shorter than its state says'), { code: 'EIO' });
    hasher.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return hasher;
}

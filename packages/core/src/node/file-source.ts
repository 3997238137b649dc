/**
 * A file being sent: opened once, its size and modification time noted, then read in pieces at
 * offsets as the transfer pulls them (never the whole file in memory: a 1 GiB file costs the
 * caller's buffers, not a GiB), and hashed in one pass. A file that changes while it is hashed
 * or sent (its size or modification time moves, or it ends early) is noticed and reported as
 * `source_changed`, for the transfer to fail with that reason. The size and time are checked
 * (one fstat) every `checkEveryBytes` read (16 MiB) and at the end; the receiver's hash check
 * catches whatever changes between two checks.
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { ContentHasher } from '../files/content-hash.js';
import { FileTransferError, fileErrors } from '../files/file-errors.js';
import { fileProblem } from './home-files.js';

const MiB = 1024 * 1024;

export interface FileSourceOptions {
  /** Bytes read between two checks of the file's size and time (16 MiB). */
  readonly checkEveryBytes?: number;
}

export class FileSource {
  private readBytes = 0;
  private checkedAt = 0;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    /** Size when opened. */
    readonly size: number,
    /** Modification time when opened (ms since 1970; `mtimeNs` is the exact one). */
    readonly mtimeMs: number,
    private readonly mtimeNs: bigint,
    private readonly checkEveryBytes: number,
  ) {}

  /** Opens a regular file for sending. Throws FileTransferError `not_a_file` or `read_failed`. */
  static async open(path: string, options: FileSourceOptions = {}): Promise<FileSource> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      throw fileErrors.readFailed(path, fileProblem(error, true));
    }
    try {
      const stats = await handle.stat({ bigint: true });
      if (!stats.isFile())
        throw fileErrors.notAFile(path, stats.isDirectory() ? 'a folder' : 'a special file');
      return new FileSource(
        path,
        handle,
        Number(stats.size),
        Number(stats.mtimeMs),
        stats.mtimeNs,
        options.checkEveryBytes ?? 16 * MiB,
      );
    } catch (error) {
      await handle.close().catch(() => {});
      throw error instanceof FileTransferError
        ? error
        : fileErrors.readFailed(path, fileProblem(error, true));
    }
  }

  /** Throws `source_changed` if the file's size or modification time is not what it was when opened. */
  async check(): Promise<void> {
    let stats: Awaited<ReturnType<FileHandle['stat']>> & { mtimeNs: bigint };
    try {
      stats = await this.handle.stat({ bigint: true });
    } catch (error) {
      throw fileErrors.readFailed(this.path, fileProblem(error, true));
    }
    if (Number(stats.size) !== this.size)
      throw fileErrors.sourceChanged(this.path, `its size went from ${this.size} to ${stats.size} bytes`);
    if (stats.mtimeNs !== this.mtimeNs) throw fileErrors.sourceChanged(this.path, 'it was modified');
  }

  /**
   * Reads `length` bytes at `position` into `target` (from its start) and returns how many: as
   * many as asked, less only at the file's end. Never allocates. Throws `source_changed` if the
   * file ends before its size or changed, `read_failed` on an I/O error.
   */
  async readAt(position: number, target: Uint8Array, length = target.length): Promise<number> {
    const wanted = Math.max(0, Math.min(length, target.length, this.size - position));
    let done = 0;
    while (done < wanted) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await this.handle.read(target, done, wanted - done, position + done));
      } catch (error) {
        throw fileErrors.readFailed(this.path, fileProblem(error, true));
      }
      if (bytesRead === 0)
        throw fileErrors.sourceChanged(this.path, `it ends at ${position + done} bytes, not ${this.size}`);
      done += bytesRead;
    }
    this.readBytes += done;
    const atEnd = position + done >= this.size;
    if (atEnd || this.readBytes - this.checkedAt >= this.checkEveryBytes) {
      this.checkedAt = this.readBytes;
      await this.check();
    }
    return done;
  }

  /**
   * The file from `from` to its end in blocks of up to `blockBytes`, the next read while the
   * caller uses the current one (two buffers, reused: a block is valid until the next is asked for).
   */
  async *blocks(from = 0, blockBytes = MiB): AsyncGenerator<Uint8Array, void, undefined> {
    const buffers = [Buffer.allocUnsafe(blockBytes), Buffer.allocUnsafe(blockBytes)];
    let which = 0;
    let position = from;
    let next = position < this.size ? this.readAt(position, buffers[which] as Buffer) : undefined;
    while (next) {
      const count = await next;
      const block = (buffers[which] as Buffer).subarray(0, count);
      position += count;
      which ^= 1;
      next = position < this.size ? this.readAt(position, buffers[which] as Buffer) : undefined;
      // The read ahead must not fail unheard if the caller stops here: its error comes with the next block.
      next?.catch(() => {});
      yield block;
    }
  }

  /** The file's BLAKE2b-256 (hex), in one pass with one reused buffer; `onProgress` gets the bytes hashed. */
  async hash(onProgress?: (bytes: number) => void, blockBytes = MiB): Promise<string> {
    await this.check();
    const hasher = ContentHasher.start();
    for await (const block of this.blocks(0, blockBytes)) {
      hasher.update(block);
      onProgress?.(hasher.bytes);
    }
    await this.check();
    return hasher.digestHex();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close().catch(() => {});
  }
}

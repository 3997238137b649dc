/**
 * One file being received: its bytes go, in order, into a hidden partial file in the download
 * folder, and are hashed on the way; `finish` checks the size and the hash, fsyncs, and moves
 * the file into place under a name nobody has (place-file.ts). Made by `PartialStore.open`.
 *
 * Writing is buffered and pipelined: bytes are copied into one of two buffers (256 KiB each by
 * default, or the bytes still to come if fewer: a 4 KiB file takes 4 KiB; made at the first
 * write, so a file asked for ahead holds none until its bytes come); a full buffer is hashed and written at its offset while the other fills, so at most
 * one write is in flight and nothing is allocated per chunk. The caller may put the bytes into
 * the buffer itself (`lend`: the receive pipe reads the stream straight into it), and they are
 * then not copied again. `write` returns undefined when the
 * bytes were taken, or a promise when the caller must wait (both buffers busy) before the next.
 *
 * Durability: every `syncEveryBytes` (16 MiB by default) of written data, the partial file is
 * fdatasynced and only then does the state file record those bytes (with the hash state after
 * them), while further writes go on; writing waits if another period is written before the sync
 * ends. So the state never claims bytes that a crash could lose, and a crash costs at most about
 * twice `syncEveryBytes` plus the buffers, written again on resume. `close` (the transfer
 * interrupted) makes everything written durable and recorded. No fsync per chunk.
 *
 * A failure (the disk full, an I/O error) sticks: every later call rejects with it. The partial
 * and its last state stay for a later resume unless the transfer is cancelled, or ended with the
 * data not matching the offer (`size_mismatch`, `hash_mismatch`), which removes both.
 */
import type { FileHandle } from 'node:fs/promises';
import { lstat, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errors } from '../errors.js';
import type { ContentHasher } from '../files/content-hash.js';
import { FileTransferError, fileErrors } from '../files/file-errors.js';
import { fileProblem } from './home-files.js';
import type { PartialKey, PartialPaths } from './partial-state.js';
import { heldState, placedState, stateText } from './partial-state.js';
import { type LinkFile, placeFile } from './place-file.js';

/** How a partial file touches the disk: node's calls by default; tests pass their own to watch the order. */
export interface PartialIo {
  /** Makes what was written to `handle` durable (fdatasync). */
  sync(handle: FileHandle): Promise<void>;
  /** Writes the state file whole or not at all, durably. */
  saveState(paths: PartialPaths, text: string): Promise<void>;
  /** `link(2)`: fails with EEXIST, never replaces. */
  link: LinkFile;
}

export interface PartialFileSettings {
  readonly folder: string;
  readonly paths: PartialPaths;
  readonly bufferBytes: number;
  readonly syncEveryBytes: number;
  readonly io: PartialIo;
  readonly now: () => Date;
  /** Called once the file ended (finished, closed or cancelled): the store forgets it. */
  readonly release: () => void;
}

/** A file received whole and verified, in its place. */
export interface ReceivedFile {
  /** Where it is (the download folder joined with `relativePath`). */
  readonly path: string;
  /** The name it took: the offered one, or `name (1).ext` if that was taken. */
  readonly relativePath: string;
  readonly size: number;
  readonly hash: string;
}

export class PartialFile {
  /** Made at the first write or lend (`buffer`), each of `bufferBytes` or the bytes left if fewer. */
  private readonly buffers: [Buffer | undefined, Buffer | undefined] = [undefined, undefined];
  private current = 0;
  private fill = 0;
  private receivedBytes: number;
  private writtenBytes: number;
  private durableBytes: number;
  /** Where the last sync began: the policy counts from here. */
  private syncedFrom: number;
  /** The one write in flight; it never rejects (a failure is kept in `failure`). */
  private inFlight: Promise<void> | undefined;
  private syncing: Promise<void> | undefined;
  private pendingWrite: Promise<void> | undefined;
  private failure: FileTransferError | undefined;
  private ended = false;
  private handleClosed = false;
  /** The finish in progress or done (`keepPlaced` waits for it). */
  private finishing: Promise<ReceivedFile> | undefined;
  /** The transfer ended before the verdict: a placed file keeps its record (`keepPlaced`). */
  private keepRecord = false;
  private placedRecorded = false;
  /** The record `keepPlaced` writes after the finish. */
  private keeping: Promise<void> | undefined;
  /** A close or cancel in progress or done. */
  private closing: Promise<unknown> | undefined;

  constructor(
    readonly key: PartialKey,
    /** The safe relative path the file will take. */
    readonly name: string,
    /** Bytes already held durably when it was opened: where the sender goes on from. */
    readonly offset: number,
    private readonly handle: FileHandle,
    private readonly hasher: ContentHasher,
    private readonly settings: PartialFileSettings,
  ) {
    this.receivedBytes = offset;
    this.writtenBytes = offset;
    this.durableBytes = offset;
    this.syncedFrom = offset;
  }

  /** Bytes taken so far (buffered, written or durable): the next write's offset. */
  get received(): number {
    return this.receivedBytes;
  }

  /** Bytes fsynced and recorded in the state file: what a resume would go on from. */
  get durable(): number {
    return this.durableBytes;
  }

  /** The failure that stopped this file (every later write rejects with it), if one did. */
  get failed(): FileTransferError | undefined {
    return this.failure;
  }

  /** Bytes still to come. */
  get remaining(): number {
    return this.key.size - this.receivedBytes;
  }

  /**
   * Takes `data`, which must start at `received` (the bytes arrive in order). Undefined: taken, go
   * on. A promise: wait for it before the next write; it rejects with a FileTransferError if the
   * disk failed (`disk_full`: what was durable is kept) or the data goes past the offer's size.
   * Throws NetchatError `INVALID_ARGUMENT` for a write at another offset, after the end, or while
   * the previous one is pending.
   */
  write(offset: number, data: Uint8Array): Promise<void> | undefined {
    if (this.ended) throw errors.invalidArgument('write', 'the partial file has ended');
    if (this.pendingWrite) throw errors.invalidArgument('write', 'the previous write is still pending');
    if (offset !== this.receivedBytes)
      throw errors.invalidArgument(
        'write offset',
        `${offset}; the next byte expected is ${this.receivedBytes}`,
      );
    if (this.failure) return Promise.reject(this.failure);
    if (offset + data.length > this.key.size) {
      this.failure = fileErrors.sizeMismatch(this.name, this.key.size, offset + data.length);
      return Promise.reject(this.failure);
    }
    const buffer = this.buffer();
    if (data.length < buffer.length - this.fill) {
      if (!this.isLent(data, buffer)) buffer.set(data, this.fill);
      this.fill += data.length;
      this.receivedBytes += data.length;
      return undefined;
    }
    const pending = this.writeThroughBuffers(data).finally(() => {
      this.pendingWrite = undefined;
    });
    this.pendingWrite = pending;
    return pending;
  }

  /**
   * The free rest of the buffer being filled, for the caller to put the next bytes straight into
   * (a write of a view of it from its start takes them without a copy); untouched here until that
   * write. Undefined while a write must be waited for, after a failure, or once the file ended.
   */
  lend(): Uint8Array | undefined {
    if (this.ended || this.failure || this.pendingWrite) return undefined;
    const buffer = this.buffer();
    return this.fill < buffer.length ? buffer.subarray(this.fill) : undefined;
  }

  /**
   * The buffer being filled, made the first time it is needed: `bufferBytes`, or the bytes still
   * to come from here if fewer (at least 1), so a small file costs its size, not two chunks.
   */
  private buffer(): Buffer {
    let buffer = this.buffers[this.current];
    if (!buffer) {
      const left = this.key.size - this.receivedBytes;
      buffer = Buffer.allocUnsafe(Math.max(1, Math.min(this.settings.bufferBytes, left)));
      this.buffers[this.current] = buffer;
    }
    return buffer;
  }

  /** Whether `data` is where the next bytes go in `buffer` already (lent: `lend`). */
  private isLent(data: Uint8Array, buffer: Buffer): boolean {
    return data.buffer === buffer.buffer && data.byteOffset === buffer.byteOffset + this.fill;
  }

  /**
   * The file is complete: checks its size and hash, makes it durable and moves it into place.
   * On a size or hash mismatch, the partial and its state are removed and the error thrown. On a
   * disk failure, or when it cannot be placed (a file where its folder should be, no free name),
   * the partial is kept (complete, if it was) for a later attempt and the error thrown.
   */
  finish(): Promise<ReceivedFile> {
    this.finishing = this.finishFile();
    return this.finishing;
  }

  /**
   * The transfer ended while this file was being finished (its sender will hear no verdict, and
   * offers it again): if the finish places the file, the state file stays and says where
   * (`placed`), so the next offer of it is answered from there (placed-file.ts). Resolves once
   * that is recorded, or the finish failed; never rejects.
   */
  keepPlaced(): Promise<void> {
    this.keepRecord = true;
    this.keeping = (async () => {
      const placed = await this.finishing?.catch(() => undefined);
      if (placed && !this.placedRecorded) await this.recordPlaced(placed).catch(() => {});
    })();
    return this.keeping;
  }

  /**
   * Resolves once a finish, close or cancel in progress ended (and the record `keepPlaced` asked
   * for is written): at once if none is, or while the file is still being written. Never rejects.
   */
  async finished(): Promise<void> {
    await this.finishing?.catch(() => undefined);
    await this.keeping;
    await this.closing?.catch(() => undefined);
  }

  private async finishFile(): Promise<ReceivedFile> {
    this.end();
    try {
      await this.drain();
      // Data past the offer's size is a mismatch too: nothing is kept of it.
      if (this.failure?.code === 'size_mismatch') throw await this.discard(this.failure);
      if (this.failure) throw this.failure;
      if (this.receivedBytes !== this.key.size)
        throw await this.discard(fileErrors.sizeMismatch(this.name, this.key.size, this.receivedBytes));
      if (this.hasher.digestHex() !== this.key.hash)
        throw await this.discard(fileErrors.hashMismatch(this.name));
      await this.settings.io.sync(this.handle);
      await this.closeHandle();
      let relativePath: string;
      try {
        relativePath = await placeFile(
          this.settings.paths.data,
          this.settings.folder,
          this.name,
          this.settings.io.link,
        );
      } catch (error) {
        // Verified and complete: recorded so, for a later attempt to place it.
        await this.record(this.key.size).catch(() => {});
        throw error;
      }
      const placed = {
        path: join(this.settings.folder, ...relativePath.split('/')),
        relativePath,
        size: this.key.size,
        hash: this.key.hash,
      };
      if (this.keepRecord) await this.recordPlaced(placed).catch(() => {});
      else await rm(this.settings.paths.state, { force: true }).catch(() => {});
      return placed;
    } catch (error) {
      throw this.fileError(error);
    } finally {
      await this.closeHandle();
      this.settings.release();
    }
  }

  /**
   * The transfer was interrupted (the peer lost, the chat closed, the program stopping): what was
   * written is made durable and recorded, and the partial kept for a resume. Returns the bytes
   * kept (a later `PartialStore.open` goes on from there). After a disk failure, what was durable
   * before it is kept.
   */
  close(): Promise<number> {
    if (this.ended) {
      const durable = () => this.durableBytes;
      return this.closing ? this.closing.then(durable, durable) : Promise.resolve(this.durableBytes);
    }
    const closing = this.closeFile();
    this.closing = closing;
    return closing;
  }

  private async closeFile(): Promise<number> {
    this.end();
    try {
      await this.drain();
      if (!this.failure && this.writtenBytes > this.durableBytes) {
        this.startSync();
        await this.syncing;
      }
    } finally {
      await this.closeHandle();
      this.settings.release();
    }
    return this.durableBytes;
  }

  /** The transfer was cancelled (by either side): the partial and its state are removed. */
  cancel(): Promise<void> {
    if (this.ended) return Promise.resolve();
    const cancelling = this.cancelFile();
    this.closing = cancelling;
    return cancelling;
  }

  private async cancelFile(): Promise<void> {
    this.end();
    try {
      await this.settle();
    } finally {
      await this.closeHandle();
      await this.removeFiles();
      this.settings.release();
    }
  }

  private end(): void {
    if (this.ended) throw errors.invalidArgument('partial file', 'it has already ended');
    this.ended = true;
  }

  private async writeThroughBuffers(data: Uint8Array): Promise<void> {
    let from = 0;
    while (from < data.length) {
      const buffer = this.buffer();
      const n = Math.min(buffer.length - this.fill, data.length - from);
      if (from > 0 || !this.isLent(data, buffer))
        buffer.set(from === 0 && n === data.length ? data : data.subarray(from, from + n), this.fill);
      this.fill += n;
      this.receivedBytes += n;
      from += n;
      if (this.fill === buffer.length) {
        if (this.inFlight) await this.inFlight;
        // A disk slower to sync than the data comes: wait, so a crash never loses more than about two periods.
        while (this.syncing && this.writtenBytes - this.syncedFrom >= this.settings.syncEveryBytes)
          await this.syncing;
        if (this.failure) throw this.failure;
        this.startWrite();
      }
    }
  }

  /** Hashes the current buffer and writes it at its offset; the other buffer becomes current. */
  private startWrite(): void {
    if (this.fill === 0) return;
    const data = this.buffer().subarray(0, this.fill);
    const position = this.receivedBytes - this.fill;
    this.hasher.update(data);
    this.current ^= 1;
    this.fill = 0;
    this.inFlight = this.writeAll(data, position).then(
      () => {
        this.inFlight = undefined;
        this.writtenBytes = position + data.length;
        // The hash state now covers exactly the written bytes: the next buffer waits for this one.
        if (!this.syncing && this.writtenBytes - this.syncedFrom >= this.settings.syncEveryBytes)
          this.startSync();
      },
      (error) => {
        this.inFlight = undefined;
        this.fail(error);
      },
    );
  }

  private async writeAll(data: Buffer, position: number): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.handle.write(data, done, data.length - done, position + done);
      done += bytesWritten;
    }
  }

  /** fdatasync, then the state records the written bytes: only bytes on the disk are ever claimed. */
  private startSync(): void {
    const upTo = this.writtenBytes;
    const hashState = Buffer.from(this.hasher.exportState()).toString('base64');
    this.syncedFrom = upTo;
    this.syncing = (async () => {
      await this.settings.io.sync(this.handle);
      await this.record(upTo, hashState);
      this.durableBytes = upTo;
    })().then(
      () => {
        this.syncing = undefined;
      },
      (error) => {
        this.syncing = undefined;
        this.fail(error);
      },
    );
  }

  /** The state says the file is verified and placed at `placed` (no partial is left of it). */
  private async recordPlaced(placed: ReceivedFile): Promise<void> {
    const { mtimeMs } = await lstat(placed.path);
    const state = placedState(this.key, this.name, placed.relativePath, mtimeMs, this.settings.now());
    await this.settings.io.saveState(this.settings.paths, stateText(state));
    this.placedRecorded = true;
  }

  private record(held: number, hashState = Buffer.from(this.hasher.exportState()).toString('base64')) {
    const text = stateText(heldState(this.key, this.name, held, hashState, this.settings.now()));
    return this.settings.io.saveState(this.settings.paths, text);
  }

  /** Everything taken written, and the sync in progress done (a failure is left in `failure`). */
  private async drain(): Promise<void> {
    await this.settle();
    if (!this.failure && this.fill > 0) {
      this.startWrite();
      await this.inFlight;
    }
    if (this.syncing) await this.syncing;
  }

  /** Waits for whatever is in progress, whatever its outcome. */
  private async settle(): Promise<void> {
    if (this.pendingWrite) await this.pendingWrite.catch(() => {});
    if (this.inFlight) await this.inFlight;
    if (this.syncing) await this.syncing;
  }

  private fail(error: unknown): void {
    if (!this.failure) this.failure = this.fileError(error);
  }

  /** A system error as a FileTransferError: a full disk or quota is `disk_full`, the rest `write_failed`. */
  private fileError(error: unknown): FileTransferError {
    if (error instanceof FileTransferError) return error;
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ENOSPC' || code === 'EDQUOT') return fileErrors.diskFull(this.name, this.durableBytes);
    return fileErrors.writeFailed(this.name, fileProblem(error));
  }

  private async discard(error: FileTransferError): Promise<FileTransferError> {
    await this.closeHandle();
    await this.removeFiles();
    return error;
  }

  private async closeHandle(): Promise<void> {
    if (this.handleClosed) return;
    this.handleClosed = true;
    await this.handle.close().catch(() => {});
  }

  private async removeFiles(): Promise<void> {
    const { data, state, temporary } = this.settings.paths;
    await Promise.all([data, state, temporary].map((path) => rm(path, { force: true }).catch(() => {})));
  }
}

/**
 * The bytes of one file being received, on their way into its partial file (partial-file.ts has
 * the file's life: finish, close, cancel): taken in order, hashed, written and made durable.
 *
 * Writing is buffered and pipelined: bytes are copied into one of two buffers (256 KiB each by
 * default, or the bytes still to come if fewer: a 4 KiB file takes 4 KiB; made at the first
 * write, so a file asked for ahead holds none until its bytes come); a full buffer is hashed and
 * written at its offset while the other fills, so at most one write is in flight and nothing is
 * allocated per chunk. The caller may put the bytes into the buffer itself (`lend`: the receive
 * pipe reads the stream straight into it), and they are then not copied again. `write` returns
 * undefined when the bytes were taken, or a promise when the caller must wait (both buffers busy)
 * before the next.
 *
 * Durability: every `syncEveryBytes` (16 MiB by default) of written data, the partial file is
 * fdatasynced and only then does the state file record those bytes (with the hash state after
 * them), while further writes go on; writing waits if another period is written before the sync
 * ends. So the state never claims bytes that a crash could lose, and a crash costs at most about
 * twice `syncEveryBytes` plus the buffers, written again on resume. No fsync per chunk.
 *
 * A failure (the disk full, an I/O error) sticks: every later call rejects with it.
 */
import type { FileHandle } from 'node:fs/promises';
import { errors } from '../errors.js';
import type { ContentHasher } from '../files/content-hash.js';
import { FileTransferError, fileErrors } from '../files/file-errors.js';
import { fileProblem } from './home-files.js';

export interface PartialWritesSettings {
  /** The file's name (in errors) and size (no byte past it is taken). */
  readonly name: string;
  readonly size: number;
  readonly bufferBytes: number;
  readonly syncEveryBytes: number;
  /** Makes what was written durable (fdatasync). */
  readonly sync: (handle: FileHandle) => Promise<void>;
  /** Records in the state file that `held` bytes are durable, with the hash state after them. */
  readonly record: (held: number, hashState: string) => Promise<void>;
}

export class PartialWrites {
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

  constructor(
    /** Bytes already held durably: the first write's offset. */
    offset: number,
    private readonly handle: FileHandle,
    readonly hasher: ContentHasher,
    private readonly settings: PartialWritesSettings,
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

  /** Bytes written to the file (not all of them durable yet). */
  get written(): number {
    return this.writtenBytes;
  }

  /** Bytes fsynced and recorded in the state file: what a resume would go on from. */
  get durable(): number {
    return this.durableBytes;
  }

  /** The failure that stopped this file (every later write rejects with it), if one did. */
  get failed(): FileTransferError | undefined {
    return this.failure;
  }

  /** Takes `data` at `offset` (PartialFile.write says what comes back and what throws). */
  write(offset: number, data: Uint8Array): Promise<void> | undefined {
    if (this.pendingWrite) throw errors.invalidArgument('write', 'the previous write is still pending');
    if (offset !== this.receivedBytes)
      throw errors.invalidArgument(
        'write offset',
        `${offset}; the next byte expected is ${this.receivedBytes}`,
      );
    if (this.failure) return this.rejection();
    if (offset + data.length > this.settings.size) {
      this.failure = fileErrors.sizeMismatch(this.settings.name, this.settings.size, offset + data.length);
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

  /** The free rest of the buffer being filled (PartialFile.lend); undefined while a write must be waited for, or after a failure. */
  lend(): Uint8Array | undefined {
    if (this.failure || this.pendingWrite) return undefined;
    const buffer = this.buffer();
    return this.fill < buffer.length ? buffer.subarray(this.fill) : undefined;
  }

  /** Makes everything written durable and recorded (unless a failure came first). */
  async syncAll(): Promise<void> {
    if (!this.failure && this.writtenBytes > this.durableBytes) {
      this.startSync();
      await this.syncing;
    }
  }

  /** Everything taken written, and the sync in progress done (a failure is left in `failed`). */
  async drain(): Promise<void> {
    await this.settle();
    if (!this.failure && this.fill > 0) {
      this.startWrite();
      await this.inFlight;
    }
    if (this.syncing) await this.syncing;
  }

  /** Waits for whatever is in progress, whatever its outcome. */
  async settle(): Promise<void> {
    if (this.pendingWrite) await this.pendingWrite.catch(() => {});
    if (this.inFlight) await this.inFlight;
    if (this.syncing) await this.syncing;
  }

  /**
   * `failure` in the words of what is kept: a `disk_full` made before a sync ended says the bytes
   * durable now (a sync in progress when the disk filled may have recorded more since).
   */
  keptFailure(failure: FileTransferError): FileTransferError {
    return failure.code === 'disk_full'
      ? fileErrors.diskFull(this.settings.name, this.durableBytes)
      : failure;
  }

  /** Rejects with the failure once no sync is in progress: what it says is kept stays so. */
  private async rejection(): Promise<never> {
    if (this.syncing) await this.syncing;
    throw this.keptFailure(this.failure ?? fileErrors.writeFailed(this.settings.name, 'it failed'));
  }

  /** A system error as a FileTransferError: a full disk or quota is `disk_full`, the rest `write_failed`. */
  fileError(error: unknown): FileTransferError {
    if (error instanceof FileTransferError) return error;
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ENOSPC' || code === 'EDQUOT')
      return fileErrors.diskFull(this.settings.name, this.durableBytes);
    return fileErrors.writeFailed(this.settings.name, fileProblem(error));
  }

  /**
   * The buffer being filled, made the first time it is needed: `bufferBytes`, or the bytes still
   * to come from here if fewer (at least 1), so a small file costs its size, not two chunks.
   */
  private buffer(): Buffer {
    let buffer = this.buffers[this.current];
    if (!buffer) {
      const left = this.settings.size - this.receivedBytes;
      buffer = Buffer.allocUnsafe(Math.max(1, Math.min(this.settings.bufferBytes, left)));
      this.buffers[this.current] = buffer;
    }
    return buffer;
  }

  /** Whether `data` is where the next bytes go in `buffer` already (lent: `lend`). */
  private isLent(data: Uint8Array, buffer: Buffer): boolean {
    return data.buffer === buffer.buffer && data.byteOffset === buffer.byteOffset + this.fill;
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
        if (this.failure) return this.rejection();
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
        // After a failure nothing more is recorded: what its message says is kept stays so.
        if (
          !this.failure &&
          !this.syncing &&
          this.writtenBytes - this.syncedFrom >= this.settings.syncEveryBytes
        )
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
      await this.settings.sync(this.handle);
      await this.settings.record(upTo, hashState);
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

  private fail(error: unknown): void {
    if (!this.failure) this.failure = this.fileError(error);
  }
}

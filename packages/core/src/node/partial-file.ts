/**
 * One file being received: its bytes go, in order, into a hidden partial file in the download
 * folder, and are hashed on the way; `finish` checks the size and the hash, fsyncs, and moves
 * the file into place under a name nobody has (place-file.ts). Made by `PartialStore.open`.
 *
 * Its bytes are taken, hashed, written and made durable every `syncEveryBytes` by
 * partial-writes.ts; `close` (the transfer interrupted) makes everything written durable and
 * recorded.
 *
 * A failure (the disk full, an I/O error) sticks: every later call rejects with it. What the
 * last state records stays for a later resume (the bytes past it are cut; with nothing recorded,
 * nothing stays) unless the transfer is cancelled, or ended with the data not matching the offer
 * (`size_mismatch`, `hash_mismatch`), which removes both.
 */
import type { FileHandle } from 'node:fs/promises';
import { lstat, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errors } from '../errors.js';
import type { ContentHasher } from '../files/content-hash.js';
import type { FileTransferError } from '../files/file-errors.js';
import { fileErrors } from '../files/file-errors.js';
import { type FolderIdentity, stillSameFolder } from './folder-identity.js';
import type { PartialKey, PartialPaths } from './partial-state.js';
import { heldState, placedState, stateText } from './partial-state.js';
import { PartialWrites } from './partial-writes.js';
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
  /** The download folder's identity: checked before the file is placed or its partial removed. */
  readonly identity?: FolderIdentity;
  readonly paths: PartialPaths;
  /** Whether a state file of it may be there (false for a new partial: none is, until one is saved). */
  readonly stateOnDisk?: boolean;
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
  private readonly writes: PartialWrites;
  /** A state file of it may be there (found at the open, or saved since): the finish removes it. */
  private stateSaved: boolean;
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
    this.stateSaved = settings.stateOnDisk ?? true;
    this.writes = new PartialWrites(offset, handle, hasher, {
      name,
      size: key.size,
      bufferBytes: settings.bufferBytes,
      syncEveryBytes: settings.syncEveryBytes,
      sync: (h) => settings.io.sync(h),
      record: (held, hashState) => this.record(held, hashState),
    });
  }

  /** Bytes taken so far (buffered, written or durable): the next write's offset. */
  get received(): number {
    return this.writes.received;
  }

  /** Bytes fsynced and recorded in the state file: what a resume would go on from. */
  get durable(): number {
    return this.writes.durable;
  }

  /** The failure that stopped this file (every later write rejects with it), if one did. */
  get failed(): FileTransferError | undefined {
    return this.writes.failed;
  }

  /** Bytes still to come. */
  get remaining(): number {
    return this.key.size - this.writes.received;
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
    return this.writes.write(offset, data);
  }

  /**
   * The free rest of the buffer being filled, for the caller to put the next bytes straight into
   * (a write of a view of it from its start takes them without a copy); untouched here until that
   * write. Undefined while a write must be waited for, after a failure, or once the file ended.
   */
  lend(): Uint8Array | undefined {
    return this.ended ? undefined : this.writes.lend();
  }

  /**
   * The file is complete: checks its size and hash, makes it durable and moves it into place.
   * On a size or hash mismatch, the partial and its state are removed and the error thrown. On a
   * disk failure before the file is complete and synced, what its state records is kept (`close`)
   * and the error thrown. When it cannot be placed (a file where its folder should be, no free
   * name), the complete partial is kept for a later attempt and the error thrown.
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
      await this.writes.drain();
      const failure = this.writes.failed;
      // Data past the offer's size is a mismatch too: nothing is kept of it.
      if (failure?.code === 'size_mismatch') throw await this.discard(failure);
      if (failure) {
        await this.keepDurable();
        throw this.writes.keptFailure(failure);
      }
      const received = this.writes.received;
      if (received !== this.key.size)
        throw await this.discard(fileErrors.sizeMismatch(this.name, this.key.size, received));
      if (this.hasher.digestHex() !== this.key.hash)
        throw await this.discard(fileErrors.hashMismatch(this.name));
      await this.settings.io.sync(this.handle).catch(async (error: unknown) => {
        await this.keepDurable();
        throw this.writes.fileError(error);
      });
      await this.closeHandle();
      let relativePath: string;
      try {
        relativePath = await placeFile(
          this.settings.paths.data,
          this.settings.folder,
          this.name,
          this.settings.io.link,
          this.settings.identity,
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
      else if (this.stateSaved) await rm(this.settings.paths.state, { force: true }).catch(() => {});
      return placed;
    } catch (error) {
      throw this.writes.fileError(error);
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
      const durable = () => this.writes.durable;
      return this.closing ? this.closing.then(durable, durable) : Promise.resolve(this.writes.durable);
    }
    const closing = this.closeFile();
    this.closing = closing;
    return closing;
  }

  private async closeFile(): Promise<number> {
    this.end();
    try {
      await this.writes.drain();
      await this.writes.syncAll();
    } finally {
      await this.keepDurable();
      this.settings.release();
    }
    return this.writes.durable;
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
      await this.writes.settle();
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

  /** The state says the file is verified and placed at `placed` (no partial is left of it). */
  private async recordPlaced(placed: ReceivedFile): Promise<void> {
    const { mtimeMs, ctimeMs } = await lstat(placed.path);
    const state = placedState(
      this.key,
      this.name,
      placed.relativePath,
      mtimeMs,
      this.settings.now(),
      ctimeMs,
    );
    this.stateSaved = true;
    await this.settings.io.saveState(this.settings.paths, stateText(state));
    this.placedRecorded = true;
  }

  private record(held: number, hashState = Buffer.from(this.hasher.exportState()).toString('base64')) {
    const text = stateText(heldState(this.key, this.name, held, hashState, this.settings.now()));
    this.stateSaved = true;
    return this.settings.io.saveState(this.settings.paths, text);
  }

  /**
   * Keeps only what the state records (the file stopped short: interrupted, or the disk failed).
   * Nothing durable: nothing to resume from, so the partial goes (a stranger whose files' data
   * never came left an empty partial of each, kept 7 days, 176 for 32 offers in 2 s; a disk that
   * filled before the first sync kept 3.2 MB of a file we said we kept nothing of, and stayed
   * full). Some: the bytes past it, which a resume writes again anyway, are cut, so a full disk
   * gets their room back at once.
   */
  private async keepDurable(): Promise<void> {
    // A sync in progress may still record more: what it records is kept.
    await this.writes.settle();
    const durable = this.writes.durable;
    // Only when there is more (a truncate moves the modification time: a resume's touch stays).
    const onDisk = await this.handle.stat().then(
      (s) => s.size,
      () => durable,
    );
    // A truncate that fails leaves bytes past the state's count: a resume writes over them and
    // the stale sweep removes an abandoned partial, so nothing reads them; only their room waits.
    if (durable > 0 && onDisk > durable) await this.handle.truncate(durable).catch(() => {});
    await this.closeHandle();
    if (durable === 0) await this.removeFiles();
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
    // The download folder replaced by a link: nothing is removed through it.
    if (!(await stillSameFolder(this.settings.identity))) return;
    const { data, state, temporary } = this.settings.paths;
    await Promise.all([data, state, temporary].map((path) => rm(path, { force: true }).catch(() => {})));
  }
}

/**
 * The file engine's storage on the disk: what FileTransfers asks (storage-requests.ts), done with
 * FileSource (the sender's files, read at offsets, a change of size or time noticed) and
 * PartialStore (the receiver's partial files: written with backpressure, fsynced, verified,
 * placed). A write the partial file takes into its buffer is answered at once; one that must wait
 * for the disk is answered when it may go on, so the engine reads from its stream only as fast as
 * the disk writes.
 *
 * A file is opened for sending at its first read, and checked against what was hashed (size and
 * modification time): a file changed since it was offered fails with `source_changed`.
 */
import { FileTransferError, fileErrors } from '../files/file-errors.js';
import type { TransferId } from '../files/file-events.js';
import type { StorageOutcome, StorageRequest } from '../files/storage-requests.js';
import { FileSource } from './file-source.js';
import { fileProblem } from './home-files.js';
import type { PartialFile } from './partial-file.js';
import type { PartialKey } from './partial-state.js';
import type { PartialStore } from './partial-store.js';
import type { PlacedFile } from './placed-file.js';

/** A file we offered: where it is, and what it was when hashed. */
export interface SourceFile {
  readonly source: string;
  readonly size: number;
  readonly mtimeMs: number;
}

interface Sending {
  readonly file: SourceFile;
  opened: Promise<FileSource> | undefined;
}

interface Receiving {
  readonly store: PartialStore;
  readonly key: PartialKey;
  partial: PartialFile | PlacedFile | undefined;
  /** Its finish is in progress (answered, it is forgotten). */
  finishing: boolean;
  /** What the partial lent with the last write's answer (the next write's bytes should be in it). */
  lent: Uint8Array | undefined;
}

/** What the storage read and wrote (the benchmark's "no side reads a file more often than it must"). */
export interface StorageStats {
  bytesRead: number;
  /** Reads that went into a chunk buffer the engine handed back (the rest allocated one). */
  readsIntoSpare: number;
  bytesWritten: number;
  /** Of `bytesWritten`, those read from the stream straight into the partial's buffer it lent (no copy). */
  bytesWrittenLent: number;
  sourcesOpened: number;
  partialsOpened: number;
}

export type Answer = (id: number, outcome: StorageOutcome) => void;

export class DiskStorage {
  private readonly sending = new Map<string, Sending>();
  private readonly receiving = new Map<string, Receiving>();
  private readonly stores = new Map<TransferId, PartialStore>();
  /** Finishes in progress, per transfer: its store is kept until they are answered (`forget`). */
  private readonly finishes = new Map<TransferId, number>();
  private readonly forgotten = new Set<TransferId>();
  private readonly inProgress = new Set<Promise<unknown>>();
  readonly stats: StorageStats = {
    bytesRead: 0,
    readsIntoSpare: 0,
    bytesWritten: 0,
    bytesWrittenLent: 0,
    sourcesOpened: 0,
    partialsOpened: 0,
  };

  /** The files of an offer we made, by index. */
  addSources(transfer: TransferId, files: readonly SourceFile[]): void {
    files.forEach((file, index) => {
      this.sending.set(at(transfer, index), { file, opened: undefined });
    });
  }

  /** Where the files of an accepted offer go. */
  setStore(transfer: TransferId, store: PartialStore): void {
    this.stores.set(transfer, store);
  }

  storeOf(transfer: TransferId): PartialStore | undefined {
    return this.stores.get(transfer);
  }

  /**
   * Forgets what a transfer that ended kept here (its sources are closed by their release); its
   * store once its finishes in progress are answered (a file placed after its transfer ended is
   * still told, with its folder).
   */
  forget(transfer: TransferId): void {
    if (this.finishes.has(transfer)) this.forgotten.add(transfer);
    else this.stores.delete(transfer);
  }

  /** Does `request`; `answer` is called once for a request with an id (at once, or later). */
  perform(request: StorageRequest, answer: Answer): void {
    const key = at(request.transfer, request.file);
    switch (request.kind) {
      case 'read':
        this.track(this.read(key, request.offset, request.length, request.into), request.id, answer);
        return;
      case 'release': {
        const sending = this.sending.get(key);
        this.sending.delete(key);
        if (sending?.opened) this.track(sending.opened.then((s) => s.close()).catch(() => {}));
        return;
      }
      case 'open': {
        const store = this.stores.get(request.transfer);
        if (!store) {
          answer(
            request.id,
            failure(fileErrors.writeFailed(request.name, 'no download folder for this transfer')),
          );
          return;
        }
        const receiving: Receiving = {
          store,
          key: { senderKey: request.senderKey, hash: request.hash, size: request.size },
          partial: undefined,
          finishing: false,
          lent: undefined,
        };
        this.receiving.set(key, receiving);
        const opened = store.receive(receiving.key, request.name).then((partial) => {
          receiving.partial = partial;
          this.stats.partialsOpened++;
          return { ok: true, offset: partial.offset } as StorageOutcome;
        });
        this.track(opened, request.id, answer);
        return;
      }
      case 'write': {
        const receiving = this.receiving.get(key);
        const partial = receiving?.partial;
        if (!receiving || !partial) {
          answer(request.id, failure(fileErrors.writeFailed(key, 'the partial file is not open')));
          return;
        }
        let waiting: Promise<void> | undefined;
        try {
          waiting = partial.write(request.offset, request.bytes);
        } catch (error) {
          answer(request.id, failure(error));
          return;
        }
        this.stats.bytesWritten += request.bytes.length;
        const lent = receiving.lent;
        if (lent && request.bytes.buffer === lent.buffer && request.bytes.byteOffset === lent.byteOffset)
          this.stats.bytesWrittenLent += request.bytes.length;
        receiving.lent = undefined;
        // The next bytes go straight into the partial's buffer (`into`): copied once, from the stream.
        const taken = (): StorageOutcome => {
          receiving.lent = partial.lend();
          return receiving.lent ? { ok: true, into: receiving.lent } : { ok: true };
        };
        if (!waiting) answer(request.id, taken());
        else this.track(waiting.then(taken), request.id, answer);
        return;
      }
      case 'finish': {
        const receiving = this.receiving.get(key);
        const partial = receiving?.partial;
        if (!receiving || !partial) {
          this.receiving.delete(key);
          answer(request.id, failure(fileErrors.writeFailed(key, 'the partial file is not open')));
          return;
        }
        receiving.finishing = true;
        const transfer = request.transfer;
        this.finishes.set(transfer, (this.finishes.get(transfer) ?? 0) + 1);
        const finished = partial
          .finish()
          .then((placed) => ({ ok: true, path: placed.relativePath }) as StorageOutcome);
        // Another offer of the same content waits: it is answered from where this one is placed.
        if (request.keepRecord) this.track(partial.keepPlaced());
        // Kept while the answer is given (what the engine asks then, a discard, finds it), then forgotten.
        this.track(finished, request.id, (id, outcome) => {
          try {
            answer(id, outcome);
          } finally {
            if (this.receiving.get(key) === receiving) this.receiving.delete(key);
            this.finishDone(transfer);
          }
        });
        return;
      }
      case 'close': {
        const receiving = this.receiving.get(key);
        if (receiving?.finishing && receiving.partial) {
          // Ended while finishing: the finish goes on, and a file it places stays recorded.
          this.track(receiving.partial.keepPlaced());
          return;
        }
        this.receiving.delete(key);
        if (receiving?.partial) this.track(receiving.partial.close().catch(() => 0));
        return;
      }
      case 'discard': {
        const receiving = this.receiving.get(key);
        this.receiving.delete(key);
        if (!receiving) return;
        const { partial, store, key: partialKey } = receiving;
        // An open partial is cancelled (removed); what a failed finish left is removed from the store.
        const removal = (partial ? partial.cancel() : Promise.resolve()).then(() =>
          store.discard(partialKey),
        );
        this.track(removal.catch(() => {}));
        return;
      }
    }
  }

  private finishDone(transfer: TransferId): void {
    const left = (this.finishes.get(transfer) ?? 1) - 1;
    if (left > 0) {
      this.finishes.set(transfer, left);
      return;
    }
    this.finishes.delete(transfer);
    if (this.forgotten.delete(transfer)) this.stores.delete(transfer);
  }

  /** Resolves when nothing is in progress (at shutdown, after the transfers were interrupted). */
  async idle(): Promise<void> {
    while (this.inProgress.size > 0) await Promise.allSettled([...this.inProgress]);
  }

  /** Into the engine's spare chunk when it gives one (no allocation per chunk), else a new buffer. */
  private async read(
    key: string,
    offset: number,
    length: number,
    into: Uint8Array | undefined,
  ): Promise<StorageOutcome> {
    const sending = this.sending.get(key);
    if (!sending) throw fileErrors.readFailed(key, 'the file is not being sent');
    sending.opened ??= this.openSource(sending.file);
    const source = await sending.opened;
    const target = into && into.length >= length ? into : Buffer.allocUnsafe(length);
    const got = await source.readAt(offset, target, length);
    this.stats.bytesRead += got;
    if (into === target) this.stats.readsIntoSpare++;
    return { ok: true, bytes: got === target.length ? target : target.subarray(0, got) };
  }

  private async openSource(file: SourceFile): Promise<FileSource> {
    const source = await FileSource.open(file.source);
    this.stats.sourcesOpened++;
    if (source.size !== file.size || source.mtimeMs !== file.mtimeMs) {
      await source.close();
      throw fileErrors.sourceChanged(
        file.source,
        source.size !== file.size
          ? `its size went from ${file.size} to ${source.size} bytes`
          : 'it was modified',
      );
    }
    return source;
  }

  private track(work: Promise<unknown>, id?: number, answer?: Answer): void {
    const done = work.then(
      (outcome) => {
        if (id !== undefined) answer?.(id, outcome as StorageOutcome);
      },
      (error: unknown) => {
        if (id !== undefined) answer?.(id, failure(error));
      },
    );
    this.inProgress.add(done);
    void done.finally(() => this.inProgress.delete(done));
  }
}

function at(transfer: TransferId, file: number): string {
  return `${transfer}/${file}`;
}

function failure(error: unknown): StorageOutcome {
  const e = error instanceof FileTransferError ? error : fileErrors.writeFailed('a file', fileProblem(error));
  return { ok: false, code: e.code, message: e.message };
}

/**
 * The receiver's side of file transfers on disk, in one download folder: a hidden partial file
 * and a small state file per file being received (partial-state.ts), found again by the
 * transfer's identity (sender key, hash, size) after an interruption or a restart of either
 * program; the room check before an offer is accepted. A `PartialFile` (partial-file.ts) writes
 * one file, verifies it and moves it into place.
 *
 * Within one process a file is received once at a time (`busy`). Two programs sharing one
 * download folder and receiving the same file from the same sender at the same moment are not
 * kept apart.
 *
 * The folder is held to the one first opened (folder-identity.ts): before a partial or its state
 * is made, written or removed, and before a file is placed, a download folder moved away and
 * replaced by a link meanwhile is refused (`not_a_folder`), and nothing is made through it.
 *
 * A partial kept for a resume that never comes (the sender's file changed, so it is never
 * offered again) would stay forever: `removeStale` removes those untouched (neither file
 * modified) for `staleAfterMs`, 7 days by default, as a FileLink opens the store; taking a
 * partial up again (a resume) touches it.
 */
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { link, open, readdir, rm, stat, statfs, utimes } from 'node:fs/promises';
import { errors } from '../errors.js';
import { ContentHasher } from '../files/content-hash.js';
import { FileTransferError, fileErrors } from '../files/file-errors.js';
import { safeRelativePath } from '../files/names.js';
import { FolderIdentity } from './folder-identity.js';
import { fileProblem } from './home-files.js';
import { PartialFile, type PartialIo } from './partial-file.js';
import { resumedHasher } from './partial-hasher.js';
import {
  NO_FOLLOW,
  PARTIAL_PREFIX,
  PARTIAL_STATE_SUFFIX,
  type PartialKey,
  PartialKeySchema,
  type PartialPaths,
  type PartialState,
  partialId,
  partialPaths,
  readState,
  removeStaleTemporaries,
  saveStateDurably,
} from './partial-state.js';
import { removePartial, sweepStalePartials } from './partial-sweep.js';
import { PlacedFile, placedIntact } from './placed-file.js';

export interface PartialStoreOptions {
  /**
   * Each of the two write buffers of a file being received (bytes): 256 KiB, a chunk. Measured on
   * loopback, 1 MiB buffers cost the receiver's other threads (the disk's writes) about 1.4 ns more
   * CPU a byte (README, *files*); most likely a smaller buffer is still in the cache when it is
   * copied into the page cache.
   */
  readonly bufferBytes?: number;
  /** Written bytes between two fsyncs of a partial file (and records in its state): 16 MiB. */
  readonly syncEveryBytes?: number;
  /** Free bytes an accepted offer must leave on the disk: 1 MiB (for state files and the folder). */
  readonly reserveBytes?: number;
  /** The clock of the state files' `updated`, of a resumed partial's touch and of `removeStale`. */
  readonly now?: () => Date;
  /** A partial neither file of which was modified for this long (ms) is removed by `removeStale`: 7 days. */
  readonly staleAfterMs?: number;
  /** How the disk is touched (tests watch or break it). */
  readonly io?: Partial<PartialIo>;
}

export type RoomCheck =
  | { readonly ok: true; readonly available: number }
  | { readonly ok: false; readonly available: number; readonly needed: number; readonly reason: string };

/** A partial in the folder (a transfer that was interrupted), as `list` shows it. */
export interface PartialInfo extends PartialKey {
  readonly id: string;
  readonly name: string;
  readonly held: number;
  readonly updated: string;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const DAY_MS = 24 * 60 * 60 * 1000;

const defaultIo: PartialIo = {
  sync: (handle) => handle.datasync(),
  saveState: (paths, text) => saveStateDurably(paths.state, paths.temporary, text),
  link,
};

export class PartialStore {
  private readonly receiving = new Map<string, PartialFile | PlacedFile | 'opening'>();
  private readonly bufferBytes: number;
  private readonly syncEveryBytes: number;
  private readonly reserveBytes: number;
  private readonly now: () => Date;
  private readonly io: PartialIo;
  private readonly staleAfterMs: number;
  /** The download folder's identity, taken at its first use here and checked before each change. */
  readonly identity: FolderIdentity;
  /** The sweep of stale partials in progress: opening and reading the folder wait for it. */
  private sweeping: Promise<void> = Promise.resolve();

  constructor(
    /** The download folder (it must exist: `prepareDownloadFolder`). */
    readonly folder: string,
    options: PartialStoreOptions = {},
  ) {
    this.bufferBytes = options.bufferBytes ?? 256 * KiB;
    this.syncEveryBytes = options.syncEveryBytes ?? 16 * MiB;
    this.reserveBytes = options.reserveBytes ?? MiB;
    this.now = options.now ?? (() => new Date());
    this.identity = new FolderIdentity(folder);
    const io = { ...defaultIo, ...options.io };
    // Every state save (every `syncEveryBytes` written, and at the end) checks the folder first.
    this.io = {
      ...io,
      saveState: async (paths, text) => {
        await this.identity.check();
        await io.saveState(paths, text);
      },
    };
    this.staleAfterMs = options.staleAfterMs ?? 7 * DAY_MS;
    if (!(this.bufferBytes > 0 && this.syncEveryBytes > 0 && this.staleAfterMs > 0))
      throw errors.invalidArgument(
        'partial store options',
        'bufferBytes, syncEveryBytes and staleAfterMs must be positive',
      );
  }

  /**
   * Removes the partials (data, state and temporaries) whose newest file was modified more than
   * `staleAfterMs` ago by the store's clock; returns their ids. A file being received here is
   * left alone; what cannot be read or removed is left for the next time (never a throw).
   * `open`, `held` and `list` wait for a sweep in progress.
   */
  removeStale(): Promise<string[]> {
    // The first use of the folder: its identity is taken here (before the sweep removes anything).
    const swept = this.sweeping.then(async () => {
      await this.identity.check();
      return sweepStalePartials(this.folder, this.now().getTime() - this.staleAfterMs, (id) =>
        this.receiving.has(id),
      );
    });
    this.sweeping = swept.then(
      () => {},
      () => {},
    );
    return swept.catch(() => []);
  }

  /**
   * The bytes of this file durably held here (0 if none): the offset an accept tells the sender.
   * Reads the small state file only.
   */
  async held(key: PartialKey): Promise<number> {
    checkKey(key);
    await this.sweeping;
    await this.endOf(partialId(key));
    const paths = partialPaths(this.folder, partialId(key));
    const state = await readState(paths.state);
    if (!state || !sameKey(state, key)) return 0;
    if (state.placed !== undefined) return (await placedIntact(this.folder, state)) ? state.held : 0;
    const size = await stat(paths.data).then(
      (s) => s.size,
      () => -1,
    );
    return size >= state.held ? state.held : 0;
  }

  /**
   * Opens the file for receiving: goes on from a partial of the same (sender key, hash, size) if
   * there is one (`offset` says from where; its name becomes `name`), else starts a new one.
   * `name` is the safe relative path (`safeRelativePath`) it will take. Throws FileTransferError
   * `busy` (already being received here) or `write_failed`.
   */
  async open(key: PartialKey, name: string): Promise<PartialFile> {
    checkKey(key);
    await this.endOf(partialId(key));
    const id = this.reserve(key, name);
    return this.openReserved(id, key, name);
  }

  /**
   * As `open`, but a file of the same (sender key, hash, size) received here before whose sender
   * never heard so (its state says where it was placed, and that file is still as placed) is
   * given as a PlacedFile, which holds every byte and writes nothing (placed-file.ts).
   */
  async receive(key: PartialKey, name: string): Promise<PartialFile | PlacedFile> {
    checkKey(key);
    // Offered again while the last offer's finish still runs (its chat ended meanwhile): what it
    // placed decides.
    await this.endOf(partialId(key));
    const id = this.reserve(key, name);
    let state: PartialState | undefined;
    try {
      await this.sweeping;
      await this.identity.check();
      const paths = partialPaths(this.folder, id);
      state = await readState(paths.state).then((s) => (s && sameKey(s, key) ? s : undefined));
      const placed = state?.placed;
      if (state && placed !== undefined && (await placedIntact(this.folder, state))) {
        const file = new PlacedFile(
          key,
          { ...state, placed },
          {
            folder: this.folder,
            paths,
            saveState: this.io.saveState,
            identity: this.identity,
            release: () => this.receiving.delete(id),
          },
        );
        this.receiving.set(id, file);
        return file;
      }
    } catch (error) {
      this.receiving.delete(id);
      throw asFileError(name, error);
    }
    return this.openReserved(id, key, name, { state });
  }

  /**
   * Waits for the end of file `id` if one is in progress here: a finish, or a close (its transfer
   * was interrupted, and the same file may be offered again at once: what the close keeps is what
   * it goes on from). A file still being written is not waited for.
   */
  private async endOf(id: string): Promise<void> {
    const current = this.receiving.get(id);
    if (current instanceof PartialFile) await current.finished();
  }

  /** Checks the key and the name, and marks the file as being received here; its id. */
  private reserve(key: PartialKey, name: string): string {
    checkKey(key);
    const safe = safeRelativePath(name);
    if (!safe.ok || safe.changed)
      throw errors.invalidArgument('name', `${JSON.stringify(name)} is not a safe relative path`);
    const id = partialId(key);
    if (this.receiving.has(id)) throw fileErrors.busy(name);
    this.receiving.set(id, 'opening');
    return id;
  }

  /**
   * Opens the partial of a reserved file (`known`: its state, if read already). A new one (no
   * partial and no state of it here: most files) costs two calls, a state read that finds none
   * and an exclusive create; one found again also has its leftovers swept, its size checked and
   * its unclaimed tail cut.
   */
  private async openReserved(
    id: string,
    key: PartialKey,
    name: string,
    known?: { readonly state: PartialState | undefined },
  ): Promise<PartialFile> {
    const paths = partialPaths(this.folder, id);
    let handle: FileHandle | undefined;
    try {
      await this.sweeping;
      // Per file, before its partial is made: the folder is still the one first opened.
      await this.identity.check();
      const state = known
        ? known.state
        : await readState(paths.state).then((s) => (s && sameKey(s, key) ? s : undefined));
      // 0o666 less the umask, as any file a program makes: the partial becomes the placed file (a
      // rename keeps the mode), and a download the person cannot share (0600) surprises them.
      handle = await open(
        paths.data,
        constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | NO_FOLLOW,
        0o666,
      ).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        return undefined;
      });
      if (handle && !state) return this.made(id, key, name, paths, handle, 0, ContentHasher.start(), false);
      await removeStaleTemporaries(this.folder, id);
      handle ??= await open(paths.data, constants.O_RDWR | constants.O_CREAT | NO_FOLLOW, 0o666);
      const onDisk = (await handle.stat()).size;
      // More than the state claims was written but never made durable: it goes, and comes again.
      // A record of a file placed whole is none to go on from (that file was removed or changed).
      const held = state && state.placed === undefined && onDisk >= state.held ? state.held : 0;
      // A state that cannot be gone on from goes too, so it never describes the new partial.
      if (state && held === 0) await rm(paths.state, { force: true });
      await handle.truncate(held);
      const hasher = state && held > 0 ? await resumedHasher(state, handle) : ContentHasher.start();
      // Taken up again: touched, so it is not stale however long ago it was interrupted.
      if (held > 0) await this.touch([paths.data, paths.state]);
      return this.made(id, key, name, paths, handle, held, hasher);
    } catch (error) {
      this.receiving.delete(id);
      await handle?.close().catch(() => {});
      throw asFileError(name, error);
    }
  }

  /** The PartialFile of an opened partial, held `held` bytes, recorded as being received here. */
  private made(
    id: string,
    key: PartialKey,
    name: string,
    paths: PartialPaths,
    handle: FileHandle,
    held: number,
    hasher: ContentHasher,
    stateOnDisk = true,
  ): PartialFile {
    const file = new PartialFile(key, name, held, handle, hasher, {
      folder: this.folder,
      identity: this.identity,
      paths,
      stateOnDisk,
      bufferBytes: this.bufferBytes,
      syncEveryBytes: this.syncEveryBytes,
      io: this.io,
      now: this.now,
      release: () => this.receiving.delete(id),
    });
    this.receiving.set(id, file);
    return file;
  }

  /**
   * Whether the folder has room for `needed` more bytes (the offer's sizes less what `held` says
   * is here), beside what the files being received still need and `reserveBytes`; the reason
   * says each of the three (a total with the margin in it, unsaid, reads as a false need).
   */
  async checkRoom(needed: number): Promise<RoomCheck> {
    const fs = await statfs(this.folder);
    const available = fs.bavail * fs.bsize;
    let promised = 0;
    for (const file of this.receiving.values()) if (file !== 'opening') promised += file.remaining;
    const total = needed + promised + this.reserveBytes;
    if (total <= available) return { ok: true, available };
    const needs = { offer: needed, underWay: promised, keptFree: this.reserveBytes };
    return {
      ok: false,
      available,
      needed: total,
      reason: fileErrors.noRoom(this.folder, needs, available).message,
    };
  }

  /** The interrupted transfers kept here (each a partial with its state), the most recent first. */
  async list(): Promise<PartialInfo[]> {
    await this.sweeping;
    const names = await readdir(this.folder).catch(() => [] as string[]);
    const found: PartialInfo[] = [];
    for (const entry of names) {
      if (!entry.startsWith(PARTIAL_PREFIX) || !entry.endsWith(PARTIAL_STATE_SUFFIX)) continue;
      const id = entry.slice(PARTIAL_PREFIX.length, -PARTIAL_STATE_SUFFIX.length);
      const state = await readState(partialPaths(this.folder, id).state);
      // A file placed whole (its sender not told) is no partial: it is not listed.
      if (!state || partialId(state) !== id || state.placed !== undefined) continue;
      const { senderKey, hash, size, name, held, updated } = state;
      found.push({ id, senderKey, hash, size, name, held, updated });
    }
    return found.sort((a, b) => b.updated.localeCompare(a.updated));
  }

  /** Removes a kept partial and its state (the person gave up on it). False if it is being received. */
  async discard(key: PartialKey): Promise<boolean> {
    checkKey(key);
    const id = partialId(key);
    if (this.receiving.has(id)) return false;
    await this.identity.check();
    await removePartial(this.folder, id);
    return true;
  }

  private async touch(paths: readonly string[]): Promise<void> {
    const now = this.now();
    // Best effort: a partial written to is touched by its writes anyway.
    await Promise.all(paths.map((path) => utimes(path, now, now).catch(() => {})));
  }
}

function checkKey(key: PartialKey): void {
  const parsed = PartialKeySchema.safeParse({ senderKey: key.senderKey, hash: key.hash, size: key.size });
  if (!parsed.success)
    throw errors.invalidArgument(
      'partial key',
      'senderKey and hash are 64 hex digits, size a whole number of bytes',
    );
}

/** A refusal of the folder as it is (`not_a_folder`); any other failure as `write_failed`. */
function asFileError(name: string, error: unknown): FileTransferError {
  return error instanceof FileTransferError && error.code === 'not_a_folder'
    ? error
    : fileErrors.writeFailed(name, fileProblem(error));
}

function sameKey(state: PartialKey, key: PartialKey): boolean {
  return state.senderKey === key.senderKey && state.hash === key.hash && state.size === key.size;
}

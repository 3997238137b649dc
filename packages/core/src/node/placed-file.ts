/**
 * A file received whole, verified and placed, whose sender never heard so: its transfer ended
 * (the peer lost, the chat closed, the program stopping) while the file was being finished, so no
 * verdict went, and the sender offers it again. Its state file says where it was placed
 * (partial-state.ts, `placed`); `PartialStore.receive` gives this instead of a partial file while
 * that file is still as it was placed (`placedIntact`: a regular file of the size, its
 * modification and status change times the same). It holds every byte: the `want` asks from the size, nothing is written, and `finish`
 * answers with the path the file took, so the sender gets its `verified` and no second copy
 * (`name (1).ext`) is made. A file removed or changed since is received again whole instead.
 */
import { lstat, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errors } from '../errors.js';
import { fileErrors } from '../files/file-errors.js';
import { type FolderIdentity, stillSameFolder } from './folder-identity.js';
import type { ReceivedFile } from './partial-file.js';
import { type PartialKey, type PartialPaths, type PartialState, stateText } from './partial-state.js';

export interface PlacedFileSettings {
  readonly folder: string;
  readonly paths: PartialPaths;
  /** Writes the state file again (whole or not at all, durably). */
  readonly saveState: (paths: PartialPaths, text: string) => Promise<void>;
  /** The download folder's identity: checked before the record is removed. */
  readonly identity?: FolderIdentity;
  /** Called once the file ended (finished, closed or cancelled): the store forgets it. */
  readonly release: () => void;
}

/**
 * Whether the file a state says was placed is still there as it was placed: a regular file of the
 * size, its modification time and (when recorded) its status change time the same. The size and
 * modification time alone are no proof: `cp -p` or `touch -r` puts other bytes of the same size
 * behind the same time, and the sender would be told `verified` for bytes no longer here. Any
 * write, rename into place or time set back moves the status change time; a chmod or a new hard
 * link moves it too, and the file is then received again (a copy beside it), never wrongly held.
 */
export async function placedIntact(folder: string, state: PartialState): Promise<boolean> {
  if (state.placed === undefined) return false;
  // lstat: a link planted at its name is not the file placed.
  const stats = await lstat(join(folder, ...state.placed.split('/'))).catch(() => undefined);
  if (stats?.isFile() !== true || stats.size !== state.size || stats.mtimeMs !== state.placedMtimeMs)
    return false;
  return state.placedCtimeMs === undefined || stats.ctimeMs === state.placedCtimeMs;
}

export class PlacedFile {
  /** Nothing more to come. */
  readonly remaining = 0;
  private ended = false;
  private recordRemoved = false;
  private keepRecord = false;
  private finishing: Promise<ReceivedFile> | undefined;

  constructor(
    readonly key: PartialKey,
    /** Its state: `placed` is the relative path it took. */
    private readonly state: PartialState & { readonly placed: string },
    private readonly settings: PlacedFileSettings,
  ) {}

  /** Every byte is held. */
  get offset(): number {
    return this.key.size;
  }

  /** The relative path the file took. */
  get name(): string {
    return this.state.placed;
  }

  /** Nothing to lend: no byte is to come. */
  lend(): undefined {
    return undefined;
  }

  /** Any byte would go past the size. */
  write(offset: number, data: Uint8Array): Promise<void> {
    return Promise.reject(fileErrors.sizeMismatch(this.name, this.key.size, offset + data.length));
  }

  /** Answers with where the file is, if it still is as placed; its record goes (unless kept meanwhile). */
  finish(): Promise<ReceivedFile> {
    this.finishing = (async () => {
      this.end();
      return this.check();
    })();
    return this.finishing;
  }

  /** The transfer ended again before its verdict: the record stays (and is written again if it went). */
  async keepPlaced(): Promise<void> {
    this.keepRecord = true;
    const placed = await this.finishing?.catch(() => undefined);
    if (placed && this.recordRemoved)
      await this.settings.saveState(this.settings.paths, stateText(this.state));
  }

  /** Interrupted before the finish: the record stays for the next offer. */
  async close(): Promise<number> {
    if (!this.ended) {
      this.end();
      this.settings.release();
    }
    return this.key.size;
  }

  /** Cancelled: the record goes (the file placed stays: it is a complete file). */
  async cancel(): Promise<void> {
    if (this.ended) return;
    this.end();
    try {
      await this.removeRecord();
    } finally {
      this.settings.release();
    }
  }

  private async check(): Promise<ReceivedFile> {
    try {
      if (!(await placedIntact(this.settings.folder, this.state))) {
        await this.removeRecord();
        throw fileErrors.writeFailed(
          this.name,
          'it was received before, but is no longer there as it was placed',
        );
      }
      if (!this.keepRecord) await this.removeRecord();
      return {
        path: join(this.settings.folder, ...this.name.split('/')),
        relativePath: this.name,
        size: this.key.size,
        hash: this.key.hash,
      };
    } finally {
      this.settings.release();
    }
  }

  private async removeRecord(): Promise<void> {
    // The download folder replaced by a link: nothing is removed through it.
    if (!(await stillSameFolder(this.settings.identity))) return;
    const { state, temporary } = this.settings.paths;
    await Promise.all([state, temporary].map((path) => rm(path, { force: true }).catch(() => {})));
    this.recordRemoved = true;
  }

  private end(): void {
    if (this.ended) throw errors.invalidArgument('placed file', 'it has already ended');
    this.ended = true;
  }
}

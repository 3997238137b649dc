/**
 * Moving a verified partial file into place under its name, never over an existing file: the
 * name is taken with `link(partial, name)`, which fails with EEXIST if anything (a file, a
 * folder, a dangling symbolic link) already has it, and then the partial's own name is removed.
 * A plain `rename` would replace the existing file, and checking first leaves a moment in which
 * another program may take the name. On a file system without hard links (FAT, exFAT, some network
 * shares: EPERM, ENOTSUP, ...) the name is reserved instead by creating an empty file exclusively
 * (O_EXCL, which fails if the name exists) and the partial is renamed onto that reserved file,
 * which is ours. Either way the next free name is tried on EEXIST (`name (1).ext`, ...).
 *
 * Folders on the way (`photos/2024/a.jpg`) are made; one that exists must be a real folder:
 * a file or a symbolic link there is not followed but refused (`not_a_folder`). Given the
 * download folder's identity (folder-identity.ts), the folder is checked to be the one first
 * opened before its folders are made, and the whole way down again right before the name is
 * taken: a download folder or a folder in it swapped for a link meanwhile is refused
 * (`not_a_folder`) and nothing is made through it.
 *
 * The name is durable once its folder is fsynced, and only then is the file said to be in place.
 * Files placed in one folder at once (a folder of small files, several finishing together) share
 * that fsync: one that asks while another's runs waits for the next, which starts when it ends and
 * serves everyone who asked meanwhile (a group commit: each name is fsynced by a sync that began
 * after it was made, and a folder has at most one running and one waiting).
 */
import { constants } from 'node:fs';
import { link, lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { FileTransferError, fileErrors } from '../files/file-errors.js';
import { MAX_COPY_NUMBER, numberedName } from '../files/unique-name.js';
import type { FolderIdentity } from './folder-identity.js';
import { fileProblem } from './home-files.js';
import { NO_FOLLOW } from './partial-state.js';

export type LinkFile = (existing: string, target: string) => Promise<void>;

/** Errors of `link` that mean "this file system has no hard links", not "the name is taken". */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK', 'EXDEV']);

/**
 * Moves `partial` to `folder/relativePath` or the first free numbered name; returns the relative
 * path taken. The partial is gone afterwards, and the name durable (its folder fsynced).
 * Throws FileTransferError (`not_a_folder`, `no_free_name`, `write_failed`); the partial is then
 * still there.
 */
export async function placeFile(
  partial: string,
  folder: string,
  relativePath: string,
  linkFile: LinkFile = link,
  identity?: FolderIdentity,
): Promise<string> {
  const folders = relativePath.split('/').slice(0, -1);
  await identity?.check();
  const parent = await makeFolders(folder, folders);
  let hardLinks = true;
  for (let n = 0; n <= MAX_COPY_NUMBER; n++) {
    const name = numberedName(relativePath, n);
    const target = join(folder, name);
    // A copy number past the first: a name seen taken is passed over by one lstat, and the whole
    // check below runs for the name tried only (a stranger's many files of one deep name made
    // the k-th file run k checks of up to 33 calls each). Free here but taken meanwhile: EEXIST.
    if (n > 0 && (await seenTaken(target))) continue;
    try {
      // Right before the name is taken, the way to it is what was made (the window left is this
      // one call: folder-identity.ts).
      await identity?.check(folders, false);
      if (hardLinks) {
        try {
          await linkFile(partial, target);
        } catch (error) {
          if (!NO_HARD_LINKS.has(code(error))) throw error;
          hardLinks = false;
        }
      }
      if (hardLinks) {
        await syncFolder(parent);
        // The file is in place; a partial name that cannot be removed is only a hidden leftover.
        await unlink(partial).catch(() => {});
      } else {
        await reserveAndRename(partial, target);
        await syncFolder(parent);
      }
      return name;
    } catch (error) {
      if (code(error) === 'EEXIST') continue;
      if (error instanceof FileTransferError) throw error;
      throw fileErrors.writeFailed(name, fileProblem(error));
    }
  }
  throw fileErrors.noFreeName(relativePath);
}

/** Anything at `path` (a file, a folder, a link) takes the name; an lstat that fails leaves it to the link. */
function seenTaken(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

async function reserveAndRename(partial: string, target: string): Promise<void> {
  const reserved = await open(
    target,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NO_FOLLOW,
    0o600,
  );
  await reserved.close();
  try {
    await rename(partial, target);
  } catch (error) {
    await unlink(target).catch(() => {});
    throw error;
  }
}

/**
 * Makes the folders `parts` (in order) under `folder` (each new one made durable); returns the
 * last. One that is there already costs one lstat (a folder of many files: all but the first).
 */
async function makeFolders(folder: string, parts: readonly string[]): Promise<string> {
  let current = folder;
  for (const part of parts) {
    const parent = current;
    current = join(current, part);
    const there = await lstat(current).catch(() => undefined);
    if (there) {
      if (!there.isDirectory()) throw fileErrors.notAFolder(current);
      continue;
    }
    try {
      await mkdir(current);
      await syncFolder(parent);
      continue;
    } catch (error) {
      if (code(error) !== 'EEXIST') throw fileErrors.writeFailed(current, fileProblem(error));
    }
    // Made meanwhile (another file of the offer): it must be a real folder all the same.
    const stats = await lstat(current).catch(() => undefined);
    if (!stats?.isDirectory()) throw fileErrors.notAFolder(current);
  }
  return current;
}

/**
 * Syncs by key shared by those who ask at once (a group commit): `sync(key)` resolves once a run
 * of `run(key)` that began after the call has ended. Per key at most one runs and one waits; the
 * waiting one serves everyone who asks while the running one runs. `run` must not reject.
 */
export class GroupedSyncs {
  private readonly syncs = new Map<string, { running: Promise<void>; next: Promise<void> | undefined }>();

  constructor(private readonly run: (key: string) => Promise<void>) {}

  sync(key: string): Promise<void> {
    const syncs = this.syncs.get(key);
    if (!syncs) {
      const running = this.run(key).finally(() => this.ended(key));
      this.syncs.set(key, { running, next: undefined });
      return running;
    }
    syncs.next ??= syncs.running.then(() => this.run(key)).finally(() => this.ended(key));
    return syncs.next;
  }

  /** Keys with a sync running (none once all ended: nothing is kept per key). */
  get size(): number {
    return this.syncs.size;
  }

  /** The key's running sync ended: the waiting one, if any, is the running one now. */
  private ended(key: string): void {
    const syncs = this.syncs.get(key);
    if (!syncs) return;
    if (syncs.next) {
      syncs.running = syncs.next;
      syncs.next = undefined;
    } else this.syncs.delete(key);
  }
}

/** Every folder's fsyncs in this process, grouped. */
const folderSyncs = new GroupedSyncs((path) => fsyncFolder(path));

/** Resolves once a fsync of folder `path` that began after this call has ended. */
function syncFolder(path: string): Promise<void> {
  return folderSyncs.sync(path);
}

/** fsync of a folder, so a name made in it survives a crash; skipped where folders cannot be opened. */
async function fsyncFolder(path: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, constants.O_RDONLY);
    await handle.sync();
  } catch {
    // Windows cannot open a folder; some file systems refuse fsync on one (EINVAL): nothing to do.
  } finally {
    await handle?.close().catch(() => {});
  }
}

function code(error: unknown): string {
  return (error as NodeJS.ErrnoException | undefined)?.code ?? '';
}

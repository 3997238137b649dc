/**
 * The download folder held to the folder it was when first opened. Files are made under it by
 * path (Node has no `openat`), so whoever may write its parent could move it away and put a link
 * to a folder elsewhere in its place while a file waits for its data: the file's folders, state
 * and name would then be made through the link, outside. Its identity (device and inode) is taken
 * at the first check (the old partials' sweep, when the first file is accepted into the folder),
 * so a folder swapped before then is the one trusted: it is what the path named at that time.
 * Every check after compares: the path must still lead to that folder,
 * and each folder below it on the way to a file must be a real folder (`lstat`: a link is refused,
 * never followed). A check that fails throws `not_a_folder` and the caller makes nothing.
 *
 * The top is compared by `stat`, which follows links: a download folder that is a link by the
 * person's choice (`~/Downloads` → `/data/dl`) stays usable, and what matters is that the path
 * still names the same folder. Below it, nothing is followed.
 *
 * A window remains between a check and the call it guards (tens of microseconds: the check's
 * last call and the guarded one follow each other). Without `openat` it cannot be closed; it is
 * kept to that one call by checking right before each. The checks run per file (before its
 * partial is made, before its folders are made and again right before its name is taken), per
 * state save (every 16 MiB written, and at the end) and before a partial or a record is removed:
 * never per write. A check costs 30 to 60 µs of CPU (bench/files-receive-path.ts).
 */
import type { BigIntStats } from 'node:fs';
import { lstat, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileErrors } from '../files/file-errors.js';
import { fileProblem } from './home-files.js';

export class FolderIdentity {
  private identity: { readonly dev: bigint; readonly ino: bigint } | undefined;
  /** Checks run (the benchmark's "it costs nothing": how often it runs). */
  checks = 0;

  constructor(readonly folder: string) {}

  /**
   * Throws FileTransferError `not_a_folder` if the folder is not the one first seen here, or a
   * folder of `below` (names of folders under it, in order) is not a real folder; `write_failed`
   * if the folder cannot be looked at. A folder of `below` that does not exist yet is fine
   * (`missingBelow`: the caller makes it) unless `missingBelow` is false.
   */
  async check(below: readonly string[] = [], missingBelow = true): Promise<void> {
    this.checks++;
    let now: BigIntStats;
    try {
      now = await stat(this.folder, { bigint: true });
    } catch (error) {
      if (this.identity) throw replaced(this.folder);
      throw fileErrors.writeFailed(this.folder, fileProblem(error));
    }
    if (!now.isDirectory()) throw replaced(this.folder);
    this.identity ??= { dev: now.dev, ino: now.ino };
    if (now.dev !== this.identity.dev || now.ino !== this.identity.ino) throw replaced(this.folder);
    let current = this.folder;
    for (const part of below) {
      current = join(current, part);
      const there = await lstat(current).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT' && missingBelow) return undefined;
        throw fileErrors.notAFolder(current);
      });
      // Missing: nothing below it can be there either.
      if (!there) return;
      if (!there.isDirectory()) throw fileErrors.notAFolder(current);
    }
  }
}

/** Whether `identity`'s folder is still the one first seen (true without one): removals ask this. */
export function stillSameFolder(identity: FolderIdentity | undefined): Promise<boolean> {
  return identity
    ? identity.check().then(
        () => true,
        () => false,
      )
    : Promise.resolve(true);
}

function replaced(folder: string) {
  return fileErrors.notAFolder(
    folder,
    'the download folder was moved away or replaced since it was opened: nothing is written through it',
  );
}

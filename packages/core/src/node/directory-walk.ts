/**
 * The files of a folder someone offers (`/send photos`): its regular files, each with its path
 * relative to the folder's parent, `/`-separated (`photos/2024/a.jpg`), so the receiver makes the
 * same tree under its download folder. Symbolic links inside the folder are not followed (a link
 * to `/` or to a parent folder would offer the whole disk or loop forever), nor sent: they are
 * listed as skipped, as are sockets, pipes and devices, names that are not UTF-8 (they could not
 * be written on the wire as they are) and folders that cannot be read. The folder named itself
 * may be a symbolic link: the person chose it. The walk is bounded: past `maxFiles` files,
 * `maxDepth` components or 4 × `maxFiles` entries in one folder it stops with `too_many_files`.
 * Files come in path order.
 */
import type { Dirent } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { lstat, opendir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileErrors } from '../files/file-errors.js';
import { OFFER_LIMITS } from '../files/offer-limits.js';
import { fileProblem } from './home-files.js';

export interface WalkedFile {
  /** The path offered: the folder's name, then the path inside it, `/`-separated. */
  readonly path: string;
  /** Where it is on this machine. */
  readonly source: string;
  readonly size: number;
  readonly mtimeMs: number;
}

export type SkipReason = 'symlink' | 'special' | 'not_utf8' | 'unreadable';

export interface SkippedEntry {
  /** As `WalkedFile.path` (a name that is not UTF-8 shows with U+FFFD in it). */
  readonly path: string;
  readonly why: SkipReason;
}

export interface WalkResult {
  readonly files: readonly WalkedFile[];
  readonly totalBytes: number;
  /** The first `MAX_SKIPPED_LISTED` entries not offered, and how many there were in all. */
  readonly skipped: readonly SkippedEntry[];
  readonly skippedCount: number;
}

export interface WalkOptions {
  readonly maxFiles?: number;
  readonly maxDepth?: number;
}

export const MAX_SKIPPED_LISTED = 100;

/** Walks the folder at `root`. Throws FileTransferError `not_a_folder`, `read_failed` or `too_many_files`. */
export async function walkFolder(root: string, options: WalkOptions = {}): Promise<WalkResult> {
  const maxFiles = options.maxFiles ?? OFFER_LIMITS.maxFiles;
  const maxDepth = options.maxDepth ?? OFFER_LIMITS.maxDepth;
  // A folder's entries are read whole (to sort them): bounded, links and the like included.
  const maxEntries = 4 * maxFiles;
  const rootStats = await stat(root).catch((error) => {
    throw fileErrors.readFailed(root, fileProblem(error, true));
  });
  if (!rootStats.isDirectory()) throw fileErrors.notAFolder(root);
  const files: WalkedFile[] = [];
  const skipped: SkippedEntry[] = [];
  let skippedCount = 0;
  let totalBytes = 0;
  const skip = (path: string, why: SkipReason) => {
    skippedCount++;
    if (skipped.length < MAX_SKIPPED_LISTED) skipped.push({ path, why });
  };
  // Folders still to read: [where it is, its offered path, its depth in components]. Depth-first.
  const pending: [string, string, number][] = [[root, basename(root), 1]];
  for (let folder = pending.pop(); folder; folder = pending.pop()) {
    const [where, offered, depth] = folder;
    let entries: Dirent<Buffer>[];
    try {
      entries = await readEntries(where, maxEntries);
    } catch {
      skip(offered, 'unreadable');
      continue;
    }
    if (entries.length > maxEntries)
      throw fileErrors.tooManyFiles(root, `more than ${maxEntries} entries in one folder`);
    const subfolders: [string, string, number][] = [];
    for (const entry of entries) {
      const raw = entry.name;
      const name = raw.toString('utf8');
      const path = `${offered}/${name}`;
      if (!isUtf8(raw)) {
        skip(path, 'not_utf8');
        continue;
      }
      const source = join(where, name);
      // lstat when the folder listing does not say what it is (some file systems do not).
      const kind = kindOf(entry) ?? (await lstat(source).then(kindOf, () => undefined));
      if (kind === 'symlink') skip(path, 'symlink');
      else if (kind === 'folder') {
        if (depth + 1 >= maxDepth) throw fileErrors.tooManyFiles(root, `folders deeper than ${maxDepth - 1}`);
        subfolders.push([source, path, depth + 1]);
      } else if (kind === 'file') {
        if (files.length === maxFiles) throw fileErrors.tooManyFiles(root, `more than ${maxFiles} files`);
        // lstat: a file swapped for a link since the folder was read is not followed either.
        const stats = await lstat(source).catch(() => undefined);
        if (!stats?.isFile()) {
          skip(path, stats?.isSymbolicLink() ? 'symlink' : 'unreadable');
          continue;
        }
        files.push({ path, source, size: stats.size, mtimeMs: stats.mtimeMs });
        totalBytes += stats.size;
      } else skip(path, kind === 'special' ? 'special' : 'unreadable');
    }
    // Pushed in reverse so they come off the stack in name order.
    for (let i = subfolders.length - 1; i >= 0; i--) pending.push(subfolders[i] as [string, string, number]);
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, totalBytes, skipped, skippedCount };
}

/** The folder's entries in name order; stops after `limit` + 1 (the caller refuses that many). */
async function readEntries(folder: string, limit: number): Promise<Dirent<Buffer>[]> {
  const entries: Dirent<Buffer>[] = [];
  const dir = await opendir(folder, { encoding: 'buffer' as BufferEncoding });
  try {
    for (let entry = await dir.read(); entry; entry = await dir.read()) {
      entries.push(entry as unknown as Dirent<Buffer>);
      if (entries.length > limit) break;
    }
  } finally {
    await dir.close().catch(() => {});
  }
  return entries.sort((a, b) => Buffer.compare(a.name, b.name));
}

type Kind = 'file' | 'folder' | 'symlink' | 'special';

/** What a folder entry or an lstat says it is; undefined if it says nothing. */
function kindOf(
  entry: Pick<
    Dirent,
    | 'isFile'
    | 'isDirectory'
    | 'isSymbolicLink'
    | 'isFIFO'
    | 'isSocket'
    | 'isBlockDevice'
    | 'isCharacterDevice'
  >,
): Kind | undefined {
  if (entry.isSymbolicLink()) return 'symlink';
  if (entry.isDirectory()) return 'folder';
  if (entry.isFile()) return 'file';
  if (entry.isFIFO() || entry.isSocket() || entry.isBlockDevice() || entry.isCharacterDevice())
    return 'special';
  return undefined;
}

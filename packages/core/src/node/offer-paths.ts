/**
 * What `/send PATH...` offers: each path a regular file (offered under its own name) or a folder
 * (its regular files, under the folder's name: `photos/2024/a.jpg`; links and special files
 * skipped, directory-walk.ts), then each file hashed in one pass (BLAKE2b-256) with its size and
 * modification time noted, so a file changed before it is sent is noticed (`source_changed`).
 * The names must be able to share one offer: two files with one name (`a/x.txt` and `b/x.txt`
 * both offered as `x.txt`) are refused before anything is sent.
 */
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { errors } from '../errors.js';
import { fileErrors } from '../files/file-errors.js';
import { checkOffer, OFFER_LIMITS } from '../files/offer-limits.js';
import type { OfferInput } from '../files/sending.js';
import { type SkippedEntry, walkFolder } from './directory-walk.js';
import { FileSource } from './file-source.js';
import type { SourceFile } from './file-storage.js';
import { fileProblem } from './home-files.js';

export interface PreparedFile extends OfferInput, SourceFile {}

export interface PreparedOffer {
  readonly files: readonly PreparedFile[];
  readonly totalBytes: number;
  /** Entries of offered folders that are not sent (links, special files, names not UTF-8), the first 100. */
  readonly skipped: readonly SkippedEntry[];
  readonly skippedCount: number;
}

/** Hashing progress: bytes hashed of all the files so far, of `total`. */
export type HashProgress = (bytes: number, total: number) => void;

/**
 * Lists and hashes the files `paths` name. Throws FileTransferError (`read_failed`, `not_a_file`,
 * `too_many_files`) or NetchatError INVALID_ARGUMENT (no path, two files under one name).
 */
export async function prepareOffer(
  paths: readonly string[],
  onProgress?: HashProgress,
): Promise<PreparedOffer> {
  if (paths.length === 0) throw errors.invalidArgument('offer', 'no file or folder named');
  const listed: { path: string; source: string }[] = [];
  const skipped: SkippedEntry[] = [];
  let skippedCount = 0;
  for (const given of paths) {
    const source = resolve(given);
    const stats = await stat(source).catch((error: unknown) => {
      throw fileErrors.readFailed(given, fileProblem(error, true));
    });
    if (stats.isDirectory()) {
      const walk = await walkFolder(source);
      for (const file of walk.files) listed.push({ path: file.path, source: file.source });
      skipped.push(...walk.skipped);
      skippedCount += walk.skippedCount;
    } else if (stats.isFile()) listed.push({ path: basename(source), source });
    else throw fileErrors.notAFile(given, 'a special file');
    if (listed.length > OFFER_LIMITS.maxFiles)
      throw fileErrors.tooManyFiles(given, `more than ${OFFER_LIMITS.maxFiles} files in one offer`);
  }
  if (listed.length === 0) throw errors.nothingToOffer(paths);
  const check = checkOffer(listed.map((f) => ({ path: f.path, size: 0 })));
  if (!check.ok) {
    const problem = check.problem;
    const which = 'index' in problem ? listed[problem.index]?.path : undefined;
    throw errors.invalidArgument(
      'offer',
      problem.reason === 'duplicate_path' || problem.reason === 'path_conflict'
        ? `two files would have the name ${JSON.stringify(which)} in one offer: send them separately`
        : `${JSON.stringify(which)} cannot be offered (${problem.reason})`,
    );
  }
  const files: PreparedFile[] = [];
  let hashed = 0;
  let total = 0;
  for (const f of listed) total += (await stat(f.source).catch(() => ({ size: 0 }))).size;
  for (const f of listed) {
    const source = await FileSource.open(f.source);
    try {
      const before = hashed;
      const hash = await source.hash((bytes) => onProgress?.(before + bytes, total));
      hashed += source.size;
      files.push({ path: f.path, source: f.source, size: source.size, hash, mtimeMs: source.mtimeMs });
    } finally {
      await source.close();
    }
  }
  onProgress?.(hashed, Math.max(total, hashed));
  return { files, totalBytes: hashed, skipped: skipped.slice(0, 100), skippedCount };
}

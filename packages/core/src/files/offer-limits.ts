/**
 * What one offer may carry, and the receiver's check of an offer's list of files before it
 * answers: every path made safe (names.ts) or the offer refused, no two files at one path, no
 * file where another file's folder must be, and the counts within bounds. Pure: the room on the
 * disk is the node adapter's (`PartialStore.checkRoom`).
 */
import { MAX_PATH_BYTES, MAX_PATH_DEPTH, type NameRefusal, safeRelativePath } from './names.js';

export const OFFER_LIMITS = {
  /** Files in one offer (a folder offered is walked up to this many). */
  maxFiles: 10_000,
  /** Bytes of one file, and of the whole offer: exact in a JavaScript number (about 8 PiB). */
  maxFileBytes: Number.MAX_SAFE_INTEGER,
  maxTotalBytes: Number.MAX_SAFE_INTEGER,
  /** UTF-8 bytes of one path, and its components: names.ts's bounds. */
  maxPathBytes: MAX_PATH_BYTES,
  maxDepth: MAX_PATH_DEPTH,
} as const;

export interface OfferedFile {
  /** The path as offered (`/`-separated, relative). */
  readonly path: string;
  readonly size: number;
}

export interface CheckedFile {
  /** The safe relative path the file is saved under (before any `name (1).ext`). */
  readonly path: string;
  readonly size: number;
  /** True when the safe path differs from the offered one (say so to the person). */
  readonly renamed: boolean;
}

export type OfferProblem =
  | { readonly reason: 'empty_offer' }
  | { readonly reason: 'too_many_files'; readonly count: number }
  /** A size that is not a whole number of bytes within maxFileBytes, or a total over maxTotalBytes. */
  | { readonly reason: 'bad_size'; readonly index: number }
  | { readonly reason: 'unsafe_name'; readonly index: number; readonly refusal: NameRefusal }
  /** Two files at one path once made safe (`a\b` and `a_b`, `./x` and `x`). */
  | { readonly reason: 'duplicate_path'; readonly index: number }
  /** A file at a path another file needs as a folder (`a` and `a/b`). */
  | { readonly reason: 'path_conflict'; readonly index: number };

export type OfferCheck =
  | { readonly ok: true; readonly files: readonly CheckedFile[]; readonly totalBytes: number }
  | { readonly ok: false; readonly problem: OfferProblem };

/** Checks an offer's files in order; the first problem refuses the whole offer. */
export function checkOffer(offered: readonly OfferedFile[], limits = OFFER_LIMITS): OfferCheck {
  if (offered.length === 0) return refuse({ reason: 'empty_offer' });
  if (offered.length > limits.maxFiles) return refuse({ reason: 'too_many_files', count: offered.length });
  const files: CheckedFile[] = [];
  const filePaths = new Set<string>();
  const folderPaths = new Set<string>();
  let totalBytes = 0;
  for (const [index, file] of offered.entries()) {
    if (!Number.isSafeInteger(file.size) || file.size < 0 || file.size > limits.maxFileBytes)
      return refuse({ reason: 'bad_size', index });
    totalBytes += file.size;
    if (totalBytes > limits.maxTotalBytes) return refuse({ reason: 'bad_size', index });
    const safe = safeRelativePath(file.path);
    if (!safe.ok) return refuse({ reason: 'unsafe_name', index, refusal: safe.reason });
    if (filePaths.has(safe.path)) return refuse({ reason: 'duplicate_path', index });
    if (folderPaths.has(safe.path)) return refuse({ reason: 'path_conflict', index });
    const folders = foldersOf(safe.path);
    if (folders.some((folder) => filePaths.has(folder))) return refuse({ reason: 'path_conflict', index });
    filePaths.add(safe.path);
    for (const folder of folders) folderPaths.add(folder);
    files.push({ path: safe.path, size: file.size, renamed: safe.changed });
  }
  return { ok: true, files, totalBytes };
}

/** `a/b/c` -> `['a', 'a/b']`. */
function foldersOf(path: string): string[] {
  const folders: string[] = [];
  for (let slash = path.indexOf('/'); slash >= 0; slash = path.indexOf('/', slash + 1))
    folders.push(path.slice(0, slash));
  return folders;
}

function refuse(problem: OfferProblem): OfferCheck {
  return { ok: false, problem };
}

/**
 * A received file never overwrites one already there: it takes the first free name of
 * `name`, `name (1).ext`, `name (2).ext`, ... (`backup (1).tar.gz`), as browsers do. The number
 * goes before the extension and the name stays within 255 bytes (its stem is cut if need be).
 * The check-then-create race is the caller's to close: the node adapter creates with
 * `link`/`O_EXCL`, which fail if the name was taken meanwhile, and takes the next number.
 */
import { fitName, splitExtension } from './name-parts.js';
import { MAX_NAME_BYTES } from './names.js';

/** The highest number tried before giving up (`name (9999).ext`). */
export const MAX_COPY_NUMBER = 9999;

/** `path` with copy number `n` in its last component: n = 0 is `path` itself. */
export function numberedName(path: string, n: number): string {
  if (n === 0) return path;
  const slash = path.lastIndexOf('/');
  const [stem, extension] = splitExtension(path.slice(slash + 1));
  return path.slice(0, slash + 1) + fitName(stem, ` (${n})${extension}`, MAX_NAME_BYTES);
}

/** The first of `path`, `path (1)`, ... for which `exists` is false; undefined if all up to 9999 exist. */
export function uniqueName(path: string, exists: (candidate: string) => boolean): string | undefined {
  for (let n = 0; n <= MAX_COPY_NUMBER; n++) {
    const candidate = numberedName(path, n);
    if (!exists(candidate)) return candidate;
  }
  return undefined;
}

/**
 * `mkdir -p`, made one folder at a time. Node 20's `mkdirSync(path, { recursive: true })` never
 * returns for a path under a file system that answers ENOENT to every mkdir, such as /proc
 * (`NETCHAT_HOME=/proc/x` hung the programs with no output): each folder is made here on its own,
 * from the deepest one that exists, so such a path fails at once with the system's error.
 */
import { mkdirSync, rmdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Makes `path` and every missing folder above it (each with `mode`). Throws the system's error,
 * having made nothing (the folders it made before the failure are removed).
 */
export function makeFolder(path: string, mode?: number): void {
  const target = resolve(path);
  const missing: string[] = [];
  // Bounded by the path's depth: dirname of the root is the root.
  for (let current = target; ; current = dirname(current)) {
    if (exists(current)) break;
    missing.push(current);
    if (dirname(current) === current) break;
  }
  // There already, but not a folder: mkdir's own error (EEXIST), as a recursive mkdir gives.
  if (missing.length === 0 && !statSync(target).isDirectory()) mkdirSync(target);
  const made: string[] = [];
  try {
    for (const folder of missing.reverse()) {
      try {
        mkdirSync(folder, { mode });
        made.push(folder);
      } catch (error) {
        // Made meanwhile by another program (two sharing a home) is what was asked for.
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(folder).isDirectory())
          throw error;
      }
    }
  } catch (error) {
    // Failed on the way (a name past the file system's limit below missing folders): the folders
    // made for it are taken away again, deepest first; one another program filled stays.
    for (const folder of made.reverse()) {
      try {
        rmdirSync(folder);
      } catch {
        break;
      }
    }
    throw error;
  }
}

/**
 * Whether `path` exists; only ENOENT says it does not. Anything else (ENAMETOOLONG, ELOOP,
 * ENOTDIR, EACCES) is thrown before a folder is made: a path of 4,000 components failed only at
 * the 2,040th mkdir, leaving 2,039 folders behind (too deep for Node's own recursive rmSync).
 */
function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/**
 * `mkdir -p`, made one folder at a time. Node 20's `mkdirSync(path, { recursive: true })` never
 * returns for a path under a file system that answers ENOENT to every mkdir, such as /proc
 * (`NETCHAT_HOME=/proc/x` hung the programs with no output): each folder is made here on its own,
 * from the deepest one that exists, so such a path fails at once with the system's error.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Makes `path` and every missing folder above it (each with `mode`). Throws the system's error. */
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
  for (const folder of missing.reverse()) {
    try {
      mkdirSync(folder, { mode });
    } catch (error) {
      // Made meanwhile by another program (two sharing a home) is what was asked for.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(folder).isDirectory()) throw error;
    }
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

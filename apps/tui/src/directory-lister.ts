/**
 * The folders Tab completes paths from (model/path-completion.ts), read with node's fs: a
 * folder's entries, a link followed to say whether it is a folder. A folder that cannot be read
 * is no candidates, never an error.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DirectoryEntry, DirectoryLister } from './model/path-completion.js';

export const listDirectory: DirectoryLister = (folder) => {
  try {
    return readdirSync(folder, { withFileTypes: true }).map(
      (entry): DirectoryEntry => ({
        name: entry.name,
        folder: entry.isDirectory() || (entry.isSymbolicLink() && isFolder(join(folder, entry.name))),
      }),
    );
  } catch {
    return undefined;
  }
};

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

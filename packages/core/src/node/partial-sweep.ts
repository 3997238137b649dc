/**
 * Partials kept for a resume that never comes (PartialStore.removeStale): found by their names in
 * the download folder, judged by the newest modification of their data and state files, removed
 * with any temporary a writer of them left.
 */
import { lstat, readdir, rm } from 'node:fs/promises';
import {
  PARTIAL_DATA_SUFFIX,
  PARTIAL_PREFIX,
  PARTIAL_STATE_SUFFIX,
  partialPaths,
  removeStaleTemporaries,
} from './partial-state.js';

/**
 * Removes the partials in `folder` neither file of which was modified since `before` (ms since
 * the epoch), except those `busy` says are being received; returns their ids.
 */
export async function sweepStalePartials(
  folder: string,
  before: number,
  busy: (id: string) => boolean,
): Promise<string[]> {
  const names = await readdir(folder).catch(() => [] as string[]);
  const ids = new Set<string>();
  for (const entry of names) {
    if (!entry.startsWith(PARTIAL_PREFIX)) continue;
    const suffix = entry.endsWith(PARTIAL_DATA_SUFFIX) ? PARTIAL_DATA_SUFFIX : PARTIAL_STATE_SUFFIX;
    const id = entry.endsWith(suffix) ? entry.slice(PARTIAL_PREFIX.length, -suffix.length) : '';
    if (/^[0-9a-f]{32}$/.test(id)) ids.add(id);
  }
  const removed: string[] = [];
  for (const id of ids) {
    if (busy(id)) continue;
    const { data, state } = partialPaths(folder, id);
    // lstat: a link planted at a partial's name is judged by itself, and only it removed.
    const times = await Promise.all(
      [data, state].map((path) =>
        lstat(path).then(
          (s) => s.mtimeMs,
          () => Number.NEGATIVE_INFINITY,
        ),
      ),
    );
    if (Math.max(...times) >= before || busy(id)) continue;
    await removePartial(folder, id);
    removed.push(id);
  }
  return removed;
}

/** A partial's files go: its data, its state and any temporary a writer of it left. */
export async function removePartial(folder: string, id: string): Promise<void> {
  const { data, state, temporary } = partialPaths(folder, id);
  await Promise.all([data, state, temporary].map((path) => rm(path, { force: true })));
  await removeStaleTemporaries(folder, id);
}

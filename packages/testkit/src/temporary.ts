/**
 * Temporary folders a test makes (netchat homes, npm prefixes, history folders), each remembered
 * so `cleanUp` removes it when the test file ends, whether its tests passed or not.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/** A new, empty folder in the temp folder, named `prefix` and a random tail; removed by `cleanUp`. */
export function temporaryDirectory(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Removes every folder `temporaryDirectory` made so far. */
export function removeTemporaryDirectories(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

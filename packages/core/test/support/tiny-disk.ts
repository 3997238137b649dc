/**
 * A small real disk that fills: a tmpfs mounted on a new folder under the temporary folder.
 * Mounting needs root on Linux (CI runs as root); elsewhere the test is skipped with the reason.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs a system command; undefined when it succeeded, else why not. */
export function runCommand(command: string, args: string[]): string | undefined {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 20_000 });
  if (result.error) return result.error.message;
  return result.status === 0 ? undefined : result.stderr.trim() || `exit code ${result.status}`;
}

export interface TinyDisk {
  readonly mountPoint: string;
  /** Its size again (mount(8)'s `size=`, e.g. `4m`): the person freed some room. */
  resize(size: string): string | undefined;
  /** Unmounts it and removes its folder; lazily, so a handle a failed assertion left open cannot keep it. */
  remove(): void;
}

/** A tmpfs of `size` (mount(8)'s `size=`, e.g. `5m`); skips the test (`skip`) where it cannot be mounted. */
export function mountTinyDisk(name: string, size: string, skip: (reason: string) => never): TinyDisk {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) skip('mounting a tmpfs needs root on Linux');
  const mountPoint = mkdtempSync(join(tmpdir(), `netchat-${name}-${process.pid}-`));
  const mounted = runCommand('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', mountPoint]);
  if (mounted !== undefined) {
    rmSync(mountPoint, { recursive: true, force: true });
    skip(`cannot mount a tmpfs here: ${mounted}`);
  }
  return {
    mountPoint,
    resize: (to) => runCommand('mount', ['-o', `remount,size=${to}`, mountPoint]),
    remove() {
      runCommand('umount', ['-l', mountPoint]);
      rmSync(mountPoint, { recursive: true, force: true });
    },
  };
}

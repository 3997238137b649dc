/**
 * Writing the files of the netchat home (known peers, settings, chat history) so that a home
 * that cannot be written never ends a chat: the write is whole or not at all (a temporary file
 * beside it, then a rename), and a failure becomes a `SaveFailure` (where, and why in a few
 * words) for the program to show as one line, never an exception thrown into the chat.
 */
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { makeFolder } from './make-folder.js';
import { isRunning } from './running-process.js';

/** A file in the netchat home that could not be written. */
export interface SaveFailure {
  readonly path: string;
  /** Why, in a few words a person understands ("read-only file system", "permission denied"). */
  readonly reason: string;
}

/** Writes `text` to `path` (mode 0600, its folder made 0700): whole or not at all. Throws the system's error. */
export type FileWriter = (path: string, text: string) => void;

export const writeFileAtomically: FileWriter = (path, text) => {
  makeFolder(dirname(path), 0o700);
  // The pid keeps two programs sharing a home from writing the same temporary file.
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, text, { mode: 0o600 });
    renameSync(temporary, path);
  } catch (error) {
    // A half-written temporary file goes; anything else by that name (not ours) stays.
    try {
      rmSync(temporary, { force: true });
    } catch {}
    throw error;
  }
};

/**
 * How long a program waits for others to finish writing a shared file: each holds it for the
 * milliseconds of one read and one write, but a dozen at once on a loaded machine queue up.
 */
export const LOCK_WAIT_MS = 2_000;
/** A lock older than this was left by a program that died while writing: it is taken over. */
const STALE_LOCK_MS = 10_000;

/**
 * Runs `run` while holding `<path>.lock`, made exclusively (as git's index.lock), so programs
 * sharing a netchat home never interleave their reads and writes of one file: each reads what
 * the last one wrote. It is held for one read and one write. A lock left by a program that is
 * gone (its pid runs no more on this machine, or older than 10 s anywhere) is taken over. One
 * a live program holds beyond `waitMs` (a program stopped with Ctrl-Z while writing) throws an
 * error with code ELOCKED. Where no lock can be made at all (a read-only home), `run` runs
 * without one: its write then says what is wrong.
 */
export function withFileLock<T>(path: string, run: () => T, waitMs = LOCK_WAIT_MS): T {
  const lock = `${path}.lock`;
  const owner = `${hostname()} ${process.pid}\n`;
  const deadline = Date.now() + waitMs;
  let held = false;
  for (;;) {
    try {
      writeFileSync(lock, owner, { flag: 'wx', mode: 0o600 });
      held = true;
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') break;
    }
    if (leftOver(lock)) {
      rmSync(lock, { force: true });
      continue;
    }
    if (Date.now() >= deadline)
      throw Object.assign(new Error(`${lock} is held by another program`), { code: 'ELOCKED' });
    pause(5);
  }
  try {
    return run();
  } finally {
    if (held) release(lock, owner);
  }
}

/** Whether a lock is gone already, or was left by a program that no longer runs. */
function leftOver(lock: string): boolean {
  let text: string;
  let age: number;
  try {
    age = Date.now() - statSync(lock).mtimeMs;
    text = readFileSync(lock, 'utf8');
  } catch {
    return true;
  }
  if (age > STALE_LOCK_MS) return true;
  const [host, pid] = text.trim().split(' ');
  // Written but not yet filled in, or another machine's (a shared home): only its age tells.
  if (host !== hostname() || pid === undefined) return false;
  // Our own pid: this program holds no lock between its calls, so it is a dead one's that had our pid.
  if (Number(pid) === process.pid) return true;
  return !isRunning(Number(pid));
}

/** Removes our lock (not one another program took over after we held it too long). */
function release(lock: string, owner: string): void {
  try {
    if (readFileSync(lock, 'utf8') === owner) rmSync(lock, { force: true });
  } catch {}
}

/** Blocks for `ms`: a wait for another program's write, which takes milliseconds. */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const REASONS: Record<string, string> = {
  // Ours: a lock another program holds too long, and a file we will not write over.
  ELOCKED: 'another program is writing it (its .lock file stays)',
  ECORRUPT: 'it is corrupt (move it away to start a new one)',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the disk',
  EDQUOT: 'disk quota exceeded',
  ENOTDIR: 'a file is where a folder should be',
  EISDIR: 'a folder is where a file should be',
  ENOENT: 'its folder does not exist',
  // mkdir's answer when a file has the folder's name.
  EEXIST: 'a file is where a folder should be',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
};

/**
 * A file-system error in a few words: "read-only file system", not "EROFS: read-only file system,
 * open '…'". `reading`: the path was to be read, so a missing one is the file itself, not its folder.
 */
export function fileProblem(error: unknown, reading = false): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (reading && code === 'ENOENT') return 'no such file or folder';
  if (code !== undefined && REASONS[code]) return REASONS[code];
  const message = error instanceof Error ? error.message : String(error);
  // The system's text without the call and path node adds ("EACCES: permission denied, open '/x'").
  return message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
}

/** Runs `write`; a failure becomes a SaveFailure for `path` instead of an exception. */
export function trySave(path: string, write: () => void): SaveFailure | undefined {
  try {
    write();
    return undefined;
  } catch (error) {
    return { path, reason: fileProblem(error) };
  }
}

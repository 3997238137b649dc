/**
 * Writing the files of the netchat home (known peers, settings, chat history) so that a home
 * that cannot be written never ends a chat: the write is whole or not at all (a temporary file
 * beside it, then a rename), and a failure becomes a `SaveFailure` (where, and why in a few
 * words) for the program to show as one line, never an exception thrown into the chat.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** A file in the netchat home that could not be written. */
export interface SaveFailure {
  readonly path: string;
  /** Why, in a few words a person understands ("read-only file system", "permission denied"). */
  readonly reason: string;
}

/** Writes `text` to `path` (mode 0600, its folder made 0700): whole or not at all. Throws the system's error. */
export type FileWriter = (path: string, text: string) => void;

export const writeFileAtomically: FileWriter = (path, text) => {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
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

const REASONS: Record<string, string> = {
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

/** A file-system error in a few words: "read-only file system", not "EROFS: read-only file system, open '…'". */
export function fileProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
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

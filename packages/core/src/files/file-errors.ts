/**
 * Why a file transfer, or one step of it, failed: a stable code (which step 2's wire and
 * `--json` events carry as `reason`) and one line a person understands. Each code has one
 * factory, as `errors.ts` does for the engine's API misuse.
 */
import { sizesApart, sizeText } from '../size-text.js';

export type FileFailure =
  /** The download folder has less free space than the offer needs. */
  | 'no_room'
  /** The disk filled while writing: what was made durable is kept for a later resume. */
  | 'disk_full'
  /** The data ended before, or went past, the size the offer said. */
  | 'size_mismatch'
  /** The data's BLAKE2b-256 is not the offer's (the file changed while it was sent, or was damaged). */
  | 'hash_mismatch'
  /** The sender's file changed (size or modification time) since it was opened or hashed. */
  | 'source_changed'
  /** A path names something that is not a regular file (a folder, a device, a socket). */
  | 'not_a_file'
  /**
   * A folder on the way to a received file is a file or a symbolic link (never followed), or the
   * download folder itself is no longer the folder it was when opened (moved away, or a link put
   * in its place).
   */
  | 'not_a_folder'
  /** A folder offered has more files, or deeper folders, than an offer may carry. */
  | 'too_many_files'
  /** Reading a file failed (permission denied, it vanished, an I/O error). */
  | 'read_failed'
  /** Writing a file failed for another reason (permission denied, read-only file system, ...). */
  | 'write_failed'
  /** This file (same sender, hash and size) is already being received. */
  | 'busy'
  /** No free name: `name (1).ext` to `name (9999).ext` all exist. */
  | 'no_free_name';

export class FileTransferError extends Error {
  override readonly name = 'FileTransferError';
  constructor(
    readonly code: FileFailure,
    message: string,
    /** The file concerned (a local path, or the name a peer offered). */
    readonly path?: string,
  ) {
    super(message);
  }
}

/** What an offer needs on the disk, by why (PartialStore.checkRoom). */
export interface RoomNeeds {
  /** The offer's bytes not held here yet. */
  readonly offer: number;
  /** What the files being received here already still need. */
  readonly underWay: number;
  /** The margin left free (for state files and the folder). */
  readonly keptFree: number;
}

/**
 * `4 MB needed (3 MB for the offer and 1 MB kept free), 3 MB free`: the total, and what makes it
 * when more than the offer does (a total that shows the margin without saying so reads false);
 * in bytes when the rounded total and free would read the same.
 */
function roomText(needs: RoomNeeds, available: number): string {
  const total = needs.offer + needs.underWay + needs.keptFree;
  const [a, b] = sizesApart(total, available);
  const parts = [
    needs.offer > 0 ? `${sizeText(needs.offer)} for the offer` : '',
    needs.underWay > 0 ? `${sizeText(needs.underWay)} still to come in transfers under way` : '',
    needs.keptFree > 0 ? `${sizeText(needs.keptFree)} kept free` : '',
  ].filter((part) => part !== '');
  const listed = parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}` : parts[0];
  const why = needs.offer === total ? '' : ` (${listed})`;
  return `${a} needed${why}, ${b} free`;
}

const fail = (code: FileFailure, message: string, path?: string) =>
  new FileTransferError(code, message, path);

export const fileErrors = {
  noRoom: (folder: string, needs: RoomNeeds, available: number) =>
    fail('no_room', `not enough room in ${folder}: ${roomText(needs, available)}`, folder),
  // `kept`: the bytes a resume starts from (written and synced), not what the partial holds now.
  diskFull: (path: string, kept: number) =>
    fail(
      'disk_full',
      kept > 0
        ? `no space left on the disk writing ${path}: the first ${sizeText(kept)} are kept, and it goes on from there when offered again`
        : `no space left on the disk writing ${path}: nothing of it could be kept; it starts over when offered again`,
      path,
    ),
  sizeMismatch: (path: string, expected: number, got: number) =>
    fail('size_mismatch', `${path}: ${got} bytes arrived, the offer said ${expected}`, path),
  hashMismatch: (path: string) =>
    fail(
      'hash_mismatch',
      `${path}: the data does not match the offer's hash (changed while sent, or damaged)`,
      path,
    ),
  sourceChanged: (path: string, what: string) =>
    fail('source_changed', `${path} changed while it was being sent (${what})`, path),
  notAFile: (path: string, what: string) =>
    fail('not_a_file', `${path} is ${what}, not a regular file`, path),
  notAFolder: (path: string, why?: string) =>
    fail(
      'not_a_folder',
      why ? `${path}: ${why}` : `${path} is not a folder (a file or a symbolic link is in the way)`,
      path,
    ),
  tooManyFiles: (path: string, why: string) => fail('too_many_files', `${path}: ${why}`, path),
  readFailed: (path: string, reason: string) => fail('read_failed', `cannot read ${path}: ${reason}`, path),
  writeFailed: (path: string, reason: string) =>
    fail('write_failed', `cannot write ${path}: ${reason}`, path),
  busy: (path: string) => fail('busy', `${path} is already being received`, path),
  noFreeName: (path: string) =>
    fail('no_free_name', `no free name for ${path}: up to 9999 copies exist`, path),
};

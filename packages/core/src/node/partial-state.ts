/**
 * The small state file beside a partial file: which file it is (sender key, hash, size, the name
 * it will take), how many bytes of it are durably held, and the BLAKE2b state after those bytes,
 * so a resumed receiver goes on hashing without reading them again. Both files are hidden
 * (dot-names) in the download folder, named after the transfer's identity:
 * `.netchat-<id>.part` and `.netchat-<id>.state`, `<id>` = 32 hex digits of
 * BLAKE2b("netchat partial v1" ‖ sender key ‖ hash ‖ size as 8 bytes big-endian).
 *
 * A file verified and placed whose sender never heard so (the transfer ended while it was being
 * finished) keeps its state, saying where it was placed (`placed`): the sender offers it again,
 * and the receiver answers from that record that it holds it all (placed-file.ts).
 *
 * The state is written whole or not at all, and durably: a temporary file, fsync, rename. It
 * only ever claims bytes already fsynced in the partial file, so after a crash it may claim
 * fewer bytes than the partial holds (those are written again), never more.
 */
import { constants } from 'node:fs';
import { open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { STATE_FORMAT } from '../files/content-hash.js';
import { safeRelativePath } from '../files/names.js';
import { blake2b } from '../secure/crypto.js';
import { isRunning } from './running-process.js';

/** What identifies a file for resume: who sends it, and its content. */
export interface PartialKey {
  /** The sender's static public key (64 hex digits). */
  readonly senderKey: string;
  /** The file's BLAKE2b-256 (64 hex digits). */
  readonly hash: string;
  readonly size: number;
}

const hex32 = z.string().regex(/^[0-9a-f]{64}$/);
export const PartialKeySchema = z.strictObject({
  senderKey: hex32,
  hash: hex32,
  size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});

const StateFile = z
  .strictObject({
    version: z.literal(1),
    ...PartialKeySchema.shape,
    /** Bytes of the partial file fsynced before this state was written. */
    held: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    /** ContentHasher's STATE_FORMAT when the state was saved. */
    hashFormat: z.string().max(200),
    /** The BLAKE2b state after `held` bytes, base64. */
    hashState: z.string().max(2000),
    /** The safe relative path the file takes in the download folder. */
    name: z.string().min(1).max(4096),
    /** When the state was written (ISO 8601). */
    updated: z.string().max(40),
    /**
     * Set once the file was verified and placed but its sender never heard so (the transfer ended
     * while it was being finished): the safe relative path it took, and that file's modification
     * time then. Its partial is gone; `held` is the size while that file is still as placed.
     */
    placed: z.string().min(1).max(4096).optional(),
    placedMtimeMs: z.number().min(0).optional(),
    /**
     * That file's status change time then: a file rewritten or renamed into its place with its
     * modification time set back (`cp -p`, `touch -r`) has a new one, which no one can set back.
     * Absent in records written before 2026-12-07 (the modification time alone is compared).
     */
    placedCtimeMs: z.number().min(0).optional(),
  })
  .refine((state) => state.held <= state.size, 'held is more than the size')
  .refine(
    (state) => state.placed === undefined || (state.held === state.size && state.placedMtimeMs !== undefined),
    'a placed file is held whole, with its modification time',
  )
  .refine((state) => {
    if (state.placed === undefined) return true;
    const safe = safeRelativePath(state.placed);
    return safe.ok && !safe.changed;
  }, 'placed is not a safe relative path')
  .refine((state) => {
    const safe = safeRelativePath(state.name);
    return safe.ok && !safe.changed;
  }, 'name is not a safe relative path');
export type PartialState = z.infer<typeof StateFile>;

const ID_DOMAIN = Buffer.from('netchat partial v1');

export function partialId(key: PartialKey): string {
  const size = Buffer.alloc(8);
  size.writeBigUInt64BE(BigInt(key.size));
  const input = Buffer.concat([
    ID_DOMAIN,
    Buffer.from(key.senderKey, 'hex'),
    Buffer.from(key.hash, 'hex'),
    size,
  ]);
  return Buffer.from(blake2b(16, input)).toString('hex');
}

export interface PartialPaths {
  readonly data: string;
  readonly state: string;
  /** Where a new state is written before it is renamed over `state`. */
  readonly temporary: string;
}

export const PARTIAL_PREFIX = '.netchat-';
export const PARTIAL_DATA_SUFFIX = '.part';
export const PARTIAL_STATE_SUFFIX = '.state';

export function partialPaths(folder: string, id: string): PartialPaths {
  const base = join(folder, `${PARTIAL_PREFIX}${id}`);
  return {
    data: `${base}${PARTIAL_DATA_SUFFIX}`,
    state: `${base}${PARTIAL_STATE_SUFFIX}`,
    // The pid keeps two programs sharing a download folder from writing the same temporary file.
    temporary: `${base}${PARTIAL_STATE_SUFFIX}.${process.pid}.tmp`,
  };
}

/**
 * Removes the temporary state files of partial `id` that programs no longer running left (one
 * killed while it wrote its state leaves `.netchat-<id>.state.<pid>.tmp`), so the folder holds
 * nothing of a transfer once it ends. A running program's (ours, or another's sharing the
 * folder) is left alone.
 */
export async function removeStaleTemporaries(folder: string, id: string): Promise<void> {
  const start = `${PARTIAL_PREFIX}${id}${PARTIAL_STATE_SUFFIX}.`;
  const names = await readdir(folder).catch(() => [] as string[]);
  for (const name of names) {
    const pid = name.startsWith(start) && name.endsWith('.tmp') ? Number(name.slice(start.length, -4)) : 0;
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || isRunning(pid)) continue;
    await rm(join(folder, name), { force: true }).catch(() => {});
  }
}

/** The most a state file may be (it is under 1 KB). */
const MAX_STATE_BYTES = 16 * 1024;

/**
 * The state at `path`, or undefined if there is none or it is unusable (corrupt, another version,
 * not a regular file: a link or a pipe planted at its name is neither followed nor waited on).
 */
export async function readState(path: string): Promise<PartialState | undefined> {
  let text: string;
  try {
    const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | NO_FOLLOW);
    try {
      const stats = await handle.stat();
      if (!stats.isFile() || stats.size > MAX_STATE_BYTES) return undefined;
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
  try {
    const parsed = StateFile.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export function stateText(state: PartialState): string {
  return `${JSON.stringify(state)}\n`;
}

/** The state of a file being received: `held` bytes fsynced, and the hash state after them (base64). */
export function heldState(
  key: PartialKey,
  name: string,
  held: number,
  hashState: string,
  updated: Date,
): PartialState {
  const { senderKey, hash, size } = key;
  const hashFormat = STATE_FORMAT;
  return {
    version: 1,
    senderKey,
    hash,
    size,
    held,
    hashFormat,
    hashState,
    name,
    updated: updated.toISOString(),
  };
}

/**
 * The state of a file verified and placed at `placed` (its modification and status change times
 * then) whose sender never heard so.
 */
export function placedState(
  key: PartialKey,
  name: string,
  placed: string,
  placedMtimeMs: number,
  updated: Date,
  placedCtimeMs?: number,
): PartialState {
  const state = { ...heldState(key, name, key.size, '', updated), placed, placedMtimeMs };
  return placedCtimeMs === undefined ? state : { ...state, placedCtimeMs };
}

/** O_NOFOLLOW where the platform has it: a symbolic link planted at our name is not written through. */
export const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;

/** Writes `text` to `path` whole or not at all, durably: a temporary file, fsync, rename. */
export async function saveStateDurably(path: string, temporary: string, text: string): Promise<void> {
  const handle = await open(
    temporary,
    constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | NO_FOLLOW,
    0o600,
  );
  try {
    await handle.writeFile(text);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(temporary, { force: true }).catch(() => {});
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => {});
    throw error;
  }
}

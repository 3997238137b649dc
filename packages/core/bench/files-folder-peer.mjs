/**
 * What files-peer.mjs's receiver adds for the folder benchmark (files-folder.ts): the time its
 * disk requests take, by kind, and the disk's own limit in the same process.
 */
import { randomFillSync } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Times the FileLink's storage requests (open, write, finish, ...): per kind, how many, their
 * total and mean time from asked to answered, and the most in progress at once. Where a folder's
 * time goes on the receiver's side.
 */
export function storageTimer(link) {
  const storage = link.storage;
  const perform = storage.perform.bind(storage);
  let kinds = new Map();
  let inProgress = 0;
  let most = 0;
  storage.perform = (request, answer) => {
    const started = performance.now();
    let entry = kinds.get(request.kind);
    if (!entry) {
      entry = { count: 0, ms: 0, inProgress: 0, most: 0 };
      kinds.set(request.kind, entry);
    }
    entry.count++;
    const e = entry;
    if (request.id === undefined) return perform(request, answer);
    e.inProgress++;
    e.most = Math.max(e.most, e.inProgress);
    inProgress++;
    most = Math.max(most, inProgress);
    return perform(request, (id, outcome) => {
      e.ms += performance.now() - started;
      e.inProgress--;
      inProgress--;
      answer(id, outcome);
    });
  };
  return {
    reset() {
      kinds = new Map();
      most = inProgress;
    },
    summary() {
      const out = { mostInProgress: most };
      for (const [kind, e] of kinds)
        out[kind] = { count: e.count, meanMs: e.count ? e.ms / e.count : 0, most: e.most };
      return out;
    },
  };
}

/**
 * The disk's own limit for what a receiver must do per file: `files` files of `size` random
 * bytes, each written to a hidden name in a folder of `perFolder` files, fdatasynced, linked
 * into place, its hidden name removed and its folder fsynced (as place-file.ts does), `parallel`
 * at a time. Files a second; the folder is removed after.
 */
export async function diskBaseline({ folder, files, size, perFolder, parallel }) {
  const data = randomFillSync(Buffer.allocUnsafe(Math.max(1, size)));
  const started = performance.now();
  let next = 0;
  /** Each subfolder's making, once (the workers that need it wait for it). */
  const made = new Map();
  await mkdir(folder, { recursive: true });
  const one = async (index) => {
    const sub = join(folder, `d${Math.floor(index / perFolder)}`);
    if (!made.has(sub)) made.set(sub, mkdir(sub, { recursive: true }));
    await made.get(sub);
    const hidden = join(folder, `.partial-${index}`);
    const handle = await open(hidden, constants.O_RDWR | constants.O_CREAT, 0o666);
    if (size >= 4) data.writeUInt32BE(index, 0); // no two files alike
    await handle.write(data, 0, size, 0);
    await handle.datasync();
    await handle.close();
    await link(hidden, join(sub, `f${index}.bin`));
    const dir = await open(sub, constants.O_RDONLY);
    await dir.sync();
    await dir.close();
    await unlink(hidden);
  };
  const worker = async () => {
    for (let i = next++; i < files; i = next++) await one(i);
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  const seconds = (performance.now() - started) / 1000;
  await rm(folder, { recursive: true, force: true });
  return { files, seconds, filesPerSecond: files / seconds };
}

// README's files building blocks, a program: `file-blocks.js FOLDER DOWNLOADS HOME` takes FOLDER's
// files through the sender's and the receiver's blocks (no network) into DOWNLOADS.
const [photos = '', downloadDir = '', home = ''] = process.argv.slice(2);
const args = { downloadDir };
const settings: { downloadDir?: string } = {};
const senderKey = 'ab'.repeat(32);
// ---- README ----
import {
  checkOffer, downloadFolder, FileSource, OutgoingTransfers, PartialStore, ProgressEstimator, walkFolder,
} from '../../src/index.js';

// Sender: a folder's regular files (symbolic links inside are not followed).
const walk = await walkFolder(photos); // files: [{ path: 'photos/a.jpg', source, size, mtimeMs }], skipped
const record = OutgoingTransfers.load(home); // unfinished offers to make again when the chat reopens

// Receiver: where files go, which names, whether they fit, then each file.
const folder = downloadFolder(args.downloadDir, settings.downloadDir); // { ok, folder } or { ok: false, message }
const check = checkOffer(walk.files); // safe paths, or the offer refused (`unsafe_name`, `duplicate_path`, ...)
if (!folder.ok || !check.ok) throw new Error('no download folder, or the offer is refused');
const store = new PartialStore(folder.folder);
for (const [i, { path, size }] of check.files.entries()) {
  const source = await FileSource.open(walk.files[i]?.source ?? ''); // the sender's side of this file
  const hash = await source.hash(); // BLAKE2b-256, hex, in one pass
  const key = { senderKey, hash, size };
  const offset = await store.held(key); // what the accept tells the sender: 0 if new
  if (!(await store.checkRoom(size - offset)).ok) throw new Error('no room'); // decline: `no_room`
  const file = await store.open(key, path); // file.received === offset
  const progress = new ProgressEstimator(size, offset, performance.now()); // snapshot(now): rate, eta
  const chunk = new Uint8Array(65_536);
  while (file.received < size) {
    const read = await source.readAt(file.received, chunk); // into your buffer; `source_changed` if it changed
    await file.write(file.received, chunk.subarray(0, read)); // in order; undefined, or a promise: await it
    progress.update(file.received, performance.now());
  }
  const received = await file.finish(); // { path, relativePath, size, hash }: verified, fsynced, in place
  // or: await file.close() (interrupted: kept for a resume, unless it holds nothing), await file.cancel() (removed)
  await source.close();
  console.log(`${received.relativePath}: ${received.size} bytes, ${progress.snapshot(performance.now()).averageRate} B/s`);
}
// ---- end README ----
console.log(`${record.all().length} unfinished offers recorded`);

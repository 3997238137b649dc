// The example of packages/core/README.md's "Files" section, word for word below this comment
// (with '@netchat/core' for the import path): typechecked with the tests, and run by
// file-readme.test.ts between two peers.
import { FileLink, type NetchatPeer, OutgoingTransfers, type TransferId } from '../../src/index.js';

/** Receiving: every offer of at most 1 GiB is accepted into `folder`. */
export function receiveFiles(peer: NetchatPeer, folder: string, say: (line: string) => void): FileLink {
  const files = new FileLink(peer, { downloadFolder: folder, maxFileSize: 1024 ** 3 });
  files.on('file_offer', async (offer) => {
    // offer.files: [{ path, size, hash }], offer.totalSize; offer.held: bytes already here.
    if (offer.resuming) return; // files we hold part of: accepted by itself, from there
    const outcome = await files.accept(offer.transfer); // or files.decline(offer.transfer)
    if (!outcome.accepted) say(`declined (${outcome.reason}): ${outcome.message}`); // too_large, no_room
  });
  files.on('file_progress', (p) => say(`${p.bytes} of ${p.size} bytes, ${Math.round(p.rate)} B/s`));
  files.on('file_received', (f) => say(`${f.path}: ${f.size} bytes in ${f.seconds} s, verified`));
  files.on('file_failed', (f) =>
    say(`${f.reason}: ${f.message}${f.resumable ? ' (kept for a resume)' : ''}`),
  );
  return files;
}

/** Sending: `paths` (files or folders) offered to each peer that takes files, once its chat opens. */
export function sendFiles(
  peer: NetchatPeer,
  paths: string[],
  home: string,
  say: (line: string) => void,
): { files: FileLink; offered: TransferId[] } {
  // Unfinished offers are recorded in `home` and made again by themselves when the chat reopens.
  const files = new FileLink(peer, { outgoing: OutgoingTransfers.load(home) });
  const offered: TransferId[] = [];
  peer.on('features', async (e) => {
    if (!e.features.files) return; // an older netchat: offer() would reject with FILES_UNSUPPORTED
    const transfer = await files.offer(e.session, paths, (bytes, total) =>
      say(`hashed ${bytes} of ${total}`),
    );
    offered.push(transfer); // files.cancel(transfer) stops it, either side; the peer is told
  });
  files.on('file_declined', (d) => say(`declined: ${d.reason}`));
  files.on('file_done', (d) => say(`transfer ${d.transfer}: ${d.verified} of ${d.files} files verified`));
  return { files, offered };
}

/**
 * The sender's side of a resume: each offer we make is recorded (OutgoingTransfers, in the netchat
 * home) until every file of it was sent or it ended for good (declined, cancelled, refused as a
 * protocol error), and made again, under its first offer id, on each chat with the same peer key
 * that takes files. A file changed since it was hashed is dropped from the record, and said so.
 */
import { stat } from 'node:fs/promises';
import type { SessionId } from '../events.js';
import type { FileEvent, TransferId, TransferInfo } from '../files/file-events.js';
import type { FileTransfers } from '../files/file-transfers.js';
import type { OfferInput } from '../files/sending.js';
import type { SourceFile } from './file-storage.js';
import type { NetchatPeer } from './netchat-peer.js';
import type { OutgoingOffer, OutgoingTransfers } from './outgoing-transfers.js';

/** What the re-offers need of their FileLink. */
export interface ReofferLink {
  readonly peer: NetchatPeer;
  readonly engine: FileTransfers;
  readonly outgoing: OutgoingTransfers;
  /** Offers `files` (read from `source`) to the peer of `session` again under `offerId`; throws as `FileTransfers.offer`. */
  offer(session: SessionId, files: readonly (OfferInput & SourceFile)[], offerId: string): TransferId;
  /** A line for the person: something went wrong that is nobody's to answer. */
  warn(line: string): void;
}

/** Whether `event` ends its transfer: every event of it has come. */
export function endsTransfer(event: FileEvent): boolean {
  return (
    event.type === 'file_done' ||
    event.type === 'file_declined' ||
    event.type === 'file_cancelled' ||
    (event.type === 'file_failed' && event.file === undefined)
  );
}

export class Reoffers {
  /** Offers of ours running now, by `peerKey/offerId`: not made again while they run. */
  private readonly running = new Map<string, TransferId>();
  /** Of those, the ones made again by themselves (not by the application), by `peerKey/offerId`. */
  private readonly again = new Set<string>();
  private closed = false;

  constructor(private readonly link: ReofferLink) {}

  /** The link stops: nothing is offered again from now on. */
  close(): void {
    this.closed = true;
  }

  /** We made an offer: it runs, and is recorded until each of its files was sent or it ended for good. */
  made(info: TransferInfo, files: readonly { source: string; mtimeMs: number }[]): void {
    this.running.set(`${info.peerKey}/${info.offerId}`, info.id);
    const forgotten = this.link.outgoing.record({
      peerKey: info.peerKey,
      offerId: info.offerId,
      created: new Date().toISOString(),
      files: info.files.map((f, i) => ({
        path: f.path,
        source: files[i]?.source ?? '',
        size: f.size,
        hash: f.hash,
        mtimeMs: files[i]?.mtimeMs ?? 0,
        confirmed: 0,
      })),
    });
    for (const offer of forgotten)
      this.link.warn(
        `Unfinished offer of ${offeredWhat(offer.files)} forgotten: too many unfinished offers are kept; it will not be made again by itself.`,
      );
  }

  /** An event of one of our offers: the record follows what was sent, declined or cancelled. */
  onEvent(event: FileEvent): void {
    const info = this.link.engine.transfer(event.transfer);
    if (!info) return;
    const { peerKey, offerId } = info;
    const path = (index: number | undefined) => (index === undefined ? undefined : info.files[index]?.path);
    if (event.type === 'file_started') {
      const p = path(event.file);
      if (p) this.link.outgoing.confirm(peerKey, offerId, p, event.offset);
    } else if (
      event.type === 'file_sent' ||
      (event.type === 'file_failed' && event.file !== undefined && !event.resumable)
    ) {
      const p = path(event.file);
      if (p) this.link.outgoing.fileDone(peerKey, offerId, p);
      const file = event.type === 'file_sent' ? info.files[event.file] : undefined;
      if (file) this.link.outgoing.contentDone(peerKey, file.hash, file.size);
    } else if (
      event.type === 'file_declined' ||
      event.type === 'file_cancelled' ||
      (event.type === 'file_failed' && event.reason === 'protocol_error')
    )
      this.link.outgoing.remove(peerKey, offerId);
    if (endsTransfer(event)) {
      this.running.delete(`${peerKey}/${offerId}`);
      this.again.delete(`${peerKey}/${offerId}`);
      // Interrupted with its session: if the peer's next chat opened before this one was found
      // lost (a restarted peer: its old session is probed and lost after the new one opens), the
      // offer is made again there now, as it would have been when that chat opened.
      if (event.type === 'file_failed' && event.reason === 'interrupted')
        queueMicrotask(() => this.offerAgainToKey(peerKey));
    }
  }

  /** Whether our offer `offerId` to `peerKey` is one made again by itself (a resume), not the application's. */
  madeAgain(peerKey: string, offerId: string): boolean {
    return this.again.has(`${peerKey}/${offerId}`);
  }

  /** Our unfinished offers to `peerKey` made again on each open chat with it that takes files. */
  offerAgainToKey(peerKey: string): void {
    if (this.closed) return;
    for (const session of this.link.peer.listSessions())
      if (session.publicKey === peerKey && session.state === 'open' && session.peerFeatures?.files)
        void this.offerAgain(session.id);
  }

  /** The peer of `session` takes files: our unfinished offers to its key are made again. */
  async offerAgain(session: SessionId): Promise<void> {
    const info = this.link.peer.session(session);
    if (info?.state !== 'open' || this.closed) return;
    for (const offer of this.link.outgoing.forPeer(info.publicKey)) {
      if (this.running.has(`${offer.peerKey}/${offer.offerId}`)) continue;
      const files = await this.unchanged(offer);
      if (files.length === 0) continue;
      if (
        this.link.peer.session(session)?.state !== 'open' ||
        this.running.has(`${offer.peerKey}/${offer.offerId}`)
      )
        return;
      const key = `${offer.peerKey}/${offer.offerId}`;
      this.again.add(key); // before the offer: its file_offer is told inside the call
      try {
        const transfer = this.link.offer(session, files, offer.offerId);
        this.running.set(key, transfer);
      } catch (error) {
        this.again.delete(key);
        this.link.warn(`could not offer again ${offer.files.length} files: ${(error as Error).message}`);
      }
    }
  }

  /** The files of a recorded offer still as they were hashed (a changed one is dropped from the record). */
  private async unchanged(offer: OutgoingOffer) {
    const files: { path: string; size: number; hash: string; source: string; mtimeMs: number }[] = [];
    for (const file of offer.files) {
      const now = await stat(file.source, { bigint: true }).catch(() => undefined);
      if (now?.isFile() && Number(now.size) === file.size && Number(now.mtimeMs) === file.mtimeMs)
        files.push(file);
      else {
        this.link.outgoing.fileDone(offer.peerKey, offer.offerId, file.path);
        this.link.warn(`${file.source} changed since it was offered: it is not offered again`);
      }
    }
    return files;
  }
}

/** `"a.txt"` or `"a.txt" and 2 more files`, for a line about an offer. */
function offeredWhat(files: readonly { readonly path: string }[]): string {
  const first = JSON.stringify(files[0]?.path ?? '');
  if (files.length <= 1) return first;
  return `${first} and ${files.length - 1} more file${files.length === 2 ? '' : 's'}`;
}

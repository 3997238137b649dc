/**
 * The peer's offers once shown (the receiver's side, PROTOCOL.md Files: transfers): the person's
 * answer, then, accepted, each file's partial file opened (its offset: what is held durably of
 * the same file from the same sender) and asked for with a `want`, a few files ahead of the one
 * moving (`wantAhead`, within a bound for all receives together: `openMore`), each with a
 * partial open, none with a buffer until its bytes come; the bytes arrive on a data stream
 * (receive-pipe.ts); each file ends with a verdict to the sender.
 * Two files with the same content (two empty files, a copy) are asked for one after the other:
 * the partial file of a content is open once at a time.
 */
import { offerBytes, type OfferDeclineReason, type RecordOf } from './records.js';
import { ProgressEstimator } from './progress.js';
import { newPace } from './receive-stalls.js';
import type { StorageOutcome } from './storage-requests.js';
import { STREAM_CODES, type TransferContext } from './transfer-context.js';
import { cancelled, declined, settleFile, stopDataStream, storageFailure } from './transfer-ending.js';
import { advance, advanceFile, fileSettled } from './transfer-states.js';
import type { Transfer, TransferFile } from './transfer-table.js';

/** The person took the offer. `held`: per file, the bytes already held (the storage said), for the accept. */
export function acceptOffer(ctx: TransferContext, transfer: Transfer, held: readonly number[]): void {
  transfer.files.forEach((file, index) => {
    file.held = Math.min(file.size, Math.max(0, held[index] ?? 0));
  });
  transfer.held = transfer.files.reduce((sum, f) => sum + f.held, 0);
  advance(transfer, 'accept');
  transfer.pace = newPace(ctx.now);
  transfer.progress = new ProgressEstimator(transfer.totalSize, transfer.held, ctx.now, {
    reportEveryMs: ctx.options.progressEveryMs,
  });
  ctx.send(transfer.session, { type: 'accept', offer: offerBytes(transfer.offerId), held: transfer.held });
  ctx.emit({
    type: 'file_accepted',
    transfer: transfer.id,
    session: transfer.session,
    direction: 'receive',
    offset: transfer.held,
  });
  openMore(ctx, transfer);
}

export function declineOffer(ctx: TransferContext, transfer: Transfer, reason: OfferDeclineReason): void {
  ctx.send(transfer.session, { type: 'decline', offer: offerBytes(transfer.offerId), reason });
  declined(ctx, transfer, reason, 'local');
}

/**
 * Opens (and then asks for) the next files: of `transfer` first, then of the other receives (a
 * file that settled here may leave room for theirs). A receive asks for up to `wantAhead` files
 * (16) not settled at once: its `ownFilesAsked` (4) always, the rest while all receives together
 * have fewer than `sharedFilesAsked` (64) asked and its peer's fewer than `peerFilesAsked` (32)
 * (TRANSFER_LIMITS): many small files overlap their opens, fsyncs and verdicts, the partial files
 * open stay bounded however many offers run, and one peer's receives never hold the whole pool.
 */
export function openMore(ctx: TransferContext, transfer: Transfer): void {
  const census = askedCensus(ctx);
  askFor(ctx, transfer, census);
  for (const other of census.receives) if (other !== transfer) askFor(ctx, other, census);
}

interface AskedCensus {
  readonly receives: Transfer[];
  /** Files asked for and not settled, in all receives. */
  total: number;
  /** Files asked for and not settled, by the peer's key. */
  readonly byPeer: Map<string, number>;
  /** The contents (sender key, hash, size) whose partial file is open or being opened. */
  readonly open: Set<string>;
}

/** What the accepted receives have asked for (each receive's `asked`, the settled ones dropped). */
function askedCensus(ctx: TransferContext): AskedCensus {
  const census: AskedCensus = { receives: [], total: 0, byPeer: new Map(), open: new Set() };
  for (const t of ctx.table.all()) {
    if (t.direction !== 'receive' || t.state !== 'accepted') continue;
    census.receives.push(t);
    for (const index of t.asked) {
      const f = t.files[index];
      if (!f || fileSettled(f.state)) {
        t.asked.delete(index);
        continue;
      }
      census.total++;
      census.byPeer.set(t.peerKey, (census.byPeer.get(t.peerKey) ?? 0) + 1);
      if (f.state === 'opening' || f.partialOpen) census.open.add(contentKey(t, f));
    }
  }
  return census;
}

function askFor(ctx: TransferContext, transfer: Transfer, census: AskedCensus): void {
  if (transfer.state !== 'accepted') return;
  const { wantAhead, limits } = ctx.options;
  const files = transfer.files;
  while (files[transfer.askFrom] && files[transfer.askFrom]?.state !== 'waiting') transfer.askFrom++;
  for (let i = transfer.askFrom; i < files.length; i++) {
    const busy = transfer.asked.size;
    if (busy >= wantAhead) return;
    if (
      busy >= limits.ownFilesAsked &&
      (census.total >= limits.sharedFilesAsked ||
        (census.byPeer.get(transfer.peerKey) ?? 0) >= limits.peerFilesAsked)
    )
      return;
    const file = files[i] as TransferFile;
    // Two files with one content (two empty files, a copy) go one after the other.
    if (file.state !== 'waiting' || census.open.has(contentKey(transfer, file))) continue;
    advanceFile(file, 'open');
    transfer.asked.add(i);
    census.total++;
    census.byPeer.set(transfer.peerKey, (census.byPeer.get(transfer.peerKey) ?? 0) + 1);
    census.open.add(contentKey(transfer, file));
    ctx.request({
      kind: 'open',
      transfer: transfer.id,
      file: file.index,
      senderKey: transfer.peerKey,
      hash: file.hash,
      size: file.size,
      name: file.path,
    });
  }
}

function contentKey(transfer: Transfer, file: TransferFile): string {
  return `${transfer.peerKey}/${file.hash}/${file.size}`;
}

/** The partial file is open: the file is asked for from what it holds. */
export function onOpened(
  ctx: TransferContext,
  transfer: Transfer,
  file: TransferFile,
  outcome: StorageOutcome,
): void {
  if (file.state !== 'opening' || transfer.state !== 'accepted') {
    // The transfer ended while the partial file was being opened: removed if it was cancelled, else kept.
    const kind = transfer.state === 'cancelled' ? 'discard' : 'close';
    if (outcome.ok) ctx.request({ kind, transfer: transfer.id, file: file.index });
    return;
  }
  if (!outcome.ok) {
    sendVerdict(ctx, transfer, file, outcome.code === 'busy' ? 'busy' : 'write_failed');
    settleFile(ctx, transfer, file, storageFailure(outcome.code, outcome.message));
    openMore(ctx, transfer);
    return;
  }
  file.partialOpen = true;
  file.offset = Math.min(file.size, outcome.offset ?? 0);
  file.held = file.offset;
  advanceFile(file, 'want');
  ctx.send(transfer.session, {
    type: 'want',
    offer: offerBytes(transfer.offerId),
    index: file.index,
    offset: file.offset,
  });
  ctx.emit({
    type: 'file_started',
    transfer: transfer.id,
    session: transfer.session,
    direction: 'receive',
    file: file.index,
    offset: file.offset,
  });
}

/** Tells the sender how a file ended here. */
export function sendVerdict(
  ctx: TransferContext,
  transfer: Transfer,
  file: TransferFile,
  result: RecordOf<'verdict'>['result'],
): void {
  ctx.send(transfer.session, {
    type: 'verdict',
    offer: offerBytes(transfer.offerId),
    index: file.index,
    result,
  });
}

/** The sender cannot send a file: what arrived of it goes, and it fails with the sender's reason. */
export function onFileFailed(
  ctx: TransferContext,
  transfer: Transfer,
  record: RecordOf<'file_failed'>,
): void {
  const file = transfer.files[record.index];
  if (transfer.state !== 'accepted' || !file || fileSettled(file.state)) {
    ctx.stats.protocolErrors++;
    return;
  }
  stopDataStream(ctx, transfer, file, STREAM_CODES.failed);
  const words = {
    source_changed: `${file.path} changed at the sender's while it was being sent`,
    read_failed: `the sender could not read ${file.path}`,
    not_a_file: `${file.path} is no longer a regular file at the sender's`,
  };
  settleFile(ctx, transfer, file, { reason: record.reason, message: words[record.reason], resumable: false });
  openMore(ctx, transfer);
}

/** The person (or the program) cancels an offer of the peer's: declined if not answered yet. */
export function cancelReceive(ctx: TransferContext, transfer: Transfer): void {
  if (transfer.state === 'offered' || transfer.state === 'collecting') {
    declineOffer(ctx, transfer, 'declined');
    return;
  }
  if (cancelled(ctx, transfer, 'local'))
    ctx.send(transfer.session, { type: 'cancel_receive', offer: offerBytes(transfer.offerId) });
}

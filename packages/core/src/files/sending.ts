/**
 * Our offers (the sender's side, PROTOCOL.md Files: transfers): making one, and what the
 * receiver says about it on its control stream: accept, decline, a `want` per file (from the
 * offset it holds), a verdict per file, a cancel. A wanted file's data goes on a stream of its own
 * (send-pipe.ts), one file at a time per offer, in the order the receiver asked. Each path goes
 * on the wire as the receiver would map it (Files: names: a sender SHOULD offer paths that map to
 * themselves), by the receiver's own check (offer-limits.ts `checkOffer`), so it is saved under
 * the name the sender was shown.
 */
import { errors } from '../errors.js';
import type { SessionId } from '../events.js';
import { MAX_PATH_BYTES } from './names.js';
import { type CheckedFile, checkOffer, OFFER_LIMITS } from './offer-limits.js';
import { ProgressEstimator } from './progress.js';
import type { RecordOf, Verdict } from './records.js';
import { startSending } from './send-pipe.js';
import { STREAM_CODES, type TransferContext } from './transfer-context.js';
import { cancelled, declined, emitProgress, settleFile, stopDataStream } from './transfer-ending.js';
import { advance, advanceFile } from './transfer-states.js';
import { fileInfo, newFile, type Transfer } from './transfer-table.js';

/** A file of an offer we make: the path offered, its size and BLAKE2b-256 (hex). */
export interface OfferInput {
  readonly path: string;
  readonly size: number;
  readonly hash: string;
}

/**
 * The application's files for an offer, checked before anything is sent; returns each path as it
 * goes on the wire: mapped as the receiver maps it (`CON` is offered as `_CON`, `a\b` as `a_b`).
 * A path the receiver would refuse (`../x`, `/etc/x`), or two that map to one (`a\b` and `a_b`),
 * is INVALID_ARGUMENT here rather than a `bad_offer` from the peer.
 */
export function checkOfferInput(
  files: readonly OfferInput[],
  maxPathBytes: number,
  mapNames = true,
): readonly CheckedFile[] {
  if (files.length === 0) throw errors.invalidArgument('offer', 'it has no files');
  if (files.length > OFFER_LIMITS.maxFiles)
    throw errors.invalidArgument(
      'offer',
      `${files.length} files; at most ${OFFER_LIMITS.maxFiles} in one offer`,
    );
  let pathBytes = 0;
  let total = 0;
  for (const file of files) {
    const bytes = Buffer.byteLength(file.path, 'utf8');
    if (bytes < 1 || bytes > MAX_PATH_BYTES)
      throw errors.invalidArgument(
        'offered path',
        `${JSON.stringify(file.path)} is not 1 to ${MAX_PATH_BYTES} bytes`,
      );
    if (!Number.isSafeInteger(file.size) || file.size < 0)
      throw errors.invalidArgument('file size', `${file.size}`);
    if (!/^[0-9a-f]{64}$/.test(file.hash))
      throw errors.invalidArgument('file hash', `${file.hash} is not 64 hex digits`);
    total += file.size;
  }
  const mapped = mapNames
    ? wirePaths(files)
    : files.map((f) => ({ path: f.path, size: f.size, renamed: false }));
  for (const file of mapped) pathBytes += Buffer.byteLength(file.path, 'utf8');
  if (pathBytes > maxPathBytes)
    throw errors.invalidArgument(
      'offer',
      `its paths are ${pathBytes} bytes; at most ${maxPathBytes} in one offer`,
    );
  if (!Number.isSafeInteger(total)) throw errors.invalidArgument('offer', 'its total size is too large');
  return mapped;
}

/** Each path mapped by the receiver's check of an offer, or why the receiver would refuse the offer. */
function wirePaths(files: readonly OfferInput[]): readonly CheckedFile[] {
  const check = checkOffer(files.map((f) => ({ path: f.path, size: f.size })));
  if (check.ok) return check.files;
  const { problem } = check;
  const index = 'index' in problem ? problem.index : 0;
  const path = JSON.stringify(files[index]?.path);
  if (problem.reason === 'unsafe_name')
    throw errors.invalidArgument('offered path', `${path} is one a receiver refuses (${problem.refusal})`);
  if (problem.reason === 'duplicate_path' || problem.reason === 'path_conflict')
    throw errors.invalidArgument(
      'offer',
      `${path} would be saved where another of its files is, once its name is made safe: offer them separately`,
    );
  throw errors.invalidArgument('offer', `${path}: ${problem.reason}`);
}

/**
 * Makes our offer: it waits in the queue (offer-queue.ts), which sends it at once when the peer
 * has room for it (at the end of the engine's step), and says so (`file_queued`) if not.
 */
export function makeOffer(
  ctx: TransferContext,
  session: SessionId,
  peerKey: string,
  offerId: string,
  inputs: readonly OfferInput[],
  wire: readonly CheckedFile[],
): Transfer {
  ctx.queue.checkRoom(inputs.length);
  // `path` is the application's (its name here); `offeredPath` what the receiver is told.
  const files = inputs.map((f, index) => {
    const mapped = wire[index] ?? { path: f.path, renamed: false };
    return newFile(index, mapped.path, f.path, f.size, f.hash, mapped.renamed);
  });
  const totalSize = files.reduce((sum, f) => sum + f.size, 0);
  const transfer = ctx.table.add({
    direction: 'send',
    session,
    peerKey,
    offerId,
    state: 'queued',
    totalSize,
    expectedFiles: files.length,
    files,
  });
  transfer.pathBytes = files.reduce((sum, f) => sum + Buffer.byteLength(f.offeredPath, 'utf8'), 0);
  ctx.queue.add(transfer);
  ctx.emit({
    type: 'file_offer',
    transfer: transfer.id,
    session,
    direction: 'send',
    offerId,
    files: files.map(fileInfo),
    totalSize,
  });
  return transfer;
}

export function onAccept(ctx: TransferContext, transfer: Transfer, record: RecordOf<'accept'>): void {
  if (record.held > transfer.totalSize || !advance(transfer, 'accept')) {
    ctx.stats.protocolErrors++;
    return;
  }
  transfer.held = record.held;
  transfer.progress = new ProgressEstimator(transfer.totalSize, record.held, ctx.now, {
    reportEveryMs: ctx.options.progressEveryMs,
  });
  ctx.emit({
    type: 'file_accepted',
    transfer: transfer.id,
    session: transfer.session,
    direction: 'send',
    offset: record.held,
  });
}

/** The receiver said no; `too_many_offers` is "not now": the offer waits and goes again (offer-queue.ts), up to a bound. */
export function onDecline(ctx: TransferContext, transfer: Transfer, record: RecordOf<'decline'>): void {
  if (transfer.state !== 'offered') {
    ctx.stats.protocolErrors++;
    return;
  }
  if (record.reason === 'too_many_offers' && ctx.queue.peerBusy(ctx, transfer)) return;
  declined(ctx, transfer, record.reason, 'peer');
}

/** The receiver asks for a file from `offset`: it goes after the files asked for before it. */
export function onWant(ctx: TransferContext, transfer: Transfer, record: RecordOf<'want'>): void {
  const file = transfer.files[record.index];
  if (transfer.state !== 'accepted' || !file || record.offset > file.size || !advanceFile(file, 'want')) {
    ctx.stats.protocolErrors++;
    return;
  }
  file.offset = record.offset;
  transfer.wanted.push(file.index);
  ctx.emit({
    type: 'file_started',
    transfer: transfer.id,
    session: transfer.session,
    direction: 'send',
    file: file.index,
    offset: file.offset,
  });
  startSending(ctx, transfer);
}

/** The receiver's last word on a file: verified (it is sent), or why not. */
export function onVerdict(ctx: TransferContext, transfer: Transfer, record: RecordOf<'verdict'>): void {
  const file = transfer.files[record.index];
  if (transfer.state !== 'accepted' || !file) {
    ctx.stats.protocolErrors++;
    return;
  }
  if (record.result === 'verified') {
    // Verified needs every byte: only a file whose bytes all went (its fin written) can be.
    if (file.state !== 'finishing') {
      ctx.stats.protocolErrors++;
      return;
    }
    file.moved = file.size - file.offset;
    // The verdict may overtake the acknowledgement of the stream's last bytes (it goes at once;
    // an ack may wait max_ack_delay): the progress shows every byte moved all the same.
    emitProgress(ctx, transfer, file);
    ctx.emit({
      type: 'file_sent',
      transfer: transfer.id,
      session: transfer.session,
      direction: 'send',
      file: file.index,
      path: file.path,
      size: file.size,
      hash: file.hash,
      seconds: (ctx.now - (file.startedAt ?? ctx.now)) / 1000,
    });
    settleFile(ctx, transfer, file);
  } else {
    if (file.state === 'verified' || file.state === 'failed') {
      ctx.stats.protocolErrors++;
      return;
    }
    // The receiver failed it while its bytes may still be going: they stop.
    stopDataStream(ctx, transfer, file, STREAM_CODES.failed);
    settleFile(ctx, transfer, file, verdictFailure(record.result));
  }
  startSending(ctx, transfer);
}

/** The receiver cancelled (after accepting). */
export function onCancelReceive(ctx: TransferContext, transfer: Transfer): void {
  if (!cancelled(ctx, transfer, 'peer')) ctx.stats.protocolErrors++;
}

/** What a failed verdict means for the sender: the reason, and whether it goes on when offered again. */
function verdictFailure(result: Exclude<Verdict, 'verified'>) {
  const words: Record<Exclude<Verdict, 'verified'>, string> = {
    size_mismatch: 'the receiver got another size than offered',
    hash_mismatch: "the data did not match the offer's hash at the receiver (changed while sent, or damaged)",
    // The verdict does not say how much the receiver kept (its own message does: all it synced,
    // or nothing, and then nothing of it stays on its disk): the next accept's offset will.
    disk_full:
      "the receiver's disk is full: offered again, it goes on from what the receiver kept, or from the start if it kept nothing",
    write_failed: 'the receiver could not write it',
    not_a_folder: "a file is in the way of one of its folders at the receiver's",
    no_free_name: 'the receiver has no free name for it',
    busy: 'the receiver is already receiving the same file',
    stalled:
      'the receiver stopped waiting: too little came for too long; what arrived is kept there, and it goes on when offered again',
  };
  return {
    reason: result,
    message: words[result],
    resumable: result === 'disk_full' || result === 'stalled',
  };
}

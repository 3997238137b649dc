/**
 * How files and transfers end, on either side: a file settles (verified or failed) and the
 * transfer is done when every file has; a transfer is declined, cancelled (by either side: the
 * other is told), interrupted (the session ended: kept for a resume), or fails (the peer broke
 * the protocol). Each ending gives back what the transfer held: its data streams are cancelled,
 * the sender's sources released, the receiver's partial files closed (kept) or discarded, and
 * the transfer is listed as ended.
 */
import type { FileFailure } from './file-errors.js';
import type { TransferFailure } from './file-events.js';
import type { OfferDeclineReason } from './records.js';
import { quietly, STREAM_CODES, type TransferContext } from './transfer-context.js';
import { advance, advanceFile, fileSettled } from './transfer-states.js';
import { type Transfer, type TransferFile, transferBytes } from './transfer-table.js';

/** A file's last word: verified, or failed (`failure`). Ends the transfer if it was the last. */
export function settleFile(
  ctx: TransferContext,
  transfer: Transfer,
  file: TransferFile,
  failure?: { reason: TransferFailure; message: string; resumable: boolean },
): void {
  if (fileSettled(file.state)) return;
  if (failure) {
    file.state = 'failed';
    file.failure = failure.reason;
    ctx.emit({
      type: 'file_failed',
      transfer: transfer.id,
      session: transfer.session,
      direction: transfer.direction,
      file: file.index,
      ...failure,
    });
  } else {
    advanceFile(file, 'verify');
    transfer.verified++;
  }
  releaseFile(ctx, transfer, file, failure?.resumable ?? false);
  transfer.settled++;
  if (transfer.settled < transfer.files.length) return;
  if (!advance(transfer, 'settled')) return;
  ctx.emit({
    type: 'file_done',
    transfer: transfer.id,
    session: transfer.session,
    direction: transfer.direction,
    files: transfer.files.length,
    verified: transfer.verified,
  });
  ctx.table.ended(transfer);
}

/**
 * A `file_progress` event: the transfer's bytes now, of all its files, as `file` moves. The pipes
 * send one about four times a second (when `reportDue`), and one last for a transfer that is over
 * (so a front-end's bar shows where it stopped).
 */
export function emitProgress(ctx: TransferContext, transfer: Transfer, file: TransferFile): void {
  const progress = transfer.progress;
  if (!progress) return;
  progress.update(transferBytes(transfer), ctx.now);
  const snapshot = progress.snapshot(ctx.now);
  ctx.emit({
    type: 'file_progress',
    transfer: transfer.id,
    session: transfer.session,
    direction: transfer.direction,
    file: file.index,
    bytes: snapshot.bytes,
    size: snapshot.size,
    rate: snapshot.rate,
    eta: snapshot.eta,
  });
}

/** Stops a file's data stream (if it has one) with `code`, and forgets which file it carried. */
export function stopDataStream(
  ctx: TransferContext,
  transfer: Transfer,
  file: TransferFile,
  code: number,
): void {
  const stream = file.send?.stream ?? file.receive?.stream;
  if (stream === undefined) return;
  quietly(() => ctx.port.cancelStream(transfer.session, stream, code));
  ctx.table.detachStream(transfer.session, stream);
}

/**
 * What a file held goes back: a sender's source is released and its data stream's buffers
 * dropped; a receiver's partial file is discarded (failed for good) or, `keep` (interrupted, or a
 * failure that is resumable: the disk filled, the receive stalled), closed for a resume.
 * A receiver's file being finished (its verdict not written yet) is told `close` too when kept:
 * its finish goes on, and the storage records where it placed the file, so that when the sender
 * offers it again (it heard no verdict) the storage answers that it holds it all, and no second
 * copy is made (PROTOCOL.md Files: transfers, Session end, and resume).
 */
function releaseFile(ctx: TransferContext, transfer: Transfer, file: TransferFile, keep = false): void {
  if (transfer.direction === 'send') {
    if (file.send) {
      file.send.ready.clear();
      file.send.pending = undefined;
      ctx.request({ kind: 'release', transfer: transfer.id, file: file.index });
      transfer.writing.delete(file.index);
    }
    return;
  }
  if (keep && file.state === 'finishing') {
    ctx.request({ kind: 'close', transfer: transfer.id, file: file.index });
    return;
  }
  if (!file.partialOpen) return;
  const pipe = file.receive;
  if (keep && pipe && !pipe.writing && pipe.filled > 0) {
    // Read from the stream and not handed over yet (less than a chunk): written, then kept.
    const from = pipe.lent ?? pipe.buffer;
    if (from) {
      const bytes = from.subarray(0, pipe.filled);
      ctx.request({
        kind: 'write',
        transfer: transfer.id,
        file: file.index,
        offset: file.offset + file.moved,
        bytes,
      });
    }
    pipe.filled = 0;
  }
  file.partialOpen = false;
  ctx.request({ kind: keep ? 'close' : 'discard', transfer: transfer.id, file: file.index });
}

/** The receiver said no (`by` local: we declined; peer: it declined our offer). */
export function declined(
  ctx: TransferContext,
  transfer: Transfer,
  reason: OfferDeclineReason,
  by: 'local' | 'peer',
): boolean {
  if (!advance(transfer, 'decline')) return false;
  ctx.emit({
    type: 'file_declined',
    transfer: transfer.id,
    session: transfer.session,
    direction: transfer.direction,
    reason,
    by,
  });
  ctx.table.ended(transfer);
  return true;
}

/** Cancelled by either side: its data streams stop, and the receiver's partial files go. */
export function cancelled(ctx: TransferContext, transfer: Transfer, by: 'local' | 'peer'): boolean {
  if (!advance(transfer, 'cancel')) return false;
  for (const file of transfer.files) {
    if (fileSettled(file.state)) continue;
    stopDataStream(ctx, transfer, file, STREAM_CODES.cancelled);
    releaseFile(ctx, transfer, file);
  }
  ctx.emit({
    type: 'file_cancelled',
    transfer: transfer.id,
    session: transfer.session,
    direction: transfer.direction,
    by,
  });
  ctx.table.ended(transfer);
  return true;
}

/**
 * The session ended, or the program stops, before the transfer was done: what the receiver
 * wrote is kept (made durable), and the sender offers it again when a chat with the peer opens.
 */
export function interrupted(ctx: TransferContext, transfer: Transfer, why: string): boolean {
  return endUnfinished(ctx, transfer, 'interrupt', STREAM_CODES.interrupted, 'interrupted', why, true);
}

/** The peer broke the protocol for this transfer: it ends; what the receiver wrote is kept. */
export function failed(ctx: TransferContext, transfer: Transfer, message: string): boolean {
  return endUnfinished(ctx, transfer, 'fail', STREAM_CODES.protocol, 'protocol_error', message, false);
}

/** Ends a transfer whose files are not all settled: their streams stopped with `code`, what arrived kept. */
function endUnfinished(
  ctx: TransferContext,
  transfer: Transfer,
  event: 'interrupt' | 'fail',
  code: number,
  reason: 'interrupted' | 'protocol_error',
  message: string,
  resumable: boolean,
): boolean {
  if (!advance(transfer, event)) return false;
  for (const file of transfer.files) {
    if (fileSettled(file.state)) continue;
    stopDataStream(ctx, transfer, file, code);
    releaseFile(ctx, transfer, file, true);
  }
  ctx.emit({
    type: 'file_failed',
    transfer: transfer.id,
    session: transfer.session,
    direction: transfer.direction,
    file: undefined,
    reason,
    message,
    resumable,
  });
  ctx.table.ended(transfer);
  return true;
}

/** A storage failure as the event's words. */
export function storageFailure(code: FileFailure, message: string) {
  return { reason: code, message, resumable: code === 'disk_full' };
}

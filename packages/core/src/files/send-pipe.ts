/**
 * A wanted file's bytes, pull-driven from the storage to its data stream (toxcore's
 * `file_chunk_request`): the stream first takes the `data` record, then the file from the
 * receiver's offset. The engine asks the storage for a chunk at an offset only while the file
 * has fewer than `readAhead` chunks read or being read that the stream has not taken: a slow disk
 * holds the stream back, a slow network holds the disk back, and memory holds at most
 * `readAhead` chunks per file being sent (the stream's own buffer is bounded by the peer's credit).
 * A chunk the stream has taken whole (it copies what it takes) is handed back with the next read
 * for the storage to read into: a file costs `readAhead` buffers, not an allocation per chunk.
 *
 * The files of an offer go one after the other, in the order asked, each on its stream: the next
 * wanted file starts as soon as the files being written have fewer than `overlapBytes` (256 KiB)
 * left to hand to their streams, up to `filesAtOnce` (8) files at a time. So a large file goes
 * alone (the next starts as its last chunk goes), while small ones (a folder of 4 KiB files) go
 * several at once: each file's own wait (its first read from the disk, the receiver's fsync and
 * verdict) overlaps the others' instead of adding up. Memory stays `readAhead` chunks per file
 * being written, each at most the file's size.
 */
import type { FileFailure } from './file-errors.js';
import { frame, offerBytes, type SendFailure } from './records.js';
import type { StorageOutcome } from './storage-requests.js';
import { STREAM_CODES, type TransferContext } from './transfer-context.js';
import { emitProgress, settleFile, stopDataStream } from './transfer-ending.js';
import { advanceFile } from './transfer-states.js';
import type { Transfer, TransferFile } from './transfer-table.js';

/** Starts the next wanted files of `transfer` while those being written have little left (`roomToStart`). */
export function startSending(ctx: TransferContext, transfer: Transfer): void {
  while (transfer.state === 'accepted' && roomToStart(ctx, transfer)) {
    const index = transfer.wanted[0];
    if (index === undefined) return;
    const file = transfer.files[index];
    if (file?.state !== 'wanted') {
      transfer.wanted.shift();
      continue;
    }
    let stream: number;
    try {
      stream = ctx.port.openStream(transfer.session);
    } catch {
      // At the peer's stream limit, `streams_available` starts it; else the session's end is coming.
      return;
    }
    transfer.wanted.shift();
    transfer.writing.add(index);
    advanceFile(file, 'start');
    // Its seconds count from here: asked for with others, it waited for theirs to go first.
    file.startedAt = ctx.now;
    file.send = {
      stream,
      header: frame({ type: 'data', offer: offerBytes(transfer.offerId), index, offset: file.offset }),
      pending: undefined,
      pendingChunk: undefined,
      spare: [],
      readAt: file.offset,
      writeAt: file.offset,
      reading: 0,
      ready: new Map(),
    };
    ctx.table.attachStream(transfer, file, stream);
    pumpSend(ctx, transfer, file);
  }
}

/** Writes what the stream takes, and asks for the chunks to come while there is room to hold them. */
export function pumpSend(ctx: TransferContext, transfer: Transfer, file: TransferFile): void {
  const pipe = file.send;
  if (!pipe || file.state !== 'moving') return;
  const { session } = transfer;
  const write = (bytes: Uint8Array): number => ctx.port.writeStream(session, pipe.stream, bytes);
  try {
    if (pipe.header) {
      const took = write(pipe.header);
      pipe.header = took < pipe.header.length ? pipe.header.subarray(took) : undefined;
      if (pipe.header) return;
    }
    for (;;) {
      if (!pipe.pending) {
        pipe.pending = pipe.ready.get(pipe.writeAt);
        pipe.pendingChunk = pipe.pending;
        if (pipe.pending) pipe.ready.delete(pipe.writeAt);
      }
      if (!pipe.pending) break;
      const took = write(pipe.pending);
      pipe.writeAt += took;
      if (took < pipe.pending.length) {
        pipe.pending = pipe.pending.subarray(took);
        break; // `stream_writable` calls again
      }
      pipe.pending = undefined;
      keepSpare(ctx, pipe.spare, pipe.pendingChunk);
      pipe.pendingChunk = undefined;
    }
  } catch {
    // The stream or the session ended: its end comes as an event.
    return;
  }
  while (
    pipe.readAt < file.size &&
    pipe.reading + pipe.ready.size + (pipe.pending ? 1 : 0) < ctx.options.readAhead
  ) {
    const length = Math.min(ctx.options.chunkBytes, file.size - pipe.readAt);
    const into = pipe.spare.pop();
    ctx.request({
      kind: 'read',
      transfer: transfer.id,
      file: file.index,
      offset: pipe.readAt,
      length,
      ...(into ? { into } : {}),
    });
    pipe.readAt += length;
    pipe.reading++;
  }
  if (pipe.writeAt === file.size && !pipe.pending && !pipe.header) {
    try {
      ctx.port.finishStream(session, pipe.stream);
    } catch {
      return;
    }
    advanceFile(file, 'end');
    ctx.request({ kind: 'release', transfer: transfer.id, file: file.index });
    transfer.writing.delete(file.index);
  }
  reportSendProgress(ctx, transfer, file);
  // What the stream took may leave room for the next file (or the one that ended did).
  if (transfer.wanted.length > 0) startSending(ctx, transfer);
}

/**
 * Whether another wanted file may start: none is being written, or fewer than `filesAtOnce` are
 * and together they have fewer than `overlapBytes` left to hand to their streams.
 */
function roomToStart(ctx: TransferContext, transfer: Transfer): boolean {
  if (transfer.writing.size === 0) return true;
  if (transfer.writing.size >= ctx.options.filesAtOnce) return false;
  let left = 0;
  for (const index of transfer.writing) {
    const file = transfer.files[index];
    if (file?.send) left += file.size - file.send.writeAt;
  }
  return left < ctx.options.overlapBytes;
}

/** A chunk the stream took whole is kept for a later read, if it is a whole chunk's size and room is left. */
function keepSpare(ctx: TransferContext, spare: Uint8Array[], chunk: Uint8Array | undefined): void {
  if (chunk?.length === ctx.options.chunkBytes && spare.length < ctx.options.readAhead) spare.push(chunk);
}

/** The storage answered a read. */
export function onReadDone(
  ctx: TransferContext,
  transfer: Transfer,
  file: TransferFile,
  offset: number,
  length: number,
  outcome: StorageOutcome,
): void {
  const pipe = file.send;
  if (!pipe || file.state !== 'moving') return;
  pipe.reading--;
  if (!outcome.ok) {
    failSending(ctx, transfer, file, outcome.code, outcome.message);
    return;
  }
  const bytes = outcome.bytes;
  if (!bytes || bytes.length !== length) {
    failSending(ctx, transfer, file, 'source_changed', `${file.path} changed while it was being sent`);
    return;
  }
  pipe.ready.set(offset, bytes);
  pumpSend(ctx, transfer, file);
}

/**
 * We cannot send a file (its source changed, or cannot be read): the receiver is told and drops
 * what it holds of it, and the data stream stops.
 */
export function failSending(
  ctx: TransferContext,
  transfer: Transfer,
  file: TransferFile,
  code: FileFailure,
  message: string,
): void {
  if (file.state === 'verified' || file.state === 'failed') return;
  const reason: SendFailure = code === 'source_changed' || code === 'not_a_file' ? code : 'read_failed';
  ctx.send(transfer.session, {
    type: 'file_failed',
    offer: offerBytes(transfer.offerId),
    index: file.index,
    reason,
  });
  stopDataStream(ctx, transfer, file, STREAM_CODES.failed);
  settleFile(ctx, transfer, file, { reason: code, message, resumable: false });
  startSending(ctx, transfer);
}

/** The receiver stopped a data stream of ours: its verdict or cancel says why; nothing more is read. */
export function onSendStopped(ctx: TransferContext, transfer: Transfer, file: TransferFile): void {
  if (!file.send) return;
  file.send.ready.clear();
  file.send.pending = undefined;
  file.send.pendingChunk = undefined;
  file.send.spare.length = 0;
  ctx.table.detachStream(transfer.session, file.send.stream);
  if (file.state === 'moving') {
    // Stop asking for chunks; the verdict (or the session's end) settles it.
    file.send.readAt = file.size;
    file.send.writeAt = file.size;
    ctx.request({ kind: 'release', transfer: transfer.id, file: file.index });
    transfer.writing.delete(file.index);
    file.state = 'finishing';
    startSending(ctx, transfer);
  }
}

/** The receiver has every byte of the stream (acknowledged): the progress shows it. */
export function onSendComplete(ctx: TransferContext, transfer: Transfer, file: TransferFile): void {
  file.moved = file.size - file.offset;
  if (file.send) ctx.table.detachStream(transfer.session, file.send.stream);
  reportSendProgress(ctx, transfer, file, true);
}

/** About four a second: the bytes the receiver acknowledged, of all the offer's files. */
function reportSendProgress(
  ctx: TransferContext,
  transfer: Transfer,
  file: TransferFile,
  force = false,
): void {
  const progress = transfer.progress;
  if (!progress || !(force || progress.reportDue(ctx.now))) return;
  if (file.send && file.state === 'moving') {
    const info = ctx.port.streamInfo(transfer.session, file.send.stream);
    // Bytes acknowledged on the stream, less the `data` record before the file's bytes.
    if (info)
      file.moved = Math.max(
        0,
        Math.min(file.size - file.offset, info.offset - info.buffered - DATA_FRAME_BYTES),
      );
  }
  emitProgress(ctx, transfer, file);
}

/** Bytes of the framed `data` record at the start of a data stream (all its fields are of fixed size). */
const DATA_FRAME_BYTES = frame({ type: 'data', offer: new Uint8Array(8), index: 0, offset: 0 }).length;

/**
 * A file's bytes arriving on its data stream (the receiver's side): the stream's first record
 * (`data`) must name a file we asked for, from the offset we asked; then its bytes are read only
 * as fast as the storage writes them (one write at a time: a slow disk holds the stream, and so
 * the sender, back; memory holds one chunk), to the file's size and the stream's end. Then the
 * file is verified and placed, and the sender told. Data past the size, an end before it, or a
 * stream nobody asked for: the stream is stopped and counted, and the file (if any) fails.
 */
import type { StreamId } from '../events.js';
import type { SessionFiles } from './control-streams.js';
import { refuse } from './control-streams.js';
import { paceGot } from './receive-stalls.js';
import { openMore, sendVerdict } from './receiving.js';
import { offerKey, type RecordOf } from './records.js';
import type { StorageOutcome } from './storage-requests.js';
import { STREAM_CODES, type TransferContext } from './transfer-context.js';
import { emitProgress, settleFile, stopDataStream, storageFailure } from './transfer-ending.js';
import { advanceFile, fileSettled } from './transfer-states.js';
import type { ReceivePipe, Transfer, TransferFile } from './transfer-table.js';

/** A peer stream began with `data`: it carries the file it names, if we asked for it from there. */
export function onDataStream(
  ctx: TransferContext,
  files: SessionFiles,
  stream: StreamId,
  record: RecordOf<'data'>,
): void {
  const transfer = ctx.table.byOfferId(files.session, 'receive', offerKey(record.offer));
  const file = transfer?.files[record.index];
  if (
    !transfer ||
    !file ||
    transfer.state !== 'accepted' ||
    file.state !== 'wanted' ||
    record.offset !== file.offset
  ) {
    refuse(ctx, files, stream);
    return;
  }
  advanceFile(file, 'start');
  // Its seconds count from its first byte's stream, not from the ask (asked with others, it waits).
  file.startedAt = ctx.now;
  file.receive = {
    stream,
    writing: false,
    stopped: false,
    ended: false,
    buffer: undefined,
    lent: undefined,
    filled: 0,
  };
  ctx.table.attachStream(transfer, file, stream);
  pumpReceive(ctx, transfer, file);
}

/**
 * Reads what the stream holds if no write is in progress, into the buffer the storage lent (else
 * ours), and hands it to the storage once a chunk's worth (`chunkBytes`) gathered, the buffer is
 * full, the file's last byte came or progress is due to be reported; less waits for more (a read that takes all the stream holds
 * is followed by `stream_readable` when more comes), so a write goes per chunk, not per datagram.
 * Past the file's size, checks the stream ends there.
 */
export function pumpReceive(ctx: TransferContext, transfer: Transfer, file: TransferFile): void {
  const pipe = file.receive;
  if (!pipe || pipe.writing || pipe.stopped || file.state !== 'moving') return;
  // An ended transfer's stream was cancelled: what it still holds is nobody's to write.
  if (transfer.state !== 'accepted') return;
  const into = pipe.lent ?? ownBuffer(ctx, file, pipe);
  // Bytes of the file not read from the stream yet.
  const left = file.size - file.offset - file.moved - pipe.filled;
  let length: number;
  try {
    // At the size, one byte more is asked for: there must be none (the fin comes there).
    length = ctx.port.readStreamInto(
      transfer.session,
      pipe.stream,
      into,
      pipe.filled,
      left > 0 ? Math.min(left, into.length - pipe.filled) : 1,
    );
  } catch {
    return; // the stream ended: its event says how
  }
  if (length === 0) return; // `stream_readable` (or `stream_finished`) calls again
  if (left === 0) {
    ctx.stats.protocolErrors++;
    const why = `${file.path}: data went on past the ${file.size} bytes offered`;
    failReceiving(ctx, transfer, file, 'size_mismatch', why, STREAM_CODES.protocol);
    return;
  }
  pipe.filled += length;
  // A slow stream's bytes go at least as often as progress is reported (what is written is shown).
  if (
    length === left ||
    pipe.filled === into.length ||
    pipe.filled >= ctx.options.chunkBytes ||
    transfer.progress?.isDue(ctx.now)
  )
    writeFilled(ctx, transfer, file);
}

/** Our chunk buffer (when the storage lent none), made once per file. */
function ownBuffer(ctx: TransferContext, file: TransferFile, pipe: ReceivePipe): Uint8Array {
  pipe.buffer ??= new Uint8Array(Math.max(1, Math.min(file.size - file.offset, ctx.options.chunkBytes)));
  return pipe.buffer;
}

/**
 * Hands the bytes gathered to the storage: lent to it until the write is answered (a view of its
 * own buffer if it lent one). The next bytes are read once it is answered.
 */
export function writeFilled(ctx: TransferContext, transfer: Transfer, file: TransferFile): void {
  const pipe = file.receive;
  if (!pipe || pipe.writing || pipe.filled === 0) return;
  const into = pipe.lent ?? pipe.buffer;
  if (!into) return;
  pipe.writing = true;
  ctx.request({
    kind: 'write',
    transfer: transfer.id,
    file: file.index,
    offset: file.offset + file.moved,
    bytes: into.subarray(0, pipe.filled),
  });
}

export function onWriteDone(
  ctx: TransferContext,
  transfer: Transfer,
  file: TransferFile,
  length: number,
  outcome: StorageOutcome,
): void {
  const pipe = file.receive;
  if (!pipe || file.state !== 'moving') return;
  pipe.writing = false;
  if (!outcome.ok) {
    failReceiving(ctx, transfer, file, outcome.code, outcome.message, STREAM_CODES.failed);
    return;
  }
  file.moved += length;
  paceGot(transfer, length);
  pipe.filled = 0;
  pipe.lent = outcome.into && outcome.into.length > 0 ? outcome.into : undefined;
  reportProgress(ctx, transfer, file);
  if (pipe.ended) complete(ctx, transfer, file);
  else pumpReceive(ctx, transfer, file);
}

/** The stream ended (its fin read): once the last write is done, the file goes to be verified. */
export function onReceiveEnd(ctx: TransferContext, transfer: Transfer, file: TransferFile): void {
  const pipe = file.receive;
  if (!pipe || file.state !== 'moving') return;
  pipe.ended = true;
  ctx.table.detachStream(transfer.session, pipe.stream);
  if (pipe.writing) return;
  if (pipe.filled > 0) writeFilled(ctx, transfer, file);
  else complete(ctx, transfer, file);
}

/** Every byte read and written: complete if that is the offer's size. */
function complete(ctx: TransferContext, transfer: Transfer, file: TransferFile): void {
  const got = file.offset + file.moved;
  if (got !== file.size) {
    const why = `${file.path}: ${got} bytes arrived, the offer said ${file.size}`;
    failReceiving(ctx, transfer, file, 'size_mismatch', why, STREAM_CODES.protocol);
    return;
  }
  advanceFile(file, 'end');
  paceGot(transfer, ctx.options.limits.stallFileBytes);
  if (file.receive) dropBuffers(file.receive); // nothing more is read: its memory goes
  file.partialOpen = false; // finishing ends the partial file, whatever comes of it
  const keepRecord = sameContentWaits(ctx, transfer, file);
  ctx.request({ kind: 'finish', transfer: transfer.id, file: file.index, keepRecord });
}

/**
 * Whether another offer of the peer's (answered or not) has a file of this content not settled:
 * it waits while this one is received (`askFor` opens one content at a time), and is then
 * answered from the file this one places instead of receiving it all again.
 */
function sameContentWaits(ctx: TransferContext, transfer: Transfer, file: TransferFile): boolean {
  for (const other of ctx.table.all()) {
    if (other === transfer || other.direction !== 'receive' || other.peerKey !== transfer.peerKey) continue;
    if (other.state !== 'offered' && other.state !== 'accepted') continue;
    for (const f of other.files)
      if (!fileSettled(f.state) && f.hash === file.hash && f.size === file.size) return true;
  }
  return false;
}

/** The storage verified and placed the file (or found it wrong). */
export function onFinished(
  ctx: TransferContext,
  transfer: Transfer,
  file: TransferFile,
  outcome: StorageOutcome,
): void {
  if (file.state !== 'finishing' || transfer.state !== 'accepted') return;
  if (!outcome.ok) {
    // A mismatch removed the partial already; anything else left it: kept if the disk filled
    // (a resume), else removed (the folder keeps no partial of a transfer that ended).
    file.partialOpen = outcome.code !== 'size_mismatch' && outcome.code !== 'hash_mismatch';
    sendVerdict(ctx, transfer, file, verdictOf(outcome.code));
    settleFile(ctx, transfer, file, storageFailure(outcome.code, outcome.message));
  } else {
    sendVerdict(ctx, transfer, file, 'verified');
    receivedEvent(ctx, transfer, file, outcome.path);
    emitProgress(ctx, transfer, file);
    settleFile(ctx, transfer, file);
  }
  openMore(ctx, transfer);
}

/**
 * The storage finished a file after its transfer ended (interrupted, cancelled or failed while
 * the file was being verified and placed): no verdict goes (the offer is over for the sender; an
 * interrupted one it offers again, and the storage then answers that it holds the file), but if
 * the file was placed, it is here: it is verified, and the person is told where.
 */
export function onLateFinish(
  ctx: TransferContext,
  transfer: Transfer,
  file: TransferFile,
  outcome: StorageOutcome,
): void {
  if (!outcome.ok || file.state !== 'finishing' || !advanceFile(file, 'verify')) return;
  transfer.verified++;
  receivedEvent(ctx, transfer, file, outcome.path);
}

/** The sender stopped the data stream: its record (file_failed, cancel_send) follows; nothing more is read. */
export function onReceiveStopped(ctx: TransferContext, transfer: Transfer, file: TransferFile): void {
  if (!file.receive) return;
  file.receive.stopped = true;
  dropBuffers(file.receive);
  ctx.table.detachStream(transfer.session, file.receive.stream);
}

/** The file failed here: the stream stops, the sender is told, and the partial goes (kept if the disk filled). */
function failReceiving(
  ctx: TransferContext,
  transfer: Transfer,
  file: TransferFile,
  code: Parameters<typeof storageFailure>[0],
  message: string,
  streamCode: number,
): void {
  stopDataStream(ctx, transfer, file, streamCode);
  if (file.receive) dropBuffers(file.receive);
  sendVerdict(ctx, transfer, file, verdictOf(code));
  settleFile(ctx, transfer, file, storageFailure(code, message));
  openMore(ctx, transfer);
}

/** What was read and not written goes (the file failed, or every byte was written). */
function dropBuffers(pipe: ReceivePipe): void {
  pipe.buffer = undefined;
  pipe.lent = undefined;
  pipe.filled = 0;
}

function verdictOf(code: Parameters<typeof storageFailure>[0]): RecordOf<'verdict'>['result'] {
  switch (code) {
    case 'size_mismatch':
    case 'hash_mismatch':
    case 'disk_full':
    case 'not_a_folder':
    case 'no_free_name':
    case 'busy':
      return code;
    default:
      return 'write_failed';
  }
}

function reportProgress(ctx: TransferContext, transfer: Transfer, file: TransferFile): void {
  if (transfer.progress?.reportDue(ctx.now)) emitProgress(ctx, transfer, file);
}

function receivedEvent(ctx: TransferContext, transfer: Transfer, file: TransferFile, path?: string): void {
  ctx.emit({
    type: 'file_received',
    transfer: transfer.id,
    session: transfer.session,
    direction: 'receive',
    file: file.index,
    path: path ?? file.path,
    size: file.size,
    hash: file.hash,
    seconds: (ctx.now - (file.startedAt ?? ctx.now)) / 1000,
  });
}

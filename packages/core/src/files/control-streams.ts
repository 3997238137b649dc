/**
 * The control streams of a session (PROTOCOL.md, Files: transfers, Streams): each side opens one,
 * the first time it has a record to say, and says every record about offers on it, in order. A
 * peer stream's first record tells what it is: `data` begins a data stream, anything else makes
 * it the peer's control stream (a second one breaks the protocol).
 *
 * Writing is pull-driven like any stream: records wait in a queue (an offer's file records are
 * made only as the stream takes them, so an offer of 10,000 files holds one record at a time) and
 * go when the stream has room. Reading takes every whole record that arrived and hands it to the
 * engine; a record that does not decode breaks the control stream, which is stopped: the
 * session's transfers fail.
 */
import { errors, NetchatError } from '../errors.js';
import type { SessionId, StreamId } from '../events.js';
import { RecordReader } from './record-reader.js';
import { type FileRecord, frame, offerBytes } from './records.js';
import type { ControlItem, TransferContext } from './transfer-context.js';
import { quietly, STREAM_CODES } from './transfer-context.js';

/** An offer whose file records are arriving, or one being skipped (declined before its files came). */
export interface Collecting {
  readonly offerId: string;
  readonly files: number;
  next: number;
  /** The transfer being filled, or undefined when the records are read and dropped. */
  readonly transfer: number | undefined;
}

/** One session's files protocol: our control stream and the peer's. */
export interface SessionFiles {
  readonly session: SessionId;
  ours: StreamId | undefined;
  readonly out: ControlItem[];
  /** The framed record the stream has not taken all of yet. */
  outBytes: Uint8Array | undefined;
  /** The offer whose file records are being made (an `offer_files` item), and the next index. */
  offerFilesNext: number;
  /** Opening our control stream hit the peer's stream limit: try again at `streams_available`. */
  blocked: boolean;
  theirs: StreamId | undefined;
  readonly reader: RecordReader;
  /** The peer's control stream broke the protocol: nothing more is read from it. */
  broken: boolean;
  brokenWhy: string | undefined;
  collecting: Collecting | undefined;
  /** Peer streams whose first record has not arrived yet. */
  readonly unknown: Map<StreamId, RecordReader>;
}

export function newSessionFiles(session: SessionId): SessionFiles {
  return {
    session,
    ours: undefined,
    out: [],
    outBytes: undefined,
    offerFilesNext: 0,
    blocked: false,
    theirs: undefined,
    reader: new RecordReader(),
    broken: false,
    brokenWhy: undefined,
    collecting: undefined,
    unknown: new Map(),
  };
}

/**
 * Writes what our control stream takes now: the framed record in progress, then the queue. Opens
 * the stream first if need be (waiting for `streams_available` at the peer's limit).
 */
export function flushControl(ctx: TransferContext, files: SessionFiles): void {
  if (files.ours === undefined) {
    if (files.out.length === 0) return;
    try {
      // A close waits for our records (a decline, a cancel) to reach the peer: it lingers for them.
      files.ours = ctx.port.openStream(files.session, { lingers: true });
      files.blocked = false;
    } catch (error) {
      if (error instanceof NetchatError && error.code === 'STREAM_LIMIT') files.blocked = true;
      // Any other reason (the session ended): the session's end comes as an event.
      return;
    }
  }
  const stream = files.ours;
  for (;;) {
    if (!files.outBytes) {
      const record = nextRecord(files);
      if (!record) return;
      files.outBytes = frame(record);
      ctx.stats.recordsOut++;
    }
    let took: number;
    try {
      took = ctx.port.writeStream(files.session, stream, files.outBytes);
    } catch {
      return;
    }
    if (took < files.outBytes.length) {
      files.outBytes = files.outBytes.subarray(took);
      return; // `stream_writable` calls again
    }
    files.outBytes = undefined;
  }
}

/** The next record of the queue; an offer's file records one at a time. */
function nextRecord(files: SessionFiles): FileRecord | undefined {
  for (;;) {
    const item = files.out[0];
    if (!item) return undefined;
    if (item.type !== 'offer_files') {
      files.out.shift();
      return item;
    }
    const file = item.transfer.files[files.offerFilesNext];
    if (!file || item.transfer.state !== 'offered') {
      // Every file said, or the offer ended meanwhile (its `cancel_send` follows in the queue).
      files.out.shift();
      files.offerFilesNext = 0;
      continue;
    }
    files.offerFilesNext++;
    return {
      type: 'offer_file',
      offer: offerBytes(item.transfer.offerId),
      index: file.index,
      size: file.size,
      hash: Buffer.from(file.hash, 'hex'),
      path: file.offeredPath,
    };
  }
}

/** What a peer stream turned out to be once its first record arrived. */
export type Classified =
  | { readonly kind: 'control'; readonly first: FileRecord }
  | { readonly kind: 'data'; readonly first: Extract<FileRecord, { type: 'data' }> }
  | { readonly kind: 'pending' }
  | { readonly kind: 'refused' };

/**
 * Reads the first record of a peer stream not yet known. A stream that is not of the files
 * protocol, or a second control stream, is stopped at once.
 */
export function classify(ctx: TransferContext, files: SessionFiles, stream: StreamId): Classified {
  const reader = files.unknown.get(stream);
  if (!reader) return { kind: 'refused' };
  const result = reader.next((max) => ctx.port.readStream(files.session, stream, max));
  if (!result) return { kind: 'pending' };
  files.unknown.delete(stream);
  if ('error' in result) return refuse(ctx, files, stream);
  ctx.stats.recordsIn++;
  if (result.record.type === 'data') return { kind: 'data', first: result.record };
  if (files.theirs !== undefined) return refuse(ctx, files, stream);
  files.theirs = stream;
  // The record reader of the control stream goes on from here (it read exactly one record).
  return { kind: 'control', first: result.record };
}

/** Stops a peer stream at once, and counts it. */
export function refuse(ctx: TransferContext, files: SessionFiles, stream: StreamId): { kind: 'refused' } {
  files.unknown.delete(stream);
  ctx.stats.streamsRefused++;
  ctx.stats.protocolErrors++;
  quietly(() => ctx.port.cancelStream(files.session, stream, STREAM_CODES.protocol));
  return { kind: 'refused' };
}

/**
 * Reads every whole record the peer's control stream holds and hands each to `handle`. A record
 * that does not decode breaks the stream (stopped; `onBroken` says why).
 */
export function readControl(
  ctx: TransferContext,
  files: SessionFiles,
  handle: (record: FileRecord) => void,
  onBroken: (why: string) => void,
): void {
  const stream = files.theirs;
  if (stream === undefined || files.broken) return;
  for (;;) {
    const result = files.reader.next((max) => ctx.port.readStream(files.session, stream, max));
    if (!result) return;
    if ('error' in result) {
      files.broken = true;
      files.brokenWhy = result.error;
      ctx.stats.protocolErrors++;
    } else {
      ctx.stats.recordsIn++;
      handle(result.record);
    }
    if (files.broken) {
      breakControl(ctx, files, onBroken);
      return;
    }
  }
}

/** The peer's control stream broke the protocol (`brokenWhy`): it is stopped, and `onBroken` told. */
export function breakControl(
  ctx: TransferContext,
  files: SessionFiles,
  onBroken: (why: string) => void,
): void {
  const stream = files.theirs;
  if (stream !== undefined)
    quietly(() => ctx.port.cancelStream(files.session, stream, STREAM_CODES.protocol));
  onBroken(`the peer's control stream broke the protocol (${files.brokenWhy ?? 'unknown'})`);
}

/** Throws if the session cannot carry an offer now: not open, or its peer takes no files. */
export function checkFilesPeer(ctx: TransferContext, session: SessionId): string {
  const info = ctx.port.session(session);
  if (!info) throw errors.noSuchSession(session);
  if (info.state !== 'open') throw errors.sessionNotOpen(session, info.state);
  if (!info.peerFeatures?.files)
    throw errors.filesUnsupported(
      session,
      info.peerFeatures?.streams
        ? 'it does not take files (it was started without them)'
        : 'it predates file transfer (an older netchat, text only)',
    );
  return info.publicKey;
}

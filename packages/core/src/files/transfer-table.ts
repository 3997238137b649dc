/**
 * The engine's record of every transfer, one record per transfer with its files inside it, and
 * the indexes that find one: by its local id, by (session, direction, offer id) for the peer's
 * records, and by (session, stream) for its data streams. Adding a transfer and forgetting it each
 * happen in one place here, indexes included. A transfer that ended stays listed (the most recent
 * `maxEndedKept`) so a front-end can show how it went.
 */
import type { SessionId, StreamId } from '../events.js';
import type {
  FileState,
  TransferDirection,
  TransferFailure,
  TransferFileInfo,
  TransferId,
  TransferInfo,
  TransferState,
} from './file-events.js';
import type { ProgressEstimator } from './progress.js';
import type { ReceivePace } from './receive-stalls.js';

/** The sender's side of a file's data stream: reads asked for, bytes read and not yet written. */
export interface SendPipe {
  readonly stream: StreamId;
  /** What of the `data` record the stream has not taken yet. */
  header: Uint8Array | undefined;
  /** What of the chunk being written the stream has not taken yet. */
  pending: Uint8Array | undefined;
  /** The whole chunk `pending` is the rest of: once the stream took it, a spare. */
  pendingChunk: Uint8Array | undefined;
  /** Chunks the stream has taken whole (it copies what it takes): the next reads go into them. */
  readonly spare: Uint8Array[];
  /** The next offset to read, and to write. */
  readAt: number;
  writeAt: number;
  /** Reads asked for and not answered. */
  reading: number;
  /** Chunks read, by offset, waiting for their turn. */
  readonly ready: Map<number, Uint8Array>;
}

/** The receiver's side of a file's data stream. */
export interface ReceivePipe {
  readonly stream: StreamId;
  /** A write is in progress: nothing more is read from the stream until it is done. */
  writing: boolean;
  /** The sender stopped the stream: its record (file_failed, cancel_send) decides what follows. */
  stopped: boolean;
  /** The stream's end was read: the file completes when the write in progress is done. */
  ended: boolean;
  /**
   * Our chunk buffer, read into when the storage lent none (allocated then, once per file); each
   * write lends it to the storage until the write is answered.
   */
  buffer: Uint8Array | undefined;
  /**
   * Where the storage said the next bytes may go (its own write buffer's free part: the bytes are
   * then copied once, from the stream's buffer to the storage's), until the next write.
   */
  lent: Uint8Array | undefined;
  /** Bytes read from the stream into `lent` (or `buffer`) and not yet handed to the storage. */
  filled: number;
}

export interface TransferFile {
  readonly index: number;
  /** The path on the wire (send: the application's, mapped as the receiver maps it). */
  readonly offeredPath: string;
  /** receive: the safe relative path; send: the application's path. */
  readonly path: string;
  readonly renamed: boolean;
  readonly size: number;
  readonly hash: string;
  state: FileState;
  /** Where this run's bytes start: the bytes the receiver holds. */
  offset: number;
  /** receive: the bytes the application said were held when it accepted (until opened). */
  held: number;
  /** Bytes the receiver took in this run (receive: written; send: acknowledged on the data stream). */
  moved: number;
  failure: TransferFailure | undefined;
  /** A partial file is open for it (receive): it must be closed or discarded. */
  partialOpen: boolean;
  /** When its bytes began to move (its data stream opened): its `seconds` count from here. */
  startedAt: number | undefined;
  send: SendPipe | undefined;
  receive: ReceivePipe | undefined;
}

export interface Transfer {
  readonly id: TransferId;
  readonly direction: TransferDirection;
  readonly session: SessionId;
  readonly peerKey: string;
  /** The id on the wire now (changed only by `TransferTable.renumber`: an offer that goes again). */
  offerId: string;
  /** The id it was first made under: the application's (a resume's), shown as `TransferInfo.offerId`. */
  readonly firstOfferId: string;
  readonly files: TransferFile[];
  totalSize: number;
  /** receive, while collecting: how many files the offer said. */
  expectedFiles: number;
  /** UTF-8 bytes of its paths (receive: bounded by the limits). */
  pathBytes: number;
  state: TransferState;
  /** The bytes the receiver said it held when it accepted. */
  held: number;
  /** send: how many times the peer declined it `too_many_offers` (offer-queue.ts). */
  busyDeclines: number;
  settled: number;
  verified: number;
  progress: ProgressEstimator | undefined;
  /** receive, while accepted: what arrived in its window of waiting on the sender (receive-stalls.ts). */
  pace: ReceivePace | undefined;
  /** receive: the files opened and asked for (`open`, `want`) and not settled yet, by index (receiving.ts). */
  readonly asked: Set<number>;
  /** receive: every file before this index has been asked for (the next to ask is at or after it). */
  askFrom: number;
  /** send: files wanted and not yet started, in the order asked. */
  readonly wanted: number[];
  /**
   * send: the files whose bytes are being written, by index: one at a time, or several small ones
   * (send-pipe.ts `startSending`).
   */
  readonly writing: Set<number>;
}

export function newFile(
  index: number,
  offeredPath: string,
  path: string,
  size: number,
  hash: string,
  renamed = false,
): TransferFile {
  return {
    index,
    offeredPath,
    path,
    renamed,
    size,
    hash,
    state: 'waiting',
    offset: 0,
    held: 0,
    moved: 0,
    failure: undefined,
    partialOpen: false,
    startedAt: undefined,
    send: undefined,
    receive: undefined,
  };
}

export class TransferTable {
  private nextId = 1;
  private readonly byId = new Map<TransferId, Transfer>();
  private readonly byOffer = new Map<string, Transfer>();
  private readonly byStream = new Map<string, { transfer: Transfer; file: TransferFile }>();
  private readonly endedOrder: TransferId[] = [];

  constructor(private readonly maxEndedKept: number) {}

  add(fields: {
    direction: TransferDirection;
    session: SessionId;
    peerKey: string;
    offerId: string;
    state: TransferState;
    totalSize: number;
    expectedFiles: number;
    files?: TransferFile[];
  }): Transfer {
    const transfer: Transfer = {
      id: this.nextId++,
      files: fields.files ?? [],
      pathBytes: 0,
      held: 0,
      busyDeclines: 0,
      firstOfferId: fields.offerId,
      settled: 0,
      verified: 0,
      progress: undefined,
      pace: undefined,
      wanted: [],
      asked: new Set(),
      askFrom: 0,
      writing: new Set(),
      ...fields,
    };
    this.byId.set(transfer.id, transfer);
    this.byOffer.set(offerIndex(transfer.session, transfer.direction, transfer.offerId), transfer);
    return transfer;
  }

  /** An offer of ours goes on the wire again under a new id: the index follows. */
  renumber(transfer: Transfer, offerId: string): void {
    this.byOffer.delete(offerIndex(transfer.session, transfer.direction, transfer.offerId));
    transfer.offerId = offerId;
    this.byOffer.set(offerIndex(transfer.session, transfer.direction, offerId), transfer);
  }

  get(id: TransferId): Transfer | undefined {
    return this.byId.get(id);
  }

  byOfferId(session: SessionId, direction: TransferDirection, offerId: string): Transfer | undefined {
    return this.byOffer.get(offerIndex(session, direction, offerId));
  }

  all(): IterableIterator<Transfer> {
    return this.byId.values();
  }

  forSession(session: SessionId): Transfer[] {
    return [...this.byId.values()].filter((t) => t.session === session);
  }

  attachStream(transfer: Transfer, file: TransferFile, stream: StreamId): void {
    this.byStream.set(streamIndex(transfer.session, stream), { transfer, file });
  }

  /** The transfer and file a data stream carries. */
  fileOfStream(session: SessionId, stream: StreamId): { transfer: Transfer; file: TransferFile } | undefined {
    return this.byStream.get(streamIndex(session, stream));
  }

  detachStream(session: SessionId, stream: StreamId): void {
    this.byStream.delete(streamIndex(session, stream));
  }

  /** The transfer reached a final state: kept for `list`, the oldest ended one forgotten past the bound. */
  ended(transfer: Transfer): void {
    for (const file of transfer.files) {
      const stream = file.send?.stream ?? file.receive?.stream;
      if (stream !== undefined) this.detachStream(transfer.session, stream);
    }
    this.endedOrder.push(transfer.id);
    while (this.endedOrder.length > this.maxEndedKept) {
      const oldest = this.byId.get(this.endedOrder.shift() as TransferId);
      if (oldest) this.remove(oldest);
    }
  }

  /** Forgets a transfer and every index entry of it. */
  private remove(transfer: Transfer): void {
    this.byId.delete(transfer.id);
    this.byOffer.delete(offerIndex(transfer.session, transfer.direction, transfer.offerId));
    for (const file of transfer.files) {
      const stream = file.send?.stream ?? file.receive?.stream;
      if (stream !== undefined) this.detachStream(transfer.session, stream);
    }
  }
}

function offerIndex(session: SessionId, direction: TransferDirection, offerId: string): string {
  return `${session}/${direction}/${offerId}`;
}

function streamIndex(session: SessionId, stream: StreamId): string {
  return `${session}/${stream}`;
}

/** Ended: nothing more happens to it. */
export function isFinal(state: TransferState): boolean {
  return state !== 'collecting' && state !== 'queued' && state !== 'offered' && state !== 'accepted';
}

export function fileInfo(file: TransferFile): TransferFileInfo {
  return {
    index: file.index,
    path: file.path,
    offeredPath: file.offeredPath,
    renamed: file.renamed,
    size: file.size,
    hash: file.hash,
    state: file.state,
    offset: file.offset,
    bytes: file.state === 'verified' ? file.size : file.offset + file.moved,
    failure: file.failure,
  };
}

export function transferInfo(transfer: Transfer): TransferInfo {
  const files = transfer.files.map(fileInfo);
  return {
    id: transfer.id,
    session: transfer.session,
    direction: transfer.direction,
    peerKey: transfer.peerKey,
    offerId: transfer.firstOfferId,
    state: transfer.state,
    files,
    totalSize: transfer.totalSize,
    bytes: transferBytes(transfer),
  };
}

/**
 * Bytes of the transfer held (receive) or acknowledged (send) so far: each file's, and for files
 * not started yet what the receiver said it held when it accepted.
 */
export function transferBytes(transfer: Transfer): number {
  let bytes = 0;
  let startedHeld = 0;
  for (const file of transfer.files) {
    if (file.state === 'verified') bytes += file.size;
    else if (file.state === 'waiting' || file.state === 'opening') bytes += file.held;
    else bytes += file.offset + file.moved;
    if (file.state !== 'waiting' && file.state !== 'opening') startedHeld += file.offset;
  }
  // The sender knows only the total held until each file's `want` says its share.
  if (transfer.direction === 'send') bytes += Math.max(0, transfer.held - startedHeld);
  return Math.min(bytes, transfer.totalSize);
}

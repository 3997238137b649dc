/**
 * What the parts of the file-transfer engine share (FileTransfers implements it): the streams
 * under it, the table of transfers, the control streams, the queues of events and storage
 * requests, the options and the counts. The parts, one concept a file: control-streams.ts (the
 * records each side says), peer-records.ts (what each of the peer's records does), sending.ts
 * and send-pipe.ts (our offers and their data), receiving.ts, offer-intake.ts and
 * receive-pipe.ts (the peer's), transfer-ending.ts (how a transfer or a file ends).
 */
import type { SessionId } from '../events.js';
import type { FileEvent } from './file-events.js';
import type { OfferQueue } from './offer-queue.js';
import type { FileRecord } from './records.js';
import type { StorageRequest } from './storage-requests.js';
import type { StreamPort } from './stream-port.js';
import type { TransferLimits } from './transfer-limits.js';
import type { Transfer, TransferTable } from './transfer-table.js';

export interface FileTransferOptions {
  /** Bytes the sender reads at a time, and the receiver writes at a time (256 KiB). */
  readonly chunkBytes?: number;
  /** Chunks one file being sent may have read ahead of its stream (2: one written while one is read). */
  readonly readAhead?: number;
  /** Files of one offer the receiver opens and asks for ahead of the one moving (16; receiving.ts). */
  readonly wantAhead?: number;
  /**
   * Files of one offer the sender writes at once (8), while those being written have fewer than
   * `overlapBytes` (256 KiB) left to hand to their streams: small files overlap, a large one goes
   * alone (send-pipe.ts).
   */
  readonly filesAtOnce?: number;
  readonly overlapBytes?: number;
  /** The least time between two progress events of a transfer (ms): 250, four a second. */
  readonly progressEveryMs?: number;
  readonly limits?: Partial<TransferLimits>;
  /** Random bytes for offer ids (tests pass a seeded source). */
  readonly randomBytes?: (length: number) => Uint8Array;
  /**
   * Offer each path mapped as the receiver maps it (PROTOCOL.md Files: names, the sender's
   * SHOULD). Default true; false offers paths as given: only for a test playing a sender that
   * does not (a stranger's `../../x`), to see what the receiver does with it.
   */
  readonly mapNames?: boolean;
}

export interface ResolvedFileOptions {
  readonly chunkBytes: number;
  readonly readAhead: number;
  readonly wantAhead: number;
  readonly filesAtOnce: number;
  readonly overlapBytes: number;
  readonly progressEveryMs: number;
  readonly limits: TransferLimits;
  readonly randomBytes: (length: number) => Uint8Array;
  readonly mapNames: boolean;
}

/** What the engine counted: what it refused from peers never throws, it is counted here. */
export interface FileTransferStats {
  recordsIn: number;
  recordsOut: number;
  /** Records and streams that broke the protocol (dropped; a control stream that broke is stopped). */
  protocolErrors: number;
  /** Records about a transfer we do not have (it ended meanwhile, or never was). */
  unknownTransfers: number;
  /** Offers declined without asking the person (limits, bad names). */
  offersRefused: number;
  /** Peer streams stopped at once (not a files stream, a second control stream, data nobody asked for). */
  streamsRefused: number;
}

/** Stream cancel codes the engine uses (the application codes of stream_reset and stream_stop). */
export const STREAM_CODES = {
  /** The transfer was cancelled. */
  cancelled: 1,
  /** The file failed (its source changed, its data did not match, the disk failed). */
  failed: 2,
  /** The stream broke the files protocol. */
  protocol: 3,
  /** The program stops: the transfer is interrupted, and goes on later. */
  interrupted: 4,
} as const;

/** A request without its id: the engine gives one to those that are answered. */
export type NewRequest = StorageRequest extends infer R
  ? R extends { id: number }
    ? Omit<R, 'id'>
    : R
  : never;

/** An item of our control stream: a record, or an offer's file records made as the stream takes them. */
export type ControlItem = FileRecord | { readonly type: 'offer_files'; readonly transfer: Transfer };

export interface TransferContext {
  readonly port: StreamPort;
  readonly table: TransferTable;
  readonly options: ResolvedFileOptions;
  readonly stats: FileTransferStats;
  /** Our offers waiting for their turn (offer-queue.ts). */
  readonly queue: OfferQueue;
  /** The time of the call or event being handled (ms). */
  readonly now: number;
  emit(event: FileEvent): void;
  /** Queues a storage request; returns its id (0 for those not answered). */
  request(request: NewRequest): number;
  /** Queues an item on our control stream of `session` and writes what the stream takes. */
  send(session: SessionId, item: ControlItem): void;
}

/** Runs a stream call that may find the stream or the session already gone (then nothing is left to do). */
export function quietly(action: () => void): void {
  try {
    action();
  } catch {
    // The stream ended, or the session did: what the call was for is moot.
  }
}

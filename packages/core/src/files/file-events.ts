/**
 * What the file-transfer engine tells its application, and how it describes a transfer. Every
 * event names the transfer (a local number, stable for the program's run: `/cancel 3`), the
 * session and the direction (`send`: we offered; `receive`: the peer offered). Per-file events
 * name the file by its index in the offer.
 */
import type { SessionId } from '../events.js';
import type { FileFailure } from './file-errors.js';
import type { OfferDeclineReason } from './records.js';

export type TransferId = number;
export type TransferDirection = 'send' | 'receive';

export type TransferState =
  /** receive: the offer's files are still arriving. */
  | 'collecting'
  /**
   * send: made, and held here, nothing of it on the wire: the peer holds as many of our offers
   * unanswered as it takes, or it said it had too many (`too_many_offers`) and it goes again
   * (offer-queue.ts).
   */
  | 'queued'
  /** The receiver has not answered yet. */
  | 'offered'
  /** Accepted: files are moving. */
  | 'accepted'
  /** Every file settled (verified, or failed). */
  | 'done'
  | 'declined'
  | 'cancelled'
  /** The session ended first: the sender offers it again when a chat with the peer opens (resume). */
  | 'interrupted'
  /** The peer broke the protocol. */
  | 'failed';

export type FileState =
  /** Not asked for yet. */
  | 'waiting'
  /** receive: its partial file is being opened (the offset it holds comes from there). */
  | 'opening'
  /** Asked for (`want`): its data stream is awaited (receive) or queued to go (send). */
  | 'wanted'
  /** Its bytes are moving on its data stream. */
  | 'moving'
  /** Every byte moved: being verified and placed (receive), or the verdict is awaited (send). */
  | 'finishing'
  | 'verified'
  | 'failed';

/** Why a transfer or a file of it failed: a disk's or a file's reason, or one of the protocol's. */
export type TransferFailure =
  | FileFailure
  /** The session ended before it was done (the peer was lost, the chat closed, a program stopped). */
  | 'interrupted'
  /** The peer broke the protocol (a record that does not decode, data beyond a file's size, ...). */
  | 'protocol_error'
  /** Too little came for too long (the receiver's floor, PROTOCOL.md Files: transfers, Limits): kept for a resume. */
  | 'stalled';

export interface TransferFileInfo {
  readonly index: number;
  /** receive: the safe relative path it is saved under (before any `name (1).ext`); send: the application's path. */
  readonly path: string;
  /** The path as the sender offered it on the wire (a sender offers `path` mapped as the receiver maps it). */
  readonly offeredPath: string;
  /** The safe path differs from the offered one (receive), or the offered one from the application's (send). */
  readonly renamed: boolean;
  readonly size: number;
  /** BLAKE2b-256, hex. */
  readonly hash: string;
  readonly state: FileState;
  /** Where this run started (the bytes the receiver already held: a resume's offset). */
  readonly offset: number;
  /** Bytes held so far (receive: written; send: acknowledged by the receiver). */
  readonly bytes: number;
  readonly failure?: TransferFailure | undefined;
}

export interface TransferInfo {
  readonly id: TransferId;
  readonly session: SessionId;
  readonly direction: TransferDirection;
  /** The peer's public key (hex). */
  readonly peerKey: string;
  /**
   * The offer's id (hex) as first made, the same across re-offers (a resume). An offer the peer
   * declined `too_many_offers` goes again on the wire under a new id (ids are never used twice in a
   * session), but keeps this one.
   */
  readonly offerId: string;
  readonly state: TransferState;
  readonly files: readonly TransferFileInfo[];
  readonly totalSize: number;
  /** Bytes held or sent so far, of all its files. */
  readonly bytes: number;
}

/** Why an offer of ours waits here (`file_queued`). */
export type QueuedWhy = 'earlier_offers' | 'peer_busy';

interface Base {
  readonly transfer: TransferId;
  readonly session: SessionId;
  readonly direction: TransferDirection;
}

export type FileEvent =
  /**
   * receive: the peer offers files; answer with `accept` or `decline` (nothing is written before).
   * send: our offer is made (also an unfinished one made again): it went out, or, if
   * `file_queued` follows, it waits here for its turn.
   */
  | (Base & {
      readonly type: 'file_offer';
      readonly offerId: string;
      readonly files: readonly TransferFileInfo[];
      readonly totalSize: number;
    })
  /**
   * send: our offer waits here, nothing of it sent: `earlier_offers`, the peer holds as many of our
   * offers unanswered as it takes; `peer_busy`, the peer declined it `too_many_offers` (`tries`
   * times so far): it goes again when the peer answers one of our offers, or after `retryInMs`.
   * Not a failure: `file_offer_sent` says when it goes; past the bound it ends declined.
   */
  | (Base & {
      readonly type: 'file_queued';
      readonly why: QueuedWhy;
      readonly message: string;
      readonly tries: number;
      readonly retryInMs: number | undefined;
    })
  /** send: an offer that waited (`file_queued`) went out: the receiver's answer is awaited. */
  | (Base & { readonly type: 'file_offer_sent'; readonly offerId: string })
  /** The receiver took the offer; `offset`: the bytes of it it already held (0 for new files). */
  | (Base & { readonly type: 'file_accepted'; readonly offset: number })
  /** A file's bytes begin to move, from `offset` (a resume's: the bytes the receiver held). */
  | (Base & { readonly type: 'file_started'; readonly file: number; readonly offset: number })
  /**
   * About four a second while bytes move: `bytes` of `size` held (receive: written) or sent (send:
   * acknowledged by the receiver), the rate over the last seconds (bytes/s) and the time left (s).
   */
  | (Base & {
      readonly type: 'file_progress';
      readonly file: number;
      readonly bytes: number;
      readonly size: number;
      readonly rate: number;
      readonly eta: number | undefined;
    })
  /** A file arrived whole, was verified and is in place (`path` relative to the download folder). */
  | (Base & {
      readonly type: 'file_received';
      readonly file: number;
      readonly path: string;
      readonly size: number;
      readonly hash: string;
      readonly seconds: number;
    })
  /** The receiver verified a file we sent. */
  | (Base & {
      readonly type: 'file_sent';
      readonly file: number;
      readonly path: string;
      readonly size: number;
      readonly hash: string;
      readonly seconds: number;
    })
  | (Base & {
      readonly type: 'file_declined';
      readonly reason: OfferDeclineReason;
      readonly by: 'local' | 'peer';
    })
  /**
   * A file failed (`file` set), or the whole transfer (`file` undefined: interrupted, or the peer
   * broke the protocol). `resumable`: what arrived is kept, and it goes on when offered again.
   */
  | (Base & {
      readonly type: 'file_failed';
      readonly file: number | undefined;
      readonly reason: TransferFailure;
      readonly message: string;
      readonly resumable: boolean;
    })
  | (Base & { readonly type: 'file_cancelled'; readonly by: 'local' | 'peer' })
  /** Every file settled: `verified` of `files` arrived whole (the rest failed: see their events). */
  | (Base & { readonly type: 'file_done'; readonly files: number; readonly verified: number });

export type FileEventType = FileEvent['type'];
export type FileEventOf<T extends FileEventType> = Extract<FileEvent, { type: T }>;

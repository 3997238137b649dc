/**
 * One file transfer as the front-ends show it: which conversation, which way, its files, where it
 * stands (`phase`) and its figures. The client's `Transfers` owns every field; front-ends read.
 */
import {
  isRelayed,
  type LinkEvent,
  type OfferDeclineReason,
  type ProgressEstimator,
  type QueuedWhy,
  type TransferDirection,
  type TransferFailure,
  type TransferFileInfo,
  type TransferId,
} from '@netchat/core';
import type { Conversation } from './conversation.js';

export type TransferPhase =
  /** receive: the offer waits for the person's answer. send: it waits for the peer's. */
  | 'offered'
  /** Accepted: bytes are moving (or about to). */
  | 'moving'
  /** Every file settled: `verified` of them arrived whole (the others in `failures`). */
  | 'done'
  | 'declined'
  | 'cancelled'
  /** The chat ended first: what arrived is kept, and it goes on when offered again. */
  | 'interrupted'
  /** The whole transfer failed (the peer broke the protocol). */
  | 'failed';

export interface FileOutcome {
  readonly file: number;
  /** receive: the absolute path it was saved at; send: the path as offered. */
  readonly path: string;
  readonly size: number;
  readonly hash: string;
  readonly seconds: number;
  /** The bytes that moved this time: `size` less what the receiver already held (a resume). */
  readonly moved: number;
}

export interface FileFailureNote {
  readonly file: number | undefined;
  readonly reason: TransferFailure;
  readonly message: string;
  readonly resumable: boolean;
}

export interface TransferWaiting {
  readonly why: QueuedWhy;
  readonly tries: number;
  readonly retryInMs: number | undefined;
}

export interface Transfer {
  /** core's transfer id: a small number, stable for the run (`/cancel 3`). */
  readonly id: TransferId;
  readonly conversation: Conversation;
  readonly direction: TransferDirection;
  phase: TransferPhase;
  readonly files: readonly TransferFileInfo[];
  readonly totalSize: number;
  /** Bytes held (receive: written) or sent (send: acknowledged) so far, all files together. */
  bytes: number;
  /** What the receiver already held when it accepted (a resume's bytes; 0 for new files). */
  offset: number;
  /**
   * receive: accepted by itself because we hold part of it (a resume); send: made again by
   * itself as the chat opened, left unfinished in an earlier chat (no `/send` made it).
   */
  resuming: boolean;
  /** The chat goes through the rendezvous's relay: slower, within the relay's per-pair budget. */
  readonly relayed: boolean;
  /** receive: the folder it was accepted into. */
  folder: string | undefined;
  readonly received: FileOutcome[];
  readonly sent: FileOutcome[];
  readonly failures: FileFailureNote[];
  /** declined: why, and who said no. */
  declined:
    | { readonly reason: OfferDeclineReason; readonly by: 'local' | 'peer'; readonly message?: string }
    | undefined;
  /** cancelled: by whom. */
  cancelledBy: 'local' | 'peer' | undefined;
  /**
   * send, offered: it waits here, nothing sent yet (core's `file_queued`): the peer has not answered
   * earlier offers, or it had too many (`tries` declines so far; offered again `retryInMs` after
   * it said so, or sooner). undefined once it went.
   */
  waiting: TransferWaiting | undefined;
  /** When it was offered, accepted and ended (the client's clock, ms). */
  readonly offeredAt: number;
  acceptedAt: number | undefined;
  endedAt: number | undefined;
  /** The rate and time-left estimator (core's), from the accept on. */
  estimator: ProgressEstimator | undefined;
  /** Per file, the offset it started from this time (what the receiver held: a resume). */
  readonly fileOffsets: number[];
  /** Per file, the bytes known held (where it started, whole once in place); `bytes` is at least their sum. */
  readonly fileBytes: number[];
}

/** Whether a transfer ended (no more events for it). */
export function hasEnded(transfer: Pick<Transfer, 'phase'>): boolean {
  return transfer.phase !== 'offered' && transfer.phase !== 'moving';
}

/** Every file of it arrived whole and was verified (an empty offer: none failed). */
export function allVerified(transfer: Transfer): boolean {
  const verified = transfer.direction === 'send' ? transfer.sent.length : transfer.received.length;
  return transfer.phase === 'done' && verified === transfer.files.length;
}

/** A transfer as a file link's `file_offer` makes it, in `conversation`: offered, nothing moved. */
export function newTransfer(
  e: Extract<LinkEvent, { type: 'file_offer' }>,
  conversation: Conversation,
  now: number,
): Transfer {
  return {
    id: e.transfer,
    conversation,
    direction: e.direction,
    phase: 'offered',
    files: e.files,
    totalSize: e.totalSize,
    bytes: 0,
    offset: 0,
    // send: an unfinished offer the link made again by itself; receive: one it accepted by itself.
    resuming: e.resuming,
    relayed: conversation.peer !== undefined && isRelayed(conversation.peer),
    folder: undefined,
    received: [],
    sent: [],
    failures: [],
    declined: undefined,
    cancelledBy: undefined,
    waiting: undefined,
    offeredAt: now,
    acceptedAt: undefined,
    endedAt: undefined,
    estimator: undefined,
    fileBytes: e.files.map(() => 0),
    fileOffsets: e.files.map(() => 0),
  };
}

/**
 * How a transfer and each of its files move from state to state (h11-style: a table of (state,
 * event) → next state, the same for both sides; what each move does lives in the files that make
 * it). Reading the tables alone tells every way a state can be reached. A move the table does not
 * have is refused (`advance` returns false): a late record, a call in the wrong state.
 */
import type { FileState, TransferState } from './file-events.js';

export type TransferEvent =
  /** receive: the offer's last file record arrived. */
  | 'offer_complete'
  /** send: a queued offer goes on the wire. */
  | 'send'
  /** send: the peer declined it `too_many_offers`: it waits here to go again (offer-queue.ts). */
  | 'requeue'
  | 'accept'
  | 'decline'
  | 'cancel'
  /** The session ended (or the program stops) before it was done. */
  | 'interrupt'
  /** The peer broke the protocol. */
  | 'fail'
  /** Every file settled. */
  | 'settled';

const TRANSFER_MOVES: Readonly<Record<TransferState, Partial<Record<TransferEvent, TransferState>>>> = {
  collecting: {
    offer_complete: 'offered',
    decline: 'declined',
    cancel: 'cancelled',
    interrupt: 'interrupted',
    fail: 'failed',
  },
  queued: { send: 'offered', cancel: 'cancelled', interrupt: 'interrupted', fail: 'failed' },
  offered: {
    accept: 'accepted',
    requeue: 'queued',
    decline: 'declined',
    cancel: 'cancelled',
    interrupt: 'interrupted',
    fail: 'failed',
  },
  accepted: { settled: 'done', cancel: 'cancelled', interrupt: 'interrupted', fail: 'failed' },
  done: {},
  declined: {},
  cancelled: {},
  interrupted: {},
  failed: {},
};

export type FileEventName =
  /** receive: its partial file is being opened. */
  | 'open'
  /** Asked for: receive, the want went; send, the want arrived. */
  | 'want'
  /** Its data stream began. */
  | 'start'
  /** Every byte moved. */
  | 'end'
  | 'verify'
  | 'fail';

const FILE_MOVES: Readonly<Record<FileState, Partial<Record<FileEventName, FileState>>>> = {
  waiting: { open: 'opening', want: 'wanted', fail: 'failed' },
  opening: { want: 'wanted', fail: 'failed' },
  wanted: { start: 'moving', fail: 'failed' },
  moving: { end: 'finishing', fail: 'failed' },
  finishing: { verify: 'verified', fail: 'failed' },
  verified: {},
  failed: {},
};

/** Moves `subject` by `event`; false (and unchanged) if its state has no such move. */
export function advance(subject: { state: TransferState }, event: TransferEvent): boolean {
  const next = TRANSFER_MOVES[subject.state][event];
  if (next === undefined) return false;
  subject.state = next;
  return true;
}

export function advanceFile(file: { state: FileState }, event: FileEventName): boolean {
  const next = FILE_MOVES[file.state][event];
  if (next === undefined) return false;
  file.state = next;
  return true;
}

/** A file that reached its last word (verified or failed). */
export function fileSettled(state: FileState): boolean {
  return state === 'verified' || state === 'failed';
}

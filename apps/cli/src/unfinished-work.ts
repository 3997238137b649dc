/**
 * What an interrupt (Ctrl-C on an empty line, or a signal) leaves unfinished, said in one line.
 * Anything here means something asked for did not happen: the exit code is 128 + the signal's
 * number (130 for Ctrl-C, as the shell says it). With nothing here the quit is a clean one and
 * the interrupt alone never makes the exit code non-zero.
 */
import { type Transfer, texts } from '@netchat/client';
import type { FileFlow } from './file-flow.js';

export interface UnfinishedWork {
  /** A request that waited: ours (withdrawn now) or the peer's (declined now). */
  readonly request?: { readonly ours: boolean; readonly peer: string };
  /** A script whose input had not ended: its lines were meant to be sent. */
  readonly inputOpen: boolean;
  /** Lines read and never taken (not sent). */
  readonly lines: number;
  /** Offers still being checked (hashed) before they go. */
  readonly offering: number;
  /** Transfers asked for and not ended: ours not yet answered or moving, theirs accepted and moving. */
  readonly transfers: readonly Transfer[];
  /** Messages sent and not yet confirmed delivered (they get the close's linger to arrive). */
  readonly messages: number;
}

/** Whether the interrupt stopped something asked for. */
export function anythingUnfinished(u: UnfinishedWork): boolean {
  return (
    u.request !== undefined ||
    u.inputOpen ||
    u.lines > 0 ||
    u.offering > 0 ||
    u.transfers.length > 0 ||
    u.messages > 0
  );
}

/**
 * `Interrupted: transfer 1 ("big.bin", 41%) unfinished, 1 message not yet confirmed delivered.`
 * (`Quitting: …` when the person quit with Ctrl-D and left a transfer unfinished).
 */
export function unfinishedText(u: UnfinishedWork, lead: 'Interrupted' | 'Quitting' = 'Interrupted'): string {
  const parts: string[] = [];
  if (u.request)
    parts.push(
      u.request.ours
        ? `the request to ${u.request.peer} withdrawn`
        : `the request from ${u.request.peer} declined`,
    );
  if (u.inputOpen) parts.push('the input not all read');
  if (u.lines > 0) parts.push(`${count(u.lines, 'line')} not sent`);
  if (u.offering > 0) parts.push(`${count(u.offering, 'offer')} still being checked, not made`);
  for (const t of u.transfers) parts.push(texts.transferLeftText(t));
  if (u.messages > 0) parts.push(`${count(u.messages, 'message')} not yet confirmed delivered`);
  return `${lead}: ${parts.join(', ')}.`;
}

/**
 * The transfers a quit now would leave unfinished: ours not ended, theirs accepted and moving
 * (an offer to us not yet answered is not: it was never asked for), and offers being checked.
 */
export function transfersOf(files: FileFlow | undefined): Pick<UnfinishedWork, 'transfers' | 'offering'> {
  const running = files?.transfers.running() ?? [];
  return {
    transfers: running.filter((t) => t.direction === 'send' || t.phase === 'moving'),
    offering: files?.offersBeingMade ?? 0,
  };
}

/** `Quitting: transfer 3 ("big.bin", 12%) unfinished.`, or undefined when a quit leaves none. */
export function transfersLeftText(files: FileFlow | undefined): string | undefined {
  const left: UnfinishedWork = { inputOpen: false, lines: 0, messages: 0, ...transfersOf(files) };
  return anythingUnfinished(left) ? unfinishedText(left, 'Quitting') : undefined;
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

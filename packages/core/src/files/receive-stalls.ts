/**
 * Receives that hold a slot and do not move (PROTOCOL.md, Files: transfers, Limits). A receiver
 * runs at most `maxActiveReceives` accepted receives at once; a sender that sends nothing, or a
 * trickle, would hold its slot as long as its session lives (heartbeats keep it for ever), and a
 * few strangers would hold them all. So each accepted receive is measured in what the receiver
 * asked for and got: the bytes written, and for each file whose data ended `stallFileBytes` more
 * (an offer of many empty files moves no bytes). The clock that measures it runs only while the
 * receive waits on its peer, never while a request of it to the storage is pending (a partial
 * being opened, a write, a file being checked): a slow disk is ours to wait for, not the peer's
 * fault (Kestrel's minimum data rate pauses the same way while the application is not reading).
 *
 * - The rule: in each `stallWindowMs` of that time (windows one after the other), at least
 *   `stallFloorBytes` must arrive; a receive below the floor at a window's end is ended `stalled`.
 *   What came over the floor in a window counts in the next, up to one floor (carried).
 *   The floor is about 0.5 KiB/s, a quarter of what a relayed receiver at the relay's default
 *   budget (64 KiB/s) gives each of 32 receives at once, so an honest slow path keeps its slot,
 *   and one byte a minute never resets anything.
 * - When every slot is taken and an offer arrives, the receive furthest behind the floor's pace in
 *   its window (after `stallGraceMs` of it: a new window has not had its chance yet) is ended
 *   `stalled` at once to make room; if none is behind, the offer is refused (`too_many_offers`).
 *
 * The clock stops and starts to the millisecond with each storage request and answer; a check
 * once a second reads it (a stall is found within a second of the window's end).
 *
 * A stalled receive ends like a failed disk write that keeps its bytes: each file not settled gets
 * the `stalled` verdict (the sender stops its data stream and offers it again in a later chat),
 * and its partial file is closed, kept for that resume. Checked on the injected clock: the engine
 * asks for a tick at `nextDeadline` while it runs accepted receives.
 */

import { sendVerdict } from './receiving.js';
import type { RecordOf } from './records.js';
import { STREAM_CODES, type TransferContext } from './transfer-context.js';
import { settleFile, stopDataStream } from './transfer-ending.js';
import { fileSettled } from './transfer-states.js';
import type { Transfer } from './transfer-table.js';

/** How often accepted receives are looked at (ms): the window's end is known to within this. */
export const STALL_CHECK_MS = 1_000;

/** One accepted receive's measure in its current window (the receive's own, on its record). */
export interface ReceivePace {
  /** What arrived in this window: bytes written, and `stallFileBytes` per file whose data ended. */
  got: number;
  /** Time of this window spent waiting on the peer (ms), counted up to `countedTo`. */
  waited: number;
  /** Up to when `waited` is counted (while a storage request is pending: when the wait began). */
  countedTo: number;
  /** Storage requests of the receive not answered yet: while any is, the clock stands still. */
  storageWaits: number;
}

export function newPace(now: number): ReceivePace {
  return { got: 0, waited: 0, countedTo: now, storageWaits: 0 };
}

/**
 * The receive asked its storage for something (open, write, finish): its clock stops here, to the
 * millisecond, until the answer (a sampled clock could be fooled by bytes timed to keep a write
 * pending at each check).
 */
export function storageAsked(pace: ReceivePace, now: number): void {
  if (pace.storageWaits === 0) countTo(pace, now);
  pace.storageWaits++;
}

/** The storage answered: once nothing of the receive is pending, its clock runs again from `now`. */
export function storageAnswered(pace: ReceivePace, now: number): void {
  if (pace.storageWaits === 0) return;
  pace.storageWaits--;
  if (pace.storageWaits === 0) pace.countedTo = now;
}

/** Counts the time since `countedTo` as waiting on the peer (nothing of ours was pending). */
function countTo(pace: ReceivePace, now: number): void {
  pace.waited += Math.max(0, now - pace.countedTo);
  pace.countedTo = now;
}

/** Counts what arrived for `transfer` (bytes written, or a file's end as `stallFileBytes`). */
export function paceGot(transfer: Transfer, amount: number): void {
  if (transfer.pace) transfer.pace.got += amount;
}

/** The accepted receives (each has a pace while it runs). */
function running(ctx: TransferContext): Transfer[] {
  const found: Transfer[] = [];
  for (const t of ctx.table.all()) if (t.pace && t.state === 'accepted') found.push(t);
  return found;
}

/**
 * When the engine wants its next tick after one at `lastCheck` (now if none was): a check a second
 * while any receive runs.
 */
export function nextStallCheck(ctx: TransferContext, lastCheck: number | undefined): number | undefined {
  for (const t of ctx.table.all())
    if (t.pace && t.state === 'accepted')
      return lastCheck === undefined ? ctx.now : lastCheck + STALL_CHECK_MS;
  return undefined;
}

/** Brings every receive's clock up to `ctx.now`, and ends those below the floor at a window's end. */
export function checkStalls(ctx: TransferContext): void {
  const { stallWindowMs, stallFloorBytes } = ctx.options.limits;
  for (const t of running(ctx)) {
    const pace = t.pace as ReceivePace;
    advanceClock(ctx, pace);
    if (pace.waited < stallWindowMs) continue;
    if (pace.got < stallFloorBytes) {
      const seconds = Math.round(pace.waited / 1000);
      stalled(
        ctx,
        t,
        `${pace.got} bytes came in ${seconds} s of waiting on the sender (the floor is ${stallFloorBytes})`,
      );
    } else {
      // What came over the floor is carried into the next window, up to one floor: a receive
      // that moved well rides out one dark window (a path's outage, a move to the relay) and a
      // stranger's offer in it, while a trickle still has to meet the floor every other window.
      pace.got = Math.min(pace.got - stallFloorBytes, stallFloorBytes);
      pace.waited = 0;
    }
  }
}

/** Brings the clock up to now (while a storage request of the receive is pending, it stands still). */
function advanceClock(ctx: TransferContext, pace: ReceivePace): void {
  if (pace.storageWaits === 0) countTo(pace, ctx.now);
}

/**
 * Every slot is taken and an offer came: ends the receive furthest behind the floor's pace, if
 * one is (past its window's grace, nothing of ours pending). True if a slot was freed.
 */
export function makeRoom(ctx: TransferContext): boolean {
  const { stallWindowMs, stallFloorBytes, stallGraceMs } = ctx.options.limits;
  let worst: Transfer | undefined;
  let worstBehind = 0;
  for (const t of running(ctx)) {
    const pace = t.pace as ReceivePace;
    advanceClock(ctx, pace);
    if (pace.waited < stallGraceMs) continue;
    const behind = (stallFloorBytes * Math.min(pace.waited, stallWindowMs)) / stallWindowMs - pace.got;
    if (behind > worstBehind) {
      worst = t;
      worstBehind = behind;
    }
  }
  if (!worst) return false;
  const pace = worst.pace as ReceivePace;
  const seconds = Math.round(pace.waited / 1000);
  stalled(
    ctx,
    worst,
    `${pace.got} bytes came in ${seconds} s of waiting on the sender, and another offer needed its place`,
  );
  return true;
}

/**
 * Ends a receive that stalled: each file not settled gets the `stalled` verdict and fails,
 * resumable (its data stream stopped, its partial file closed and kept). A file whose bytes all
 * came and that is being checked and placed finishes as it would have (its verdict follows); the
 * transfer is done once it has.
 */
function stalled(ctx: TransferContext, transfer: Transfer, why: string): void {
  transfer.pace = undefined;
  const result: RecordOf<'verdict'>['result'] = 'stalled';
  for (const file of transfer.files) {
    if (fileSettled(file.state) || file.state === 'finishing') continue;
    stopDataStream(ctx, transfer, file, STREAM_CODES.failed);
    if (file.receive) file.receive.stopped = true;
    sendVerdict(ctx, transfer, file, result);
    const message = `${file.path}: stalled: ${why}; what arrived is kept for a resume`;
    settleFile(ctx, transfer, file, { reason: 'stalled', message, resumable: true });
  }
}

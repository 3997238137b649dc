/**
 * File transfers per conversation, for the front-ends: the offers in (waiting for the person's
 * answer), the offers out, each transfer's phase and figures (bytes, rate and time left from
 * core's ProgressEstimator on the client's clock, relayed or not), and the files received, sent
 * or failed. Feed it the file link's events with `handle` (as the peer's go to
 * `ChatClient.handle`); listen with `subscribe`. It asks the link (`FilePort`: core's FileLink)
 * to offer, accept, decline and cancel, and words every refusal in one line (an offer to a peer
 * whose netchat takes no files fails at once, never hangs).
 */
import {
  FileTransferError,
  type LinkEvent,
  NetchatError,
  type OfferDeclineReason,
  ProgressEstimator,
  type ProgressSnapshot,
  type TransferId,
} from '@netchat/core';
import type { Conversation } from './conversation.js';
import type { FilePort } from './file-port.js';
import { type FileFailureNote, type FileOutcome, hasEnded, newTransfer, type Transfer } from './transfer.js';
import { noFilesText, unreadableOfferText } from './transfer-texts.js';

export type TransferUpdate =
  /** receive: a peer offers files: answer with `accept` or `decline` (`auto`: being accepted by itself, `acceptAll`). */
  | { readonly type: 'offer'; readonly transfer: Transfer; readonly auto: boolean }
  /** receive: an offer of files we hold part of, accepted by itself (a resume). */
  | { readonly type: 'resuming'; readonly transfer: Transfer }
  /** send: our offer went out (or an unfinished one was made again: a resume). */
  | { readonly type: 'offered'; readonly transfer: Transfer }
  /** Files are hashed before an offer goes. */
  | {
      readonly type: 'hashing';
      readonly conversation: Conversation;
      readonly bytes: number;
      readonly total: number;
    }
  /**
   * send: our offer waits here (`transfer.waiting` says why: the peer has not answered earlier
   * offers, or had too many), or, `transfer.waiting` undefined, it went now. Not a failure.
   */
  | { readonly type: 'waiting'; readonly transfer: Transfer }
  /** The receiver took it (`transfer.offset`: what it already held). */
  | { readonly type: 'accepted'; readonly transfer: Transfer }
  /** At most four a second per transfer while bytes move. */
  | { readonly type: 'progress'; readonly transfer: Transfer; readonly progress: ProgressSnapshot }
  /** A file arrived whole, verified, and is in place (`outcome.path`, absolute). */
  | { readonly type: 'file_received'; readonly transfer: Transfer; readonly outcome: FileOutcome }
  /** The peer verified a file we sent. */
  | { readonly type: 'file_sent'; readonly transfer: Transfer; readonly outcome: FileOutcome }
  | { readonly type: 'file_failed'; readonly transfer: Transfer; readonly failure: FileFailureNote }
  /** It ended: `transfer.phase` says how (done, declined, cancelled, interrupted, failed). */
  | { readonly type: 'ended'; readonly transfer: Transfer };

export interface TransfersSettings {
  /** The clock the figures are measured on (ms). Default Date.now. */
  readonly clock?: () => number;
  /** Where accepted files go (the apps: `--download-dir`, settings.json, XDG, ~/Downloads). */
  readonly downloadFolder?: string;
  /** Offers with a larger file are declined (`too_large`). */
  readonly maxFileSize?: number;
  /** Accept every offer at once (`--accept-files`). */
  readonly acceptAll?: boolean;
  /** Ended transfers kept for `/transfers` (the oldest go first). Default 100. */
  readonly keepEnded?: number;
}

/**
 * An accept's answer. `told`: the offer was declined instead (too large, no room, a folder that
 * cannot be used), and its `ended` update already says why in full: nothing more to show.
 */
export type TransferAnswer =
  | { readonly ok: true }
  | { readonly ok: false; readonly message: string; readonly told?: boolean };
export type OfferResult =
  | { readonly ok: true; readonly transfer: Transfer }
  | { readonly ok: false; readonly message: string };

export class Transfers {
  private readonly table = new Map<TransferId, Transfer>();
  /** Offers being accepted, with when their accept declined them instead (undefined: it has not). */
  private readonly accepting = new Map<TransferId, number | undefined>();
  private readonly listeners: ((update: TransferUpdate) => void)[] = [];
  private readonly clock: () => number;

  constructor(
    private readonly port: FilePort,
    /** The conversations connecting or open (`ChatClient.conversations`): an event's session names one. */
    private readonly conversations: () => readonly Conversation[],
    private readonly settings: TransfersSettings = {},
  ) {
    this.clock = settings.clock ?? (() => Date.now());
  }

  subscribe(listener: (update: TransferUpdate) => void): void {
    this.listeners.push(listener);
  }

  // ---- what the person does -------------------------------------------------------------------

  /**
   * Offers files and folders (their regular files, with relative paths) in an open conversation.
   * Resolves `{ ok: false, message }` at once for a chat that is not open or a peer that takes no
   * files, and for a path that cannot be read; nothing is offered then.
   */
  async offer(conversation: Conversation, paths: readonly string[]): Promise<OfferResult> {
    if (paths.length === 0)
      return { ok: false, message: 'Nothing to send: name one or more files or folders.' };
    if (conversation.state !== 'open' || conversation.session === undefined)
      return { ok: false, message: 'Files can be sent only in an open chat.' };
    try {
      const id = await this.port.offer(conversation.session, paths, (bytes, total) =>
        this.emit({ type: 'hashing', conversation, bytes, total }),
      );
      const transfer = this.table.get(id);
      if (!transfer) return { ok: false, message: `The offer ended before it was made (transfer ${id}).` };
      return { ok: true, transfer };
    } catch (error) {
      if (error instanceof NetchatError && error.code === 'FILES_UNSUPPORTED')
        return { ok: false, message: noFilesText(conversation) };
      if (error instanceof FileTransferError && error.code === 'read_failed')
        return { ok: false, message: unreadableOfferText(error.message, paths) };
      return { ok: false, message: `Nothing was offered: ${(error as Error).message}` };
    }
  }

  /**
   * Accepts an offer into `folder` (default: the download folder), taking no file over
   * `maxFileSize`. `{ ok: false, message }` if it was declined instead (too large, no room or a
   * folder that cannot be used: the peer is told) or it was no longer waiting for an answer.
   */
  async accept(
    transfer: Transfer,
    options: { readonly folder?: string; readonly maxFileSize?: number } = {},
  ): Promise<TransferAnswer> {
    if (transfer.direction !== 'receive' || transfer.phase !== 'offered')
      return { ok: false, message: `Transfer ${transfer.id} is not an offer waiting for an answer.` };
    const folder = options.folder ?? this.settings.downloadFolder;
    const maxFileSize = options.maxFileSize ?? this.settings.maxFileSize;
    // The link tells the accept (`file_accepted`) before its promise settles: the folder is
    // known by then, so the line that says where the files go can name it.
    transfer.folder = folder;
    this.accepting.set(transfer.id, undefined);
    try {
      const outcome = await this.port.accept(transfer.id, {
        ...(folder !== undefined && { folder }),
        ...(maxFileSize !== undefined && { maxFileSize }),
      });
      if (outcome.accepted) {
        transfer.folder = outcome.folder;
        return { ok: true };
      }
      transfer.folder = undefined;
      if (transfer.declined) transfer.declined = { ...transfer.declined, message: outcome.message };
      return { ok: false, message: `Declined: ${outcome.message}.`, told: this.endDeclined(transfer) };
    } catch (error) {
      transfer.folder = undefined;
      return { ok: false, message: `Could not accept: ${(error as Error).message}` };
    } finally {
      this.endDeclined(transfer);
    }
  }

  /** Ends a transfer whose accept turned into a decline, now that the decline's reason is known. */
  private endDeclined(transfer: Transfer): boolean {
    const declinedAt = this.accepting.get(transfer.id);
    this.accepting.delete(transfer.id);
    if (declinedAt === undefined) return false;
    this.end(transfer, 'declined', declinedAt);
    return true;
  }

  decline(transfer: Transfer, reason: OfferDeclineReason = 'declined'): boolean {
    if (transfer.direction !== 'receive' || transfer.phase !== 'offered') return false;
    this.port.decline(transfer.id, reason);
    return true;
  }

  /**
   * The person closes this chat (none named: quits, closing every chat): its offers still waiting
   * for an answer are declined, as `n` would, so the sender hears "declined"; left to the close
   * they ended "interrupted" and were offered again when the next chat opened. Call it before the
   * close (core sends a decline written just before one). Offers being accepted are left be.
   */
  declineOnClose(conversation?: Conversation): Transfer[] {
    const declined = this.waiting().filter(
      (t) => (conversation === undefined || t.conversation === conversation) && !this.accepting.has(t.id),
    );
    for (const t of declined) this.decline(t);
    return declined;
  }

  /** Cancels a transfer either way (the peer is told); false if it had ended. */
  cancel(transfer: Transfer): boolean {
    if (hasEnded(transfer)) return false;
    return this.port.cancel(transfer.id);
  }

  // ---- what there is --------------------------------------------------------------------------

  get(id: TransferId): Transfer | undefined {
    return this.table.get(id);
  }

  /** Every transfer (running and recently ended), oldest first. */
  list(): Transfer[] {
    return [...this.table.values()];
  }

  /** The transfers of one conversation, oldest first. */
  of(conversation: Conversation): Transfer[] {
    return this.list().filter((t) => t.conversation === conversation);
  }

  /** Offers waiting for the person's answer. */
  waiting(): Transfer[] {
    return this.list().filter((t) => t.direction === 'receive' && t.phase === 'offered');
  }

  /** Transfers that have not ended. */
  running(): Transfer[] {
    return this.list().filter((t) => !hasEnded(t));
  }

  /** Our offers to this conversation's peer left unfinished (an earlier run's too), made again as the chat opens. */
  unfinishedOffersTo(conversation: Conversation): number {
    const key = conversation.publicKey;
    return key === undefined ? 0 : (this.port.unfinishedOffers?.(key) ?? 0);
  }

  /** Bytes, fraction, rate, time left and average rate now; undefined before the accept. */
  progress(transfer: Transfer, now = this.clock()): ProgressSnapshot | undefined {
    return transfer.estimator?.snapshot(now);
  }

  // ---- what the link says ---------------------------------------------------------------------

  /** One event of the file link. */
  handle(e: LinkEvent): void {
    const now = this.clock();
    if (e.type === 'file_offer') {
      this.onOffer(e, now);
      return;
    }
    const t = this.table.get(e.transfer);
    if (!t) return;
    switch (e.type) {
      case 'file_queued':
        t.waiting = { why: e.why, tries: e.tries, retryInMs: e.retryInMs };
        this.emit({ type: 'waiting', transfer: t });
        return;
      case 'file_offer_sent':
        t.waiting = undefined;
        this.emit({ type: 'waiting', transfer: t });
        return;
      case 'file_accepted':
        t.phase = 'moving';
        t.offset = e.offset;
        t.bytes = e.offset;
        t.acceptedAt = now;
        t.estimator = new ProgressEstimator(t.totalSize, e.offset, now);
        this.emit({ type: 'accepted', transfer: t });
        return;
      case 'file_started':
        if (e.file >= 0 && e.file < t.fileOffsets.length) t.fileOffsets[e.file] = e.offset;
        this.setBytes(t, e.file, e.offset, now);
        return;
      case 'file_progress':
        // The engine's figure is the whole transfer's (every file), not this file's: summed with
        // the other files it went past the size (`148 MB/110 MB` for a folder).
        this.setTransferBytes(t, e.bytes, now);
        if (t.estimator?.reportDue(now))
          this.emit({ type: 'progress', transfer: t, progress: t.estimator.snapshot(now) });
        return;
      case 'file_received':
      case 'file_sent': {
        const moved = Math.max(0, e.size - (t.fileOffsets[e.file] ?? 0));
        const outcome = { file: e.file, path: e.path, size: e.size, hash: e.hash, seconds: e.seconds, moved };
        this.setBytes(t, e.file, e.size, now);
        if (e.type === 'file_received') t.received.push(outcome);
        else t.sent.push(outcome);
        this.emit(
          e.type === 'file_received'
            ? { type: 'file_received', transfer: t, outcome }
            : { type: 'file_sent', transfer: t, outcome },
        );
        return;
      }
      case 'file_failed': {
        const failure = { file: e.file, reason: e.reason, message: e.message, resumable: e.resumable };
        t.failures.push(failure);
        if (e.file !== undefined) this.emit({ type: 'file_failed', transfer: t, failure });
        else this.end(t, e.reason === 'interrupted' ? 'interrupted' : 'failed', now);
        return;
      }
      case 'file_declined':
        t.declined = { reason: e.reason, by: e.by };
        // Declined by our accept (too large, no room): ended when the accept says why in words.
        if (e.by === 'local' && this.accepting.has(t.id)) this.accepting.set(t.id, now);
        else this.end(t, 'declined', now);
        return;
      case 'file_cancelled':
        t.cancelledBy = e.by;
        this.end(t, 'cancelled', now);
        return;
      case 'file_done':
        this.end(t, 'done', now);
        return;
    }
  }

  // ---- internals ------------------------------------------------------------------------------

  private onOffer(e: Extract<LinkEvent, { type: 'file_offer' }>, now: number): void {
    const conversation = this.conversations().find((c) => c.session === e.session && c.state === 'open');
    if (!conversation) {
      // No chat of ours has this session (it ended as the offer came): nobody can answer it.
      if (e.direction === 'receive') this.port.decline(e.transfer, 'declined');
      else this.port.cancel(e.transfer);
      return;
    }
    const transfer = newTransfer(e, conversation, now);
    this.table.set(transfer.id, transfer);
    if (e.direction === 'send') {
      // One that waits for the peer to answer earlier offers has not gone: its `waiting` says so.
      if (this.port.transfer(e.transfer)?.state !== 'queued') this.emit({ type: 'offered', transfer });
    } else if (e.resuming) this.emit({ type: 'resuming', transfer });
    else if (this.overSizeTaken(transfer)) {
      // Nobody is asked about what this side would refuse anyway: the accept declines it with
      // the reason (`too_large`, the sizes in words), told as the transfer ends.
      void this.accept(transfer);
    } else {
      const auto = this.settings.acceptAll === true;
      this.emit({ type: 'offer', transfer, auto });
      if (auto) void this.accept(transfer);
    }
  }

  /** Whether a file of the offer is over `maxFileSize`, the most this side takes. */
  private overSizeTaken(t: Transfer): boolean {
    const max = this.settings.maxFileSize;
    return max !== undefined && t.files.some((f) => f.size > max);
  }

  /** One file's bytes (where it started, or whole once in place): the transfer's are at least their sum. */
  private setBytes(t: Transfer, file: number, bytes: number, now: number): void {
    if (file < 0 || file >= t.fileBytes.length) return;
    t.fileBytes[file] = bytes;
    this.setTransferBytes(
      t,
      Math.max(
        t.bytes,
        t.fileBytes.reduce((a, b) => a + b, 0),
      ),
      now,
    );
  }

  /** The whole transfer's bytes held or sent, never past its size. */
  private setTransferBytes(t: Transfer, bytes: number, now: number): void {
    t.bytes = Math.min(bytes, t.totalSize);
    t.estimator?.update(t.bytes, now);
  }

  private end(t: Transfer, phase: Transfer['phase'], now: number): void {
    if (hasEnded(t)) return;
    t.phase = phase;
    t.endedAt = now;
    this.emit({ type: 'ended', transfer: t });
    this.forgetOld();
  }

  /** Keeps at most `keepEnded` ended transfers (the oldest go). */
  private forgetOld(): void {
    const keep = this.settings.keepEnded ?? 100;
    const ended = this.list().filter(hasEnded);
    for (const t of ended.slice(0, Math.max(0, ended.length - keep))) this.table.delete(t.id);
  }

  private emit(update: TransferUpdate): void {
    for (const listener of this.listeners) listener(update);
  }
}

/**
 * Our offers that wait here for their turn (the sender's side of PROTOCOL.md Files: transfers,
 * Offering, step 3). A receiver holds a bounded number of offers unanswered and declines more at
 * once (`too_many_offers`), so a person who sends nine files before the peer answered would see
 * the ninth fail for something that works a minute later. Instead each session has at most as
 * many of our offers unanswered on the wire as netchat's receiver holds (8, with their files and
 * paths within its bounds), and fewer once the peer said it had too many; the rest wait here, in
 * the order made, and go as the peer answers. An offer the peer declines `too_many_offers` all
 * the same (another implementation allows fewer; the receiver's room was taken by other peers)
 * waits and goes again under a new id, after the peer answers one of ours or after a backoff,
 * at most `retries` times; then it ends declined. What waits is bounded too: past `maxWaiting`
 * offers (or `maxWaitingFiles` files) an offer is refused at once.
 */
import { errors } from '../errors.js';
import type { SessionId } from '../events.js';
import type { QueuedWhy } from './file-events.js';
import { OFFER_ID_BYTES, offerBytes } from './records.js';
import type { TransferContext } from './transfer-context.js';
import { TRANSFER_LIMITS } from './transfer-limits.js';
import { advance } from './transfer-states.js';
import type { Transfer } from './transfer-table.js';

export const OFFER_QUEUE = {
  /** Our offers unanswered on the wire per session, and their files and path bytes: what netchat's receiver holds. */
  maxUnanswered: TRANSFER_LIMITS.maxPendingOffersPerSession,
  maxUnansweredFiles: TRANSFER_LIMITS.maxPendingFiles,
  maxUnansweredPathBytes: TRANSFER_LIMITS.maxPendingPathBytes,
  /** Offers waiting here, in all sessions together, and their files: past these `offer` throws. */
  maxWaiting: 64,
  maxWaitingFiles: 100_000,
  /** `too_many_offers` declines of one offer that it outlives; the next ends it declined. */
  retries: 8,
  /** The wait after its n-th such decline: 1 s, doubling, at most 30 s (1+2+4+8+16+30+30+30 = 121 s in all). */
  firstRetryMs: 1_000,
  maxRetryMs: 30_000,
} as const;

interface Waiting {
  readonly transfer: Transfer;
  why: QueuedWhy;
  /** When it may go (the engine's clock); `earlier_offers` at once, as soon as there is room. */
  dueAt: number;
  /** Its `file_queued` was emitted: its going is said (`file_offer_sent`). */
  told: boolean;
}

/** A session's offers of ours on the wire and not answered, and how many the peer takes. */
interface Outstanding {
  readonly sent: Set<Transfer>;
  cap: number;
}

export class OfferQueue {
  /** In the order the offers were made (their ids ascending). */
  private waiting: Waiting[] = [];
  private readonly sessions = new Map<SessionId, Outstanding>();

  get size(): number {
    return this.waiting.length;
  }

  /** Throws (nothing kept) when `files` more would wait past the bounds. */
  checkRoom(files: number): void {
    const held = this.waiting.reduce((n, w) => n + w.transfer.files.length, 0);
    if (this.waiting.length >= OFFER_QUEUE.maxWaiting || held + files > OFFER_QUEUE.maxWaitingFiles)
      throw errors.invalidArgument(
        'offer',
        `${this.waiting.length} offers (${held} files) already wait for their peers to answer earlier ones; at most ${OFFER_QUEUE.maxWaiting} (${OFFER_QUEUE.maxWaitingFiles} files): offer more once some are answered`,
      );
  }

  /** A new offer of ours (state `queued`): it goes at the next `pump` if its session has room. */
  add(transfer: Transfer): void {
    this.waiting.push({ transfer, why: 'earlier_offers', dueAt: Number.NEGATIVE_INFINITY, told: false });
  }

  /**
   * The peer declined `transfer` `too_many_offers`: true if it waits to go again (under a new id),
   * false once it had its `retries` (the caller ends it declined).
   */
  peerBusy(ctx: TransferContext, transfer: Transfer): boolean {
    const out = this.sessions.get(transfer.session);
    out?.sent.delete(transfer);
    if (transfer.busyDeclines >= OFFER_QUEUE.retries || !advance(transfer, 'requeue')) return false;
    // It held as many of ours as are still unanswered: no more go until it answers one.
    if (out) out.cap = Math.max(1, unanswered(out));
    transfer.busyDeclines++;
    ctx.table.renumber(transfer, freshId(ctx, transfer.session));
    const wait = Math.min(
      OFFER_QUEUE.firstRetryMs * 2 ** (transfer.busyDeclines - 1),
      OFFER_QUEUE.maxRetryMs,
    );
    const entry: Waiting = { transfer, why: 'peer_busy', dueAt: ctx.now + wait, told: true };
    const at = this.waiting.findIndex((w) => w.transfer.id > transfer.id);
    this.waiting.splice(at < 0 ? this.waiting.length : at, 0, entry);
    ctx.emit({
      type: 'file_queued',
      transfer: transfer.id,
      session: transfer.session,
      direction: 'send',
      why: 'peer_busy',
      message: `the peer has too many offers waiting: offered again when it answers one of ours, or in ${wait / 1000} s (try ${transfer.busyDeclines} of ${OFFER_QUEUE.retries})`,
      tries: transfer.busyDeclines,
      retryInMs: wait,
    });
    return true;
  }

  /** When an offer the peer declined is due to go again (the engine's clock), if one waits. */
  nextDue(): number | undefined {
    let due: number | undefined;
    for (const w of this.waiting)
      if (Number.isFinite(w.dueAt) && (due === undefined || w.dueAt < due)) due = w.dueAt;
    return due;
  }

  /**
   * Sends what may go now, in the order made; says which wait. Answers the peer gave since the
   * last pump wake its offers declined `too_many_offers`. True if an offer went (records written).
   */
  pump(ctx: TransferContext): boolean {
    if (this.waiting.length === 0 && this.sessions.size === 0) return false;
    for (const [session, out] of this.sessions) this.noteAnswers(ctx, session, out);
    const went = this.waiting.length > 0 && this.sendWaiting(ctx);
    for (const [session, out] of this.sessions)
      if (out.sent.size === 0 && !this.waiting.some((w) => w.transfer.session === session))
        this.sessions.delete(session);
    return went;
  }

  private sendWaiting(ctx: TransferContext): boolean {
    this.waiting = this.waiting.filter((w) => w.transfer.state === 'queued');
    let went = false;
    const full = new Set<SessionId>();
    for (const w of [...this.waiting]) {
      const t = w.transfer;
      if (w.dueAt > ctx.now) continue;
      const out = this.outstanding(t.session);
      if (full.has(t.session) || !fits(out, t)) {
        // Due, but the peer holds as many of ours as it takes: it goes when it answers one.
        w.dueAt = Number.NEGATIVE_INFINITY;
        full.add(t.session);
        continue;
      }
      this.waiting.splice(this.waiting.indexOf(w), 1);
      goOut(ctx, t);
      out.sent.add(t);
      went = true;
      if (w.told)
        ctx.emit({
          type: 'file_offer_sent',
          transfer: t.id,
          session: t.session,
          direction: 'send',
          offerId: t.offerId,
        });
    }
    for (const w of this.waiting) {
      if (w.told) continue;
      w.told = true;
      ctx.emit({
        type: 'file_queued',
        transfer: w.transfer.id,
        session: w.transfer.session,
        direction: 'send',
        why: 'earlier_offers',
        message: 'waiting for the peer to answer earlier offers',
        tries: w.transfer.busyDeclines,
        retryInMs: undefined,
      });
    }
    return went;
  }

  /** Our offers of `session` that left `offered`: answered ones make room and wake those the peer declined busy. */
  private noteAnswers(ctx: TransferContext, session: SessionId, out: Outstanding): void {
    let answered = false;
    for (const t of out.sent) {
      if (t.state === 'offered') continue;
      out.sent.delete(t);
      if (t.state === 'queued') continue; // declined busy: peerBusy saw it
      answered = true;
      if (t.state === 'accepted' || t.state === 'done')
        out.cap = Math.min(OFFER_QUEUE.maxUnanswered, out.cap + 1);
    }
    if (!answered) return;
    for (const w of this.waiting)
      if (w.transfer.session === session && w.why === 'peer_busy') w.dueAt = Math.min(w.dueAt, ctx.now);
  }

  private outstanding(session: SessionId): Outstanding {
    let out = this.sessions.get(session);
    if (!out) {
      out = { sent: new Set(), cap: OFFER_QUEUE.maxUnanswered };
      this.sessions.set(session, out);
    }
    return out;
  }
}

/** Whether `t` may go with what its session has unanswered (the first always may). */
function fits(out: Outstanding, t: Transfer): boolean {
  const count = unanswered(out);
  if (count === 0) return true;
  if (count >= out.cap) return false;
  let files = t.files.length;
  let pathBytes = t.pathBytes;
  for (const s of out.sent)
    if (s.state === 'offered') {
      files += s.files.length;
      pathBytes += s.pathBytes;
    }
  return files <= OFFER_QUEUE.maxUnansweredFiles && pathBytes <= OFFER_QUEUE.maxUnansweredPathBytes;
}

function unanswered(out: Outstanding): number {
  let n = 0;
  for (const s of out.sent) if (s.state === 'offered') n++;
  return n;
}

/** A queued offer goes on the wire: its `offer` record and its files. */
function goOut(ctx: TransferContext, t: Transfer): void {
  advance(t, 'send');
  ctx.send(t.session, {
    type: 'offer',
    offer: offerBytes(t.offerId),
    files: t.files.length,
    totalSize: t.totalSize,
  });
  ctx.send(t.session, { type: 'offer_files', transfer: t });
}

/** An id not used by our offers in the session (ids are never used twice in a session). */
function freshId(ctx: TransferContext, session: SessionId): string {
  for (;;) {
    const id = Buffer.from(ctx.options.randomBytes(OFFER_ID_BYTES)).toString('hex');
    if (!ctx.table.byOfferId(session, 'send', id)) return id;
  }
}

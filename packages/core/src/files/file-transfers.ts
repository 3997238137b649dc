/**
 * The file-transfer engine (PROTOCOL.md, Files: transfers), sans-IO: the streams' events and the
 * storage's answers come in (`handle`, `complete`), with the time; records and file bytes go out
 * on streams (through a StreamPort), storage requests (`pollRequest`) and events (`pollEvent`)
 * come back. It never reads a clock, a socket or a disk.
 *
 * It claims every stream of every session it is given (a stream that is not the files
 * protocol's is stopped). Calls and events may arrive while it is in the middle of one (a
 * NetchatPeer emits stream events from inside a write): those wait in an inbox and run next,
 * so its state is only ever changed by one thing at a time.
 */
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { errors } from '../errors.js';
import type { NetchatEvent, SessionId } from '../events.js';
import { checkFilesPeer, flushControl } from './control-streams.js';
import type { FileEvent, TransferId, TransferInfo } from './file-events.js';
import { OfferQueue } from './offer-queue.js';
import { checkStalls, nextStallCheck, storageAnswered, storageAsked } from './receive-stalls.js';
import { acceptOffer, cancelReceive, declineOffer } from './receiving.js';
import { OFFER_ID_BYTES, type OfferDeclineReason, offerBytes } from './records.js';
import { checkOfferInput, makeOffer, type OfferInput } from './sending.js';
import { onStorageAnswer } from './storage-answers.js';
import type { StorageOutcome, StorageRequest } from './storage-requests.js';
import { StreamEvents } from './stream-events.js';
import type { StreamPort } from './stream-port.js';
import type {
  ControlItem,
  FileTransferOptions,
  FileTransferStats,
  NewRequest,
  ResolvedFileOptions,
  TransferContext,
} from './transfer-context.js';
import { cancelled, interrupted } from './transfer-ending.js';
import { TRANSFER_LIMITS } from './transfer-limits.js';
import { isFinal, type Transfer, TransferTable, transferInfo } from './transfer-table.js';

type Job = () => void;

export class FileTransfers implements TransferContext {
  readonly table: TransferTable;
  readonly options: ResolvedFileOptions;
  readonly stats: FileTransferStats = {
    recordsIn: 0,
    recordsOut: 0,
    protocolErrors: 0,
    unknownTransfers: 0,
    offersRefused: 0,
    streamsRefused: 0,
  };
  readonly queue = new OfferQueue();
  now = 0;
  /** The streams' events, and each session's control streams. */
  private readonly streamEvents = new StreamEvents(this);
  private readonly events: FileEvent[] = [];
  private readonly requests: StorageRequest[] = [];
  /** Requests answered later, by id: what they were. */
  private readonly asked = new Map<number, StorageRequest>();
  private nextRequest = 1;
  private readonly inbox: Job[] = [];
  private running = false;
  /** When `tick` last ran (its next is a second later while it receives). */
  private lastTick: number | undefined;

  constructor(
    readonly port: StreamPort,
    options: FileTransferOptions = {},
  ) {
    this.options = {
      chunkBytes: options.chunkBytes ?? 256 * 1024,
      readAhead: options.readAhead ?? 2,
      wantAhead: options.wantAhead ?? 16,
      filesAtOnce: options.filesAtOnce ?? 8,
      overlapBytes: options.overlapBytes ?? 256 * 1024,
      progressEveryMs: options.progressEveryMs ?? 250,
      limits: { ...TRANSFER_LIMITS, ...options.limits },
      randomBytes: options.randomBytes ?? ((n) => new Uint8Array(cryptoRandomBytes(n))),
      mapNames: options.mapNames ?? true,
    };
    this.table = new TransferTable(this.options.limits.maxEndedKept);
  }

  // ---- the application's calls ----------------------------------------------------------------

  /**
   * Offers files to the peer of `session`; returns the transfer's id. `offerId` (16 hex digits)
   * makes an unfinished offer again under its first id. It goes at once, or waits here
   * (`file_queued`) while the peer holds as many of our offers unanswered as it takes
   * (offer-queue.ts). Throws at once, without sending anything: FILES_UNSUPPORTED (the peer takes
   * no files), SESSION_NOT_OPEN, INVALID_ARGUMENT (no files, too many, a size or hash that is not
   * one, paths over the limits, a path a receiver refuses or two that map to one, or already 64
   * offers waiting here). Each path is offered as the receiver maps it (`CON` as `_CON`: the file's
   * `offeredPath`, `renamed`).
   */
  offer(session: SessionId, files: readonly OfferInput[], now: number, offerId?: string): TransferId {
    return this.run(now, () => {
      const peerKey = checkFilesPeer(this, session);
      const wire = checkOfferInput(files, this.options.limits.maxOfferPathBytes, this.options.mapNames);
      const id = offerId ?? Buffer.from(this.options.randomBytes(OFFER_ID_BYTES)).toString('hex');
      if (!/^[0-9a-f]{16}$/.test(id)) throw errors.invalidArgument('offer id', `${id} is not 16 hex digits`);
      if (this.table.byOfferId(session, 'send', id))
        throw errors.invalidArgument('offer id', `${id} is already offered in session ${session}`);
      return makeOffer(this, session, peerKey, id, files, wire).id;
    });
  }

  /** Throws what `offer` would for `session` (FILES_UNSUPPORTED, SESSION_NOT_OPEN, NO_SUCH_SESSION), before files are read. */
  canOffer(session: SessionId): void {
    checkFilesPeer(this, session);
  }

  /** Accepts an offer of the peer's; `held` (per file, from the storage) is what is already here. */
  accept(transfer: TransferId, now: number, held: readonly number[] = []): void {
    this.run(now, () => acceptOffer(this, this.incoming(transfer, 'offered', 'accept'), held));
  }

  decline(transfer: TransferId, now: number, reason: OfferDeclineReason = 'declined'): void {
    this.run(now, () => declineOffer(this, this.incoming(transfer, 'offered', 'decline'), reason));
  }

  /** Cancels a transfer either way (the peer is told); an offer not answered yet is declined. False if it had ended. */
  cancel(transfer: TransferId, now: number): boolean {
    return this.run(now, () => {
      const t = this.table.get(transfer);
      if (!t) throw errors.noSuchTransfer(transfer);
      if (isFinal(t.state)) return false;
      // An offer waiting here has nothing on the wire: the peer is told nothing.
      const onWire = t.state !== 'queued';
      if (t.direction === 'receive') cancelReceive(this, t);
      else if (cancelled(this, t, 'local') && onWire)
        this.send(t.session, { type: 'cancel_send', offer: offerBytes(t.offerId) });
      return true;
    });
  }

  /** Interrupts every transfer (the program stops): the receiver's files are kept for a resume. */
  interruptAll(now: number, why = 'this program stopped'): void {
    this.run(now, () => {
      for (const t of [...this.table.all()]) if (!isFinal(t.state)) interrupted(this, t, why);
    });
  }

  transfer(id: TransferId): TransferInfo | undefined {
    const t = this.table.get(id);
    return t ? transferInfo(t) : undefined;
  }

  /** Every transfer, running or recently ended, the oldest first. */
  list(): TransferInfo[] {
    return [...this.table.all()].map(transferInfo);
  }

  /**
   * When `tick` is due (the injected clock's ms), or undefined while nothing waits on time: while
   * it receives, a check a second of the receives that stalled (receive-stalls.ts); an offer the
   * peer declined `too_many_offers`, when it goes again (offer-queue.ts).
   */
  nextDeadline(): number | undefined {
    const stall = nextStallCheck(this, this.lastTick);
    const retry = this.queue.nextDue();
    return stall === undefined || (retry !== undefined && retry < stall) ? retry : stall;
  }

  /** The time came (`nextDeadline`): stalled receives end `stalled`; offers due go again (each step's end). */
  tick(now: number): void {
    // Called early (a driver that calls every timer at once), it waits for its time.
    const stall = nextStallCheck(this, this.lastTick);
    const stallDue = stall !== undefined && now >= stall;
    if (!stallDue && !(now >= (this.queue.nextDue() ?? Number.POSITIVE_INFINITY))) return;
    if (stallDue) this.lastTick = now;
    this.run(now, () => stallDue && checkStalls(this));
  }

  pollEvent(): FileEvent | undefined {
    return this.events.shift();
  }

  pollRequest(): StorageRequest | undefined {
    return this.requests.shift();
  }

  /** The storage's answer to request `id`. */
  complete(id: number, outcome: StorageOutcome, now: number): void {
    this.run(now, () => {
      const request = this.asked.get(id);
      if (!request) return;
      this.asked.delete(id);
      const pace = this.table.get(request.transfer)?.pace;
      if (pace) storageAnswered(pace, now);
      onStorageAnswer(this, request, outcome);
    });
  }

  // ---- the streams' events ----------------------------------------------------------------------

  /** An event of the endpoint the streams belong to (others are ignored). */
  handle(event: NetchatEvent, now: number): void {
    this.run(now, () => this.streamEvents.handle(event), true);
  }

  // ---- TransferContext --------------------------------------------------------------------------

  emit(event: FileEvent): void {
    this.events.push(event);
  }

  request(request: NewRequest): number {
    if (request.kind === 'release' || request.kind === 'close' || request.kind === 'discard') {
      this.requests.push(request);
      return 0;
    }
    const id = this.nextRequest++;
    const full = { ...request, id } as StorageRequest;
    this.asked.set(id, full);
    // A receive's clock stands still while the storage has one of its requests (receive-stalls.ts).
    const pace = this.table.get(request.transfer)?.pace;
    if (pace) storageAsked(pace, this.now);
    this.requests.push(full);
    return id;
  }

  send(session: SessionId, item: ControlItem): void {
    const files = this.streamEvents.sessionFiles(session);
    files.out.push(item);
    flushControl(this, files);
  }

  // ---- internals --------------------------------------------------------------------------------

  private incoming(id: TransferId, state: 'offered', action: string): Transfer {
    const t = this.table.get(id);
    if (!t) throw errors.noSuchTransfer(id);
    if (t.direction !== 'receive')
      throw errors.transferState(id, `is ours: only the receiver may ${action} it`);
    if (t.state !== state)
      throw errors.transferState(id, `is ${t.state}: only an offer not answered yet can be answered`);
    return t;
  }

  /**
   * Runs `job` at `now`; then the events that came meanwhile. An event that comes while a job runs
   * (a NetchatPeer emits them from inside a stream call) waits for it; a call does not: it throws.
   */
  private run<T>(now: number, job: () => T, isEvent = false): T {
    if (this.running) {
      if (!isEvent)
        throw errors.invalidArgument(
          'call',
          'the file engine was called from inside one of its stream calls: call it after the event',
        );
      this.inbox.push(job as () => void);
      return undefined as T;
    }
    this.running = true;
    try {
      this.now = now;
      const result = job();
      // Each offer that goes may bring events (inbox); each pass sends at least one or stops.
      do for (let next = this.inbox.shift(); next; next = this.inbox.shift()) next();
      while (this.queue.pump(this));
      return result;
    } finally {
      this.running = false;
    }
  }
}

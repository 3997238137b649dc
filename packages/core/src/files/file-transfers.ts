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
import {
  breakControl,
  checkFilesPeer,
  classify,
  flushControl,
  newSessionFiles,
  readControl,
  type SessionFiles,
} from './control-streams.js';
import type { FileEvent, TransferId, TransferInfo } from './file-events.js';
import { OfferQueue } from './offer-queue.js';
import { actOnRecord } from './peer-records.js';
import { onDataStream, onReceiveEnd, onReceiveStopped, pumpReceive } from './receive-pipe.js';
import { checkStalls, nextStallCheck, storageAnswered, storageAsked } from './receive-stalls.js';
import { acceptOffer, cancelReceive, declineOffer } from './receiving.js';
import { RecordReader } from './record-reader.js';
import { type FileRecord, OFFER_ID_BYTES, type OfferDeclineReason, offerBytes } from './records.js';
import { onSendComplete, onSendStopped, pumpSend, startSending } from './send-pipe.js';
import { checkOfferInput, makeOffer, type OfferInput } from './sending.js';
import { onStorageAnswer } from './storage-answers.js';
import type { StorageOutcome, StorageRequest } from './storage-requests.js';
import type { StreamPort } from './stream-port.js';
import type {
  ControlItem,
  FileTransferOptions,
  FileTransferStats,
  NewRequest,
  ResolvedFileOptions,
  TransferContext,
} from './transfer-context.js';
import { cancelled, failed, interrupted } from './transfer-ending.js';
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
  private readonly sessions = new Map<SessionId, SessionFiles>();
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
    this.run(now, () => this.dispatchLive(event), true);
  }

  /**
   * A stream event told after its session ended (a batch is told after the engine call that made
   * it): its stream calls throw, and it is dropped; the session's end comes next. The session is
   * looked at only then (its info is not free, and stream events come with most datagrams).
   */
  private dispatchLive(event: NetchatEvent): void {
    try {
      this.dispatch(event);
    } catch (error) {
      if (!event.type.startsWith('stream') || this.port.session(event.session)?.state === 'open') throw error;
    }
  }

  private dispatch(event: NetchatEvent): void {
    switch (event.type) {
      case 'stream_opened': {
        const files = this.sessionFiles(event.session);
        files.unknown.set(event.stream, new RecordReader());
        this.onReadable(files, event.stream);
        break;
      }
      case 'stream_readable':
        this.onReadable(this.sessionFiles(event.session), event.stream);
        break;
      case 'stream_writable': {
        const files = this.sessions.get(event.session);
        const data = this.table.fileOfStream(event.session, event.stream);
        if (files && event.stream === files.ours) flushControl(this, files);
        else if (data) pumpSend(this, data.transfer, data.file);
        break;
      }
      case 'stream_finished': {
        const data = this.table.fileOfStream(event.session, event.stream);
        if (data && event.direction === 'send') onSendComplete(this, data.transfer, data.file);
        else if (data) onReceiveEnd(this, data.transfer, data.file);
        break;
      }
      case 'stream_cancelled':
        this.onStreamCancelled(event);
        break;
      case 'streams_available': {
        const files = this.sessions.get(event.session);
        if (files?.blocked) flushControl(this, files);
        for (const t of this.table.forSession(event.session))
          if (t.direction === 'send') startSending(this, t);
        break;
      }
      case 'closed':
      case 'lost':
        this.sessionEnded(
          event.session,
          event.type === 'lost' ? 'the peer was lost' : 'the peer closed the chat',
        );
        break;
      default:
        break;
    }
  }

  private onReadable(files: SessionFiles, stream: number): void {
    if (stream === files.theirs) {
      readControl(
        this,
        files,
        (r) => this.onRecord(files, r),
        (why) => this.controlBroken(files, why),
      );
      return;
    }
    if (files.unknown.has(stream)) {
      const kind = classify(this, files, stream);
      if (kind.kind === 'data') onDataStream(this, files, stream, kind.first);
      if (kind.kind !== 'control') return;
      this.onRecord(files, kind.first);
      if (files.broken) breakControl(this, files, (why) => this.controlBroken(files, why));
      else this.onReadable(files, stream);
      return;
    }
    const data = this.table.fileOfStream(files.session, stream);
    if (data?.transfer.direction === 'receive') pumpReceive(this, data.transfer, data.file);
  }

  private onStreamCancelled(event: Extract<NetchatEvent, { type: 'stream_cancelled' }>): void {
    if (event.reason === 'session_ended') {
      this.sessionEnded(event.session, 'the chat ended');
      return;
    }
    const files = this.sessions.get(event.session);
    if (!files) return;
    files.unknown.delete(event.stream);
    if (event.stream === files.theirs || event.stream === files.ours) {
      if (event.by === 'peer') this.controlBroken(files, 'the peer stopped a control stream');
      return;
    }
    const data = this.table.fileOfStream(event.session, event.stream);
    if (!data || event.by !== 'peer') return;
    if (event.direction === 'send') onSendStopped(this, data.transfer, data.file);
    else onReceiveStopped(this, data.transfer, data.file);
  }

  /** A record of the peer's control stream. */
  private onRecord(files: SessionFiles, record: FileRecord): void {
    const problem = actOnRecord(this, files, record);
    if (problem) {
      files.broken = true;
      files.brokenWhy = problem;
      this.stats.protocolErrors++;
    }
  }

  /** The peer's control stream broke the protocol: the session's transfers fail; what arrived is kept. */
  private controlBroken(files: SessionFiles, why: string): void {
    files.broken = true;
    files.collecting = undefined;
    for (const t of this.table.forSession(files.session)) failed(this, t, why);
  }

  /** The session ended: every transfer of it is interrupted (resumed when a chat with the peer opens again). */
  private sessionEnded(session: SessionId, why: string): void {
    if (!this.sessions.has(session) && this.table.forSession(session).every((t) => isFinal(t.state))) return;
    this.sessions.delete(session);
    for (const t of this.table.forSession(session)) interrupted(this, t, why);
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
    const files = this.sessionFiles(session);
    files.out.push(item);
    flushControl(this, files);
  }

  // ---- internals --------------------------------------------------------------------------------

  private sessionFiles(session: SessionId): SessionFiles {
    let files = this.sessions.get(session);
    if (!files) {
      files = newSessionFiles(session);
      this.sessions.set(session, files);
    }
    return files;
  }

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

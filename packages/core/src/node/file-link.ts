/**
 * File transfer on a NetchatPeer (as rendezvous-link.ts binds the rendezvous roles to one): the
 * engine (files/file-transfers.ts) gets the peer's stream events and its clock; its storage
 * requests go to the disk (file-storage.ts: FileSource for what we send, a PartialStore per
 * download folder for what we receive); its events come out as this emitter's, with the paths of
 * received files made absolute. Unfinished offers are kept in OutgoingTransfers (in the netchat
 * home) and made again by themselves when a chat with the same peer key opens (reoffers.ts: a
 * resume, each file going on from what the receiver holds). A peer offering again files we hold part of (the
 * same sender key and content, in the download folder) is accepted by itself (`autoResume`).
 * Opening a download folder removes the partials there untouched for 7 days (`removeStale`).
 *
 * It claims every stream of the peer: a stream that is not the files protocol's is stopped.
 * Nothing the peer sends makes it throw, nor write outside the folder an offer was accepted into.
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { errors } from '../errors.js';
import type { NetchatEvent, SessionId } from '../events.js';
import type {
  FileEvent,
  FileEventOf,
  FileEventType,
  TransferId,
  TransferInfo,
} from '../files/file-events.js';
import { FileTransfers } from '../files/file-transfers.js';
import type { OfferDeclineReason } from '../files/records.js';
import type { FileTransferOptions, FileTransferStats } from '../files/transfer-context.js';
import { sizesApart } from '../size-text.js';
import { prepareDownloadFolder } from './download-folder.js';
import { FeatureWaits } from './feature-waits.js';
import { DiskStorage, type StorageStats } from './file-storage.js';
import { fileProblem } from './home-files.js';
import type { NetchatPeer } from './netchat-peer.js';
import { type HashProgress, prepareOffer } from './offer-paths.js';
import { OutgoingTransfers } from './outgoing-transfers.js';
import { PartialStore, type PartialStoreOptions } from './partial-store.js';
import { endsTransfer, Reoffers } from './reoffers.js';

export { FEATURES_WAIT_MS } from './feature-waits.js';

export interface FileLinkOptions {
  /** Where accepted files go unless `accept` names another folder (and where resumes are looked for). */
  readonly downloadFolder?: string;
  /** The sender's record of unfinished offers (`OutgoingTransfers.load(home)`); in memory if not given. */
  readonly outgoing?: OutgoingTransfers;
  /** Accept by itself an offer of files we hold part of from the same sender (a resume). Default true. */
  readonly autoResume?: boolean;
  /** The largest file `accept` takes unless it is told another limit (bytes; none by default). */
  readonly maxFileSize?: number;
  readonly engine?: FileTransferOptions;
  readonly partialStore?: PartialStoreOptions;
}

export interface AcceptOptions {
  /** The download folder for this offer (made if missing). */
  readonly folder?: string;
  /** Declines (`too_large`) an offer with a larger file. */
  readonly maxFileSize?: number;
}

export type AcceptOutcome =
  | { readonly accepted: true; readonly folder: string; readonly held: number }
  | { readonly accepted: false; readonly reason: OfferDeclineReason; readonly message: string };

/** A received file's event, with where it is. */
export type LinkEvent =
  | Exclude<FileEvent, { type: 'file_received' | 'file_offer' }>
  | (FileEventOf<'file_received'> & { readonly relativePath: string })
  /**
   * receive: `held` per file, what is here already (a resume); `resuming`: accepted by itself.
   * send: `held` all 0; `resuming`: an unfinished offer the link made again by itself.
   */
  | (FileEventOf<'file_offer'> & { readonly held: readonly number[]; readonly resuming: boolean });

export type FileLinkEvents = { [K in FileEventType]: [Extract<LinkEvent, { type: K }>] } & {
  event: [LinkEvent];
  /** Files being hashed before an offer goes (`bytes` of `total`). */
  hashing: [{ readonly session: SessionId; readonly bytes: number; readonly total: number }];
  /** Something went wrong that is nobody's to answer (a re-offer that could not be made): one line. */
  warning: [string];
};

export class FileLink extends EventEmitter<FileLinkEvents> {
  readonly engine: FileTransfers;
  readonly storage = new DiskStorage();
  readonly outgoing: OutgoingTransfers;
  private readonly reoffers: Reoffers;
  private readonly stores = new Map<string, PartialStore>();
  /** Each store's sweep of stale partials, begun as it is opened (`close` waits for them). */
  private readonly sweeps: Promise<unknown>[] = [];
  /** Events of transfers whose offer is being looked at (held bytes), kept until it is shown. */
  private readonly holding = new Map<TransferId, LinkEvent[]>();
  /** Offers waiting for the word of a peer taken for text only, one wait a session (peerFeatures). */
  private readonly featureWaits: FeatureWaits;
  /** Engine calls in progress (an event the peer emits from inside one is handled in the engine's inbox). */
  private depth = 0;
  private pumping = false;
  /** The engine's next tick (its nextDeadline): one timer, moved when the deadline moves. */
  private timer: { at: number; handle: NodeJS.Timeout } | undefined;
  private pumpAgain = false;
  private closed = false;
  private readonly onPeerEvent = (event: NetchatEvent) => this.peerEvent(event);

  constructor(
    readonly peer: NetchatPeer,
    private readonly options: FileLinkOptions = {},
  ) {
    super();
    if (!peer.options.streams || !peer.options.files) throw errors.filesDisabled();
    this.engine = new FileTransfers(peer, options.engine);
    this.featureWaits = new FeatureWaits(peer);
    this.outgoing = options.outgoing ?? OutgoingTransfers.inMemory();
    this.reoffers = new Reoffers({
      peer,
      engine: this.engine,
      outgoing: this.outgoing,
      offer: (session, files, offerId) => {
        try {
          const transfer = this.call(() => this.engine.offer(session, files, this.peer.now(), offerId));
          this.storage.addSources(transfer, files);
          return transfer;
        } finally {
          this.pump();
        }
      },
      warn: (line) => this.emit('warning', line),
    });
    peer.on('event', this.onPeerEvent);
  }

  /**
   * Offers files and folders to the peer of `session`: they are hashed, then offered (or, while
   * the peer holds as many of our offers unanswered as it takes, held until it answers one:
   * `file_queued`, then `file_offer_sent`; files/offer-queue.ts). Rejects at
   * once (before reading anything) with NetchatError FILES_UNSUPPORTED when the peer takes no files
   * (an older netchat; a peer that has not said yet is waited for a moment first: feature-waits.ts),
   * SESSION_NOT_OPEN or NO_SUCH_SESSION; with FileTransferError when a path
   * cannot be read, or INVALID_ARGUMENT for two files under one name.
   */
  async offer(session: SessionId, paths: readonly string[], onHashing?: HashProgress): Promise<TransferId> {
    await this.featureWaits.whenKnown(session);
    this.engine.canOffer(session);
    const prepared = await prepareOffer(paths, (bytes, total) => {
      onHashing?.(bytes, total);
      this.emit('hashing', { session, bytes, total });
    });
    const transfer = this.call(() => this.engine.offer(session, prepared.files, this.peer.now()));
    this.storage.addSources(transfer, prepared.files);
    const info = this.engine.transfer(transfer);
    if (info) this.reoffers.made(info, prepared.files);
    this.pump();
    return transfer;
  }

  /**
   * Accepts an offer of the peer's into a folder (`options.folder`, else the download folder):
   * declined instead (and the peer told) if a file is larger than `maxFileSize` (`too_large`) or
   * the folder lacks room for what is not here yet or cannot be used at all (`no_room`, the
   * message says which). Throws TRANSFER_STATE if it was answered or ended.
   */
  async accept(transfer: TransferId, options: AcceptOptions = {}): Promise<AcceptOutcome> {
    const info = this.offered(transfer);
    const folder = options.folder ?? this.options.downloadFolder;
    if (!folder) throw errors.invalidArgument('download folder', 'none given, and the link has none');
    // A folder that cannot be used has no room: the offer is declined and the peer told, never
    // left waiting for an answer that cannot come.
    const prepared = prepareDownloadFolder(folder);
    if (!prepared.ok) return this.refuse(transfer, 'no_room', prepared.message);
    const maxFileSize = options.maxFileSize ?? this.options.maxFileSize ?? Number.POSITIVE_INFINITY;
    const large = info.files.find((f) => f.size > maxFileSize);
    if (large) {
      const [size, limit] = sizesApart(large.size, maxFileSize);
      const message = `${large.path} is ${size}, more than the ${limit} taken`;
      return this.refuse(transfer, 'too_large', message);
    }
    const store = this.store(prepared.folder);
    let held: number[];
    try {
      held = await this.heldBytes(store, info);
      const room = await store.checkRoom(info.totalSize - held.reduce((a, b) => a + b, 0));
      if (!room.ok) return this.refuse(transfer, 'no_room', room.reason);
    } catch (error) {
      return this.refuse(
        transfer,
        'no_room',
        `the download folder ${prepared.folder}: ${fileProblem(error)}`,
      );
    }
    // The peer may have cancelled while we looked.
    if (this.engine.transfer(transfer)?.state !== 'offered')
      throw errors.transferState(transfer, 'ended while it was being accepted');
    this.storage.setStore(transfer, store);
    this.call(() => this.engine.accept(transfer, this.peer.now(), held));
    this.pump();
    return { accepted: true, folder: prepared.folder, held: held.reduce((a, b) => a + b, 0) };
  }

  decline(transfer: TransferId, reason: OfferDeclineReason = 'declined'): void {
    this.call(() => this.engine.decline(transfer, this.peer.now(), reason));
    this.pump();
  }

  /** Cancels a transfer either way (the peer is told); false if it had ended. */
  cancel(transfer: TransferId): boolean {
    const result = this.call(() => this.engine.cancel(transfer, this.peer.now()));
    this.pump();
    return result;
  }

  transfer(id: TransferId): TransferInfo | undefined {
    return this.engine.transfer(id);
  }

  /** Our offers to the peer with this key (hex) left unfinished: kept, and made again when a chat with it opens. */
  unfinishedOffers(peerKey: string): number {
    return this.outgoing.forPeer(peerKey).length;
  }

  list(): TransferInfo[] {
    return this.engine.list();
  }

  get stats(): Readonly<FileTransferStats & StorageStats> {
    return { ...this.engine.stats, ...this.storage.stats };
  }

  /**
   * Stops: every transfer is interrupted (what was received is made durable and kept; our
   * unfinished offers stay recorded), and the record is saved. Call before `peer.close()`.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.reoffers.close();
    this.call(() => this.engine.interruptAll(this.peer.now()));
    this.pump(); // closed: its timer is cleared
    await this.storage.idle();
    await Promise.all(this.sweeps);
    this.peer.off('event', this.onPeerEvent);
    this.outgoing.flush();
  }

  // ---- the engine's events and requests ---------------------------------------------------------

  private peerEvent(event: NetchatEvent): void {
    if (this.closed) return;
    // Inside an engine call the event waits in its inbox, and the call's end pumps.
    this.call(() => this.engine.handle(event, this.peer.now()));
    if (event.type === 'features' && event.features.files)
      queueMicrotask(() => void this.reoffers.offerAgain(event.session));
    if (this.depth === 0) this.pump();
  }

  private call<T>(action: () => T): T {
    this.depth++;
    try {
      return action();
    } finally {
      this.depth--;
    }
  }

  /** Hands the engine's requests to the disk and emits its events, until it has none. */
  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        for (let r = this.engine.pollRequest(); r; r = this.engine.pollRequest())
          this.storage.perform(r, (id, outcome) => this.answer(id, outcome));
        for (let e = this.engine.pollEvent(); e; e = this.engine.pollEvent()) this.onEngineEvent(e);
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
    this.armTimer();
  }

  /** Sets the timer for the engine's next deadline (a receive's stall check), or clears it. */
  private armTimer(): void {
    const at = this.closed ? undefined : this.engine.nextDeadline();
    if (this.timer && this.timer.at === at) return;
    if (this.timer) clearTimeout(this.timer.handle);
    this.timer = undefined;
    if (at === undefined) return;
    const handle = setTimeout(
      () => {
        this.timer = undefined;
        if (this.closed) return;
        this.call(() => this.engine.tick(this.peer.now()));
        this.pump();
      },
      Math.max(0, at - this.peer.now()),
    );
    handle.unref();
    this.timer = { at, handle };
  }

  private answer(id: number, outcome: Parameters<FileTransfers['complete']>[1]): void {
    this.call(() => this.engine.complete(id, outcome, this.peer.now()));
    this.pump();
  }

  private onEngineEvent(event: FileEvent): void {
    if (event.direction === 'send') this.reoffers.onEvent(event);
    if (event.type === 'file_offer' && event.direction === 'receive') {
      this.holding.set(event.transfer, []);
      void this.showOffer(event);
      return;
    }
    let shown: LinkEvent = event as LinkEvent;
    if (event.type === 'file_offer') {
      // send: `resuming` says the link made an unfinished offer again by itself.
      const info = this.engine.transfer(event.transfer);
      const resuming = info !== undefined && this.reoffers.madeAgain(info.peerKey, info.offerId);
      shown = { ...event, held: event.files.map(() => 0), resuming };
    }
    if (event.type === 'file_received') {
      const folder = this.storage.storeOf(event.transfer)?.folder ?? '';
      shown = { ...event, path: join(folder, ...event.path.split('/')), relativePath: event.path };
    }
    if (endsTransfer(event)) this.storage.forget(event.transfer);
    const held = this.holding.get(event.transfer);
    if (held) held.push(shown);
    else this.show(shown);
  }

  private show(event: LinkEvent): void {
    (this.emit as (type: string, e: LinkEvent) => boolean)('event', event);
    (this.emit as (type: string, e: LinkEvent) => boolean)(event.type, event);
  }

  /** A peer's offer, with what we already hold of it; accepted by itself if it is a resume. */
  private async showOffer(event: FileEventOf<'file_offer'>): Promise<void> {
    const folder = this.options.downloadFolder;
    let held = event.files.map(() => 0);
    if (folder) {
      const info = this.engine.transfer(event.transfer);
      if (info) held = await this.heldBytes(this.store(folder), info).catch(() => held);
    }
    const resuming = (this.options.autoResume ?? true) && folder !== undefined && held.some((h) => h > 0);
    const waiting = this.holding.get(event.transfer) ?? [];
    this.holding.delete(event.transfer);
    this.show({ ...event, held, resuming });
    for (const e of waiting) this.show(e);
    if (resuming && this.engine.transfer(event.transfer)?.state === 'offered')
      await this.accept(event.transfer).catch((error: unknown) =>
        this.emit('warning', `could not resume transfer ${event.transfer}: ${(error as Error).message}`),
      );
  }

  // ---- internals --------------------------------------------------------------------------------

  private offered(transfer: TransferId): TransferInfo {
    const info = this.engine.transfer(transfer);
    if (!info) throw errors.noSuchTransfer(transfer);
    if (info.direction !== 'receive' || info.state !== 'offered')
      throw errors.transferState(
        transfer,
        `is ${info.direction === 'send' ? 'ours' : info.state}: only an offer not answered yet can be accepted`,
      );
    return info;
  }

  private refuse(transfer: TransferId, reason: OfferDeclineReason, message: string): AcceptOutcome {
    if (this.engine.transfer(transfer)?.state === 'offered') this.decline(transfer, reason);
    return { accepted: false, reason, message };
  }

  private store(folder: string): PartialStore {
    let store = this.stores.get(folder);
    if (!store) {
      store = new PartialStore(folder, this.options.partialStore);
      this.stores.set(folder, store);
      // Partials kept for a resume that never came go (the store's own use waits for this).
      this.sweeps.push(store.removeStale());
    }
    return store;
  }

  /** What `store` holds of each file of the offer (read from the small state files only). */
  private async heldBytes(store: PartialStore, info: TransferInfo): Promise<number[]> {
    const held: number[] = [];
    for (const file of info.files)
      held.push(
        await store.held({ senderKey: info.peerKey, hash: file.hash, size: file.size }).catch(() => 0),
      );
    return held;
  }
}

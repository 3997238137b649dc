/**
 * The sender's record of its unfinished offers, `outgoing_transfers.json` in the netchat home, so
 * that when a chat with that peer opens again (after a lost peer, a closed chat, a restart of
 * either program) the offers are made again by themselves and each file goes on from what the
 * receiver holds. Per offer: the peer's key, the offer's id, and per file the path offered, where
 * it is here, its size, hash and modification time (a file changed since is not re-offered as
 * the same file) and the bytes the receiver last said it held.
 *
 * Bounded: at most MAX_OFFERS_PER_PEER offers per peer, MAX_OFFERS in all and MAX_FILES files in
 * all; recording past a bound forgets the oldest offers (returned, to be told). Zod-checked on
 * read: a file that cannot be read or is not a valid record is reported (`loadProblem`) and the
 * record starts empty (it is only a convenience: the person can send again). Written as known
 * peers are (whole or not at all; a failure goes to the listeners, never thrown). An offer made or
 * forgotten is saved at once; per-file changes (confirmed bytes, a file done) are saved together
 * within `saveDelayMs`, so an offer of 10,000 small files is not rewritten 10,000 times.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { errors } from '../errors.js';
import { MAX_PATH_BYTES } from '../files/names.js';
import { OFFER_LIMITS } from '../files/offer-limits.js';
import {
  type FileWriter,
  fileProblem,
  type SaveFailure,
  trySave,
  writeFileAtomically,
} from './home-files.js';

/**
 * As many as can be running to one peer (the offer queue lets 64 wait: OFFER_QUEUE.maxWaiting):
 * at 8, a ninth /send to a peer that had not answered yet dropped the first's resume record, with
 * a warning about an offer that was still running.
 */
export const MAX_OFFERS_PER_PEER = 64;
export const MAX_OFFERS = 64;
export const MAX_FILES = OFFER_LIMITS.maxFiles;

const hex32 = z.string().regex(/^[0-9a-f]{64}$/);
const bytes = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const OutgoingFile = z
  .strictObject({
    /** The path offered (relative, `/`-separated). */
    path: z.string().min(1).max(MAX_PATH_BYTES),
    /** Where the file is on this machine (absolute). */
    source: z.string().min(1).max(4096),
    size: bytes,
    hash: hex32,
    /** Its modification time when hashed: a file changed since is not the file offered. */
    mtimeMs: z.number().min(0),
    /** The bytes the receiver last said it held (its accept's offset); 0 until it answered. */
    confirmed: bytes,
  })
  .refine((file) => file.confirmed <= file.size, 'confirmed is more than the size');
export type OutgoingFile = z.infer<typeof OutgoingFile>;

export const OutgoingOffer = z.strictObject({
  /** The receiver's static public key (hex). */
  peerKey: hex32,
  offerId: z.string().min(1).max(64),
  /** When it was first offered (ISO 8601). */
  created: z.string().max(40),
  /** Its files not yet verified by the receiver. */
  files: z.array(OutgoingFile).min(1).max(MAX_FILES),
});
export type OutgoingOffer = z.infer<typeof OutgoingOffer>;

const OutgoingTransfersFile = z.strictObject({
  version: z.literal(1),
  offers: z.array(OutgoingOffer).max(MAX_OFFERS),
});

export interface OutgoingTransfersOptions {
  /** How the file is written (tests inject one that fails); whole or not at all by default. */
  readonly writeFile?: FileWriter;
  /** Runs `save` after `ms` (a timer, unref'd so it never keeps a program alive); tests pass their own. */
  readonly schedule?: (save: () => void, ms: number) => void;
  /** How long per-file changes wait to be saved together (ms): 1000. */
  readonly saveDelayMs?: number;
}

export const OUTGOING_TRANSFERS_FILE = 'outgoing_transfers.json';

export class OutgoingTransfers {
  private readonly saveListeners: ((failure: SaveFailure) => void)[] = [];
  private readonly writeFile: FileWriter;
  private readonly schedule: (save: () => void, ms: number) => void;
  private readonly saveDelayMs: number;
  private saveScheduled = false;
  private dirty = false;
  /** The last save that failed, until one works again. */
  lastSaveFailure: SaveFailure | undefined;

  private constructor(
    private readonly path: string | undefined,
    private offers: OutgoingOffer[],
    /** Why the record on disk could not be used (it then starts empty); undefined if it could. */
    readonly loadProblem: SaveFailure | undefined,
    options: OutgoingTransfersOptions,
  ) {
    this.writeFile = options.writeFile ?? writeFileAtomically;
    this.saveDelayMs = options.saveDelayMs ?? 1000;
    this.schedule =
      options.schedule ??
      ((save, ms) => {
        setTimeout(save, ms).unref();
      });
  }

  /** Reads the record in `home` (none yet is fine). Never throws: see `loadProblem`. */
  static load(home: string, options: OutgoingTransfersOptions = {}): OutgoingTransfers {
    const path = join(home, OUTGOING_TRANSFERS_FILE);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      const problem =
        (error as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : { path, reason: fileProblem(error) };
      return new OutgoingTransfers(path, [], problem, options);
    }
    try {
      return new OutgoingTransfers(
        path,
        OutgoingTransfersFile.parse(JSON.parse(text)).offers,
        undefined,
        options,
      );
    } catch {
      const reason = 'not a valid record of unfinished transfers (it is replaced at the next change)';
      return new OutgoingTransfers(path, [], { path, reason }, options);
    }
  }

  /** A record kept in memory only (tests, a program with no home). */
  static inMemory(options: OutgoingTransfersOptions = {}): OutgoingTransfers {
    return new OutgoingTransfers(undefined, [], undefined, options);
  }

  /** Calls `listener` when the record could not be saved; it holds in memory for this run. */
  onSaveFailure(listener: (failure: SaveFailure) => void): void {
    this.saveListeners.push(listener);
  }

  /**
   * Records an offer made (or replaces the one with its peer and id). Returns the offers forgotten
   * to stay within the bounds (the oldest first): they will not be made again by themselves.
   * Throws NetchatError `INVALID_ARGUMENT` for an offer that is not a valid record.
   */
  record(offer: OutgoingOffer): OutgoingOffer[] {
    const parsed = OutgoingOffer.safeParse(offer);
    if (!parsed.success) throw errors.invalidArgument('outgoing offer', z.prettifyError(parsed.error));
    const checked = parsed.data;
    this.offers = this.offers.filter(
      (o) => !(o.peerKey === checked.peerKey && o.offerId === checked.offerId),
    );
    this.offers.push(structuredClone(checked));
    const forgotten: OutgoingOffer[] = [];
    const forget = (victim: OutgoingOffer | undefined) => {
      if (!victim || victim === this.offers[this.offers.length - 1]) return false;
      this.offers.splice(this.offers.indexOf(victim), 1);
      forgotten.push(victim);
      return true;
    };
    while (this.offers.filter((o) => o.peerKey === checked.peerKey).length > MAX_OFFERS_PER_PEER)
      if (!forget(this.offers.find((o) => o.peerKey === checked.peerKey))) break;
    while (this.offers.length > MAX_OFFERS || this.fileCount() > MAX_FILES)
      if (!forget(this.offers[0])) break;
    this.saveNow();
    return forgotten;
  }

  /** The receiver said it holds `held` bytes of this file (its answer to the offer). */
  confirm(peerKey: string, offerId: string, path: string, held: number): void {
    const file = this.find(peerKey, offerId)?.files.find((f) => f.path === path);
    if (!file || !Number.isSafeInteger(held) || held < 0) return;
    file.confirmed = Math.min(held, file.size);
    this.saveSoon();
  }

  /** The receiver verified this file (or it failed for good): it is not offered again. */
  fileDone(peerKey: string, offerId: string, path: string): void {
    const offer = this.find(peerKey, offerId);
    if (!offer) return;
    const index = offer.files.findIndex((f) => f.path === path);
    if (index < 0) return;
    offer.files.splice(index, 1);
    if (offer.files.length === 0) this.remove(peerKey, offerId);
    else this.saveSoon();
  }

  /**
   * The receiver verified a file of this content (hash and size) in any offer: the same content
   * in our other unfinished offers to it is not offered again (it has it; a `/send` made anew
   * after a transfer failed must not leave the old one offered at every chat).
   */
  contentDone(peerKey: string, hash: string, size: number): void {
    let changed = false;
    for (const offer of this.offers) {
      if (offer.peerKey !== peerKey) continue;
      const kept = offer.files.filter((f) => !(f.hash === hash && f.size === size));
      if (kept.length !== offer.files.length) {
        offer.files = kept;
        changed = true;
      }
    }
    if (!changed) return;
    this.offers = this.offers.filter((o) => o.files.length > 0);
    this.saveNow();
  }

  /** The offer ended (declined, cancelled by either side, every file done): forgotten at once. */
  remove(peerKey: string, offerId: string): void {
    const before = this.offers.length;
    this.offers = this.offers.filter((o) => !(o.peerKey === peerKey && o.offerId === offerId));
    if (this.offers.length !== before) this.saveNow();
  }

  /** The unfinished offers to this peer, the oldest first (copies). */
  forPeer(peerKey: string): OutgoingOffer[] {
    return this.offers.filter((o) => o.peerKey === peerKey).map((o) => structuredClone(o));
  }

  /** Every unfinished offer, the oldest first (copies). */
  all(): OutgoingOffer[] {
    return this.offers.map((o) => structuredClone(o));
  }

  /** Saves now what waits to be saved (at shutdown). Returns whether the record is saved. */
  flush(): boolean {
    return this.dirty ? this.saveNow() : this.lastSaveFailure === undefined;
  }

  private find(peerKey: string, offerId: string): OutgoingOffer | undefined {
    return this.offers.find((o) => o.peerKey === peerKey && o.offerId === offerId);
  }

  private fileCount(): number {
    return this.offers.reduce((sum, offer) => sum + offer.files.length, 0);
  }

  private saveSoon(): void {
    this.dirty = true;
    if (this.saveScheduled || !this.path) return;
    this.saveScheduled = true;
    this.schedule(() => {
      this.saveScheduled = false;
      if (this.dirty) this.saveNow();
    }, this.saveDelayMs);
  }

  /** Writes the record; a failure goes to the listeners (never thrown). Returns whether it was saved. */
  private saveNow(): boolean {
    this.dirty = false;
    const path = this.path;
    if (!path) return true;
    const text = `${JSON.stringify({ version: 1, offers: this.offers }, null, 1)}\n`;
    const failure = trySave(path, () => this.writeFile(path, text));
    this.lastSaveFailure = failure;
    if (failure) for (const listener of this.saveListeners) listener(failure);
    return failure === undefined;
  }
}

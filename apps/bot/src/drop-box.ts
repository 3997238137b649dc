/**
 * `--accept-files DIR`: the bot as a drop box. It takes file offers from the peers its access
 * policy allows, into DIR, within `--max-file-size` (a larger file: the offer is declined
 * `too_large`) and a total quota (`--files-quota`: what DIR holds, partial files included, plus
 * what accepted transfers may still bring; past it: declined `no_room`, logged `quota`).
 * Each transfer is logged: its offer, the answer, each file received (path, size, hash, seconds)
 * or failed, its end. Resumes go through the same checks (core's own auto-resume is off here).
 * Names a peer offers never leave DIR (core's FileLink and PartialStore: PROTOCOL.md, Files).
 *
 * The partial files a transfer cut short leaves (kept for a resume) are counted from the disk
 * before each offer is weighed: a peer that starts transfers and abandons them, again and again,
 * would otherwise fill the disk past the quota with partials once their reservations ended.
 * Each file and folder counts at least `MIN_CHARGE` bytes: empty files cost no bytes but an inode
 * each, and a quota in bytes alone let a peer make as many as it liked, 10,000 an offer.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type FileLink,
  formatAddress,
  type LinkEvent,
  type NetchatPeer,
  partialId,
  requestHost,
  sizesApart,
  type TransferId,
} from '@netchat/core';
import type { Logger } from 'pino';
import type { AccessPolicy } from './access-policy.js';

export interface DropBoxSettings {
  readonly folder: string;
  /** Bytes one file may have, at most. */
  readonly maxFileSize: number;
  /** Bytes DIR may hold, at most, with what accepted transfers may still bring. */
  readonly quota: number;
}

export interface DropBoxSummary {
  offers: number;
  accepted: number;
  declined: number;
  filesReceived: number;
  bytesReceived: number;
  filesFailed: number;
}

/**
 * Transfers from one host (core's `requestHost`: an IPv4 address, an IPv6 /64, a relayed peer as
 * itself) received at once, at most; past it its offers are declined
 * `too_many_offers`. core receives 32 at once in all: one stranger that offered 32 files and
 * never sent a byte held every slot, and every other peer's offer was declined while it stayed.
 */
export const MAX_RECEIVING_PER_HOST = 4;

/** Entries walked to measure DIR at start, at most (a folder of millions is not walked whole). */
const MAX_WALKED = 100_000;

/**
 * What a file or a folder counts at least against the quota (bytes): a disk block, and it stands
 * for the inode and directory entry every file takes. A 1 GB quota holds at most 262,144 entries.
 */
export const MIN_CHARGE = 4096;

/** What a file of `size` bytes counts against the quota. */
export const charge = (size: number): number => Math.max(size, MIN_CHARGE);

/** core's partial files (PartialStore: `.netchat-<id>.part`, `.state` and its temporaries), at DIR's top. */
const PARTIAL_NAME = /^\.netchat-([0-9a-f]{32})\.(part|state)/;

export class DropBox {
  /**
   * What DIR's files and folders but the partials count (`charge`: at start, then each file
   * received, with the folders it was placed in that were not counted yet).
   */
  private used: number;
  /**
   * DIR's folders counted in `used` (relative paths): a file received in new folders counts them
   * too. Once a file arrived only the file was counted, and a stranger sending one-byte files at
   * the bottom of 16 new folders each made DIR hold 17 entries for each one counted. Bounded: each
   * costs MIN_CHARGE of the quota.
   */
  private readonly folders = new Set<string>();
  /** What the partials no accepted transfer is writing count (measured before each offer is weighed). */
  private partials: number;
  /**
   * Accepted transfers: what each may still bring (their partials are not in `partials`), and
   * the host it comes from (`MAX_RECEIVING_PER_HOST`).
   */
  private readonly reserved = new Map<TransferId, { bytes: number; host: string }>();
  /** Offers are weighed one at a time: two at once would both see the room of one. */
  private weighing: Promise<void> = Promise.resolve();
  readonly summary: DropBoxSummary = {
    offers: 0,
    accepted: 0,
    declined: 0,
    filesReceived: 0,
    bytesReceived: 0,
    filesFailed: 0,
  };

  constructor(
    private readonly peer: NetchatPeer,
    private readonly link: FileLink,
    private readonly policy: AccessPolicy,
    private readonly log: Logger,
    private readonly settings: DropBoxSettings,
  ) {
    this.partials = partialBytes(settings.folder);
    this.used = folderBytes(settings.folder, this.folders) - this.partials;
    link.on('event', (e) => this.onEvent(e));
    link.on('warning', (line) => this.log.warn({ event: 'files_warning', detail: line }, line));
  }

  /** Bytes the quota has left now. */
  get room(): number {
    let reserved = 0;
    for (const { bytes } of this.reserved.values()) reserved += bytes;
    return Math.max(0, this.settings.quota - this.used - this.partials - reserved);
  }

  async close(): Promise<void> {
    await this.link.close();
    const used = this.used + partialBytes(this.settings.folder);
    this.log.info({ event: 'files_summary', ...this.summary, used }, 'files summary');
  }

  /** The counters so far and the quota's room (with the bot's `stats`). */
  logStats(): void {
    this.log.info({ event: 'files_stats', ...this.summary, used: this.used, room: this.room }, 'files stats');
  }

  private onEvent(e: LinkEvent): void {
    const peer = this.peer.session(e.session)?.peer;
    const base = { transfer: e.transfer, session: e.session, ...(peer && { peer: formatAddress(peer) }) };
    switch (e.type) {
      case 'file_offer':
        if (e.direction === 'receive')
          this.weighing = this.weighing
            .then(() => this.onOffer(e, base))
            .catch((error) =>
              this.log.warn(
                { event: 'file_refused', ...base, detail: (error as Error).message },
                'could not weigh',
              ),
            );
        return;
      case 'file_accepted':
        this.log.info({ event: 'file_accepted', ...base, offset: e.offset }, 'file accepted');
        return;
      case 'file_received':
        this.summary.filesReceived++;
        this.summary.bytesReceived += e.size;
        this.received(e.transfer, charge(e.size) + this.countFolders(e.relativePath));
        this.log.info(
          { event: 'file_received', ...base, path: e.path, size: e.size, hash: e.hash, seconds: e.seconds },
          'file received',
        );
        return;
      case 'file_failed':
        if (e.file !== undefined) this.summary.filesFailed++;
        this.log.warn(
          {
            event: 'file_failed',
            ...base,
            file: e.file,
            reason: e.reason,
            detail: e.message,
            resumable: e.resumable,
          },
          'file failed',
        );
        if (e.file === undefined) this.reserved.delete(e.transfer);
        return;
      case 'file_declined':
        this.reserved.delete(e.transfer);
        this.log.info({ event: 'file_declined', ...base, reason: e.reason, by: e.by }, 'file declined');
        return;
      case 'file_cancelled':
        this.reserved.delete(e.transfer);
        this.log.info({ event: 'file_cancelled', ...base, by: e.by }, 'file cancelled');
        return;
      case 'file_done':
        this.reserved.delete(e.transfer);
        this.log.info({ event: 'file_done', ...base, files: e.files, verified: e.verified }, 'transfer done');
        return;
      default:
        return;
    }
  }

  private async onOffer(
    e: Extract<LinkEvent, { type: 'file_offer' }>,
    base: Record<string, unknown>,
  ): Promise<void> {
    this.summary.offers++;
    const held = e.held.reduce((a, b) => a + b, 0);
    this.log.info(
      {
        event: 'file_offer',
        ...base,
        files: e.files.length,
        totalSize: e.totalSize,
        held,
        // The first names only: a log line stays small whatever the offer.
        names: e.files.slice(0, 10).map((f) => f.path),
      },
      'file offer',
    );
    const peer = this.peer.session(e.session)?.peer;
    const refusal = peer ? this.policy.refusal(peer) : 'the chat ended';
    if (refusal) return this.decline(e.transfer, 'not_allowed', refusal, base);
    // As core counts hosts for its own limits: one IPv6 host picks any address of its /64, and
    // every relayed peer has host `relay` (one stranger's 4 would be every relayed friend's).
    const host = peer ? requestHost(peer) : '';
    const running = [...this.reserved.values()].filter((r) => r.host === host).length;
    if (running >= MAX_RECEIVING_PER_HOST)
      return this.decline(
        e.transfer,
        'too_many_offers',
        `${running} transfers from ${host} are being received already`,
        base,
      );
    const large = e.files.find((f) => f.size > this.settings.maxFileSize);
    if (large)
      return this.decline(
        e.transfer,
        'too_large',
        `${sizesApart(large.size, this.settings.maxFileSize).join(' in one file, more than the ')} taken`,
        base,
      );
    await this.measurePartials();
    // The peer may have cancelled while the partials were measured.
    if (this.link.transfer(e.transfer)?.state !== 'offered') return;
    const charged = offerCharge(e.files);
    const needed = charged - held;
    if (needed > this.room) {
      // Said in files too when the entries' charge is what made it count.
      const entries = charged > e.totalSize ? ` (${e.files.length} files, each at least ${MIN_CHARGE})` : '';
      return this.decline(
        e.transfer,
        'no_room',
        `quota: ${needed} bytes offered${entries}, ${this.room} left of ${this.settings.quota}`,
        base,
        'quota',
      );
    }
    // The whole charge is reserved: what it holds already leaves `partials` at the next measure.
    this.reserved.set(e.transfer, { bytes: charged, host });
    try {
      const outcome = await this.link.accept(e.transfer, {
        folder: this.settings.folder,
        maxFileSize: this.settings.maxFileSize,
      });
      if (outcome.accepted) this.summary.accepted++;
      else {
        this.reserved.delete(e.transfer);
        this.summary.declined++;
        this.log.info(
          { event: 'file_refused', ...base, reason: outcome.reason, detail: outcome.message },
          'refused',
        );
      }
    } catch (error) {
      this.reserved.delete(e.transfer);
      this.log.warn({ event: 'file_refused', ...base, detail: (error as Error).message }, 'could not accept');
    }
  }

  private decline(
    transfer: TransferId,
    reason: 'not_allowed' | 'too_large' | 'no_room' | 'too_many_offers',
    detail: string,
    base: Record<string, unknown>,
    why: string = reason,
  ): void {
    this.summary.declined++;
    this.log.info({ event: 'file_refused', ...base, reason: why, detail }, 'refused');
    if (this.link.transfer(transfer)?.state === 'offered') this.link.decline(transfer, reason);
  }

  /**
   * What DIR's partials but those of accepted transfers count (counted in `reserved`): what
   * transfers cut short left. Never throws (a folder that cannot be read keeps the last figure).
   */
  private async measurePartials(): Promise<void> {
    const writing = new Set<string>();
    for (const transfer of this.reserved.keys()) {
      const info = this.link.transfer(transfer);
      for (const f of info?.files ?? [])
        writing.add(partialId({ senderKey: info?.peerKey ?? '', hash: f.hash, size: f.size }));
    }
    let names: string[];
    try {
      names = await readdir(this.settings.folder);
    } catch {
      return;
    }
    let total = 0;
    for (const name of names.slice(0, MAX_WALKED)) {
      const id = PARTIAL_NAME.exec(name)?.[1];
      if (id === undefined || writing.has(id)) continue;
      total += await lstat(join(this.settings.folder, name)).then(
        (s) => (s.isFile() ? charge(s.size) : 0),
        () => 0,
      );
    }
    this.partials = total;
  }

  /** What the folders of `relativePath` (a received file's, in DIR) not yet counted in `used` count; they are now. */
  private countFolders(relativePath: string): number {
    let added = 0;
    for (let at = relativePath.indexOf('/'); at >= 0; at = relativePath.indexOf('/', at + 1)) {
      const folder = relativePath.slice(0, at);
      if (this.folders.has(folder)) continue;
      this.folders.add(folder);
      added += MIN_CHARGE;
    }
    return added;
  }

  /** A file arrived, counting `bytes` (with its new folders): DIR's now, no longer reserved. */
  private received(transfer: TransferId, bytes: number): void {
    this.used += bytes;
    const left = this.reserved.get(transfer);
    if (left !== undefined) left.bytes = Math.max(0, left.bytes - bytes);
  }
}

/** What core's partial files at the top of `folder` (what `PARTIAL_NAME` matches) count (`charge`). */
export function partialBytes(folder: string): number {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return 0;
  }
  let total = 0;
  for (const name of names.slice(0, MAX_WALKED)) {
    if (!PARTIAL_NAME.test(name)) continue;
    try {
      const s = lstatSync(join(folder, name));
      if (s.isFile()) total += charge(s.size);
    } catch {
      // Gone meanwhile.
    }
  }
  return total;
}

/** What an offer counts against the quota: each file's charge, and each folder its paths name. */
export function offerCharge(files: readonly { readonly path: string; readonly size: number }[]): number {
  let total = 0;
  const folders = new Set<string>();
  for (const f of files) {
    total += charge(f.size);
    for (let at = f.path.indexOf('/'); at >= 0; at = f.path.indexOf('/', at + 1))
      folders.add(f.path.slice(0, at));
  }
  return total + folders.size * MIN_CHARGE;
}

/**
 * What the regular files under `folder` (partial files too) and its folders count against the
 * quota (`charge`), symbolic links not followed; the folders counted (relative paths, `/`
 * between names) go into `folders`.
 */
export function folderBytes(folder: string, folders?: Set<string>): number {
  let total = 0;
  let walked = 0;
  const walk = (dir: string, relative: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (++walked > MAX_WALKED) return;
      const path = join(dir, name);
      try {
        const s = lstatSync(path);
        if (s.isDirectory()) {
          total += MIN_CHARGE;
          const inside = relative === '' ? name : `${relative}/${name}`;
          folders?.add(inside);
          walk(path, inside);
        } else if (s.isFile()) total += charge(s.size);
      } catch {
        // Gone meanwhile.
      }
    }
  };
  walk(folder, '');
  return total;
}

/**
 * The file engine's storage in memory, for tests on virtual time: the sender's files are byte
 * arrays, the receiver's partial files byte arrays with a durable length (what a crash keeps:
 * synced every `syncEvery` bytes, all of it on `close`), found again by (sender key, hash, size)
 * as the PartialStore does. Requests are answered after `delay` ms of the network's virtual
 * time (0: at once), in the order they came: a slow disk (a finish may take `finishDelay`).
 */
import {
  type Address,
  contentHash,
  type FileTransfers,
  type NetchatEvent,
  type StorageOutcome,
  type StorageRequest,
} from '../../src/index.js';
import type { NodeEndpoint, VirtualNetwork } from './virtual-network.js';

export interface MemoryPartial {
  data: Uint8Array;
  length: number;
  durable: number;
  open: boolean;
  name: string;
  /** Closed while its finish was pending: a finish that places it records where (as PartialFile does). */
  keepPlaced?: boolean;
  /** Placed after its transfer ended: where (a re-offer is answered from this, as PartialStore does). */
  placedAt?: string;
}

export interface StorageCounts {
  reads: number;
  bytesRead: number;
  writes: number;
  bytesWritten: number;
  opens: number;
  discards: number;
  /** Files placed (a second copy of one shows here). */
  finishes: number;
  /** Reads that came with a buffer of the engine's to read into (as the disk storage does, into it). */
  readsInto: number;
}

export class MemoryStorage implements NodeEndpoint {
  /** The sender's files, by `transfer/file`. */
  readonly sources = new Map<string, Uint8Array>();
  /** The receiver's partial files, by `senderKey/hash/size`. */
  readonly partials = new Map<string, MemoryPartial>();
  /** Files in place, by path (`name (1).ext` when taken). */
  readonly placed = new Map<string, Uint8Array>();
  readonly counts: StorageCounts = {
    reads: 0,
    bytesRead: 0,
    writes: 0,
    bytesWritten: 0,
    opens: 0,
    discards: 0,
    finishes: 0,
    readsInto: 0,
  };
  /** Partial files open now (opened, not finished, closed or discarded), and the most at once. */
  openNow = 0;
  mostOpen = 0;
  /** The most files with a read asked for and not answered at once (the sender's files overlapping). */
  mostFilesRead = 0;
  /** Each read asked for, in order: `transfer/file@offset`. */
  readsAsked: string[] = [];
  /** Milliseconds of virtual time each answer takes. */
  delay = 0;
  /** Milliseconds a finish takes (the final fsync, verify and rename), if not `delay`. */
  finishDelay: number | undefined;
  /** Bytes between two syncs of a partial (what a crash may lose past the last). */
  syncEvery = 64 * 1024;
  /**
   * What closing a partial does to its writes not answered yet: `drain`, as PartialFile does
   * (they are written before it closes, and answered ok later); `break`, a handle closed under
   * them (they fail with write_failed later, their bytes not kept).
   */
  pendingWritesOnClose: 'drain' | 'break' = 'drain';
  /** What releasing a source does to its reads not answered yet: answered as asked, or failed (`break`). */
  pendingReadsOnRelease: 'answer' | 'break' = 'answer';
  /** Bytes the disk takes before it is full (a write past it fails with disk_full). */
  capacity = Number.POSITIVE_INFINITY;
  /** A source whose bytes change from this offset while it is sent (a file edited meanwhile). */
  changeAt: { key: string; offset: number } | undefined;
  private readonly keyOf = new Map<string, string>();
  /** Answers not given yet; `outcome`: decided already (a write a close drained or broke). */
  private readonly due: { at: number; request: StorageRequest; outcome?: StorageOutcome }[] = [];
  engine: FileTransfers | undefined;
  /** Called after answers that came due on the clock (the harness drains the engine then). */
  onAnswered: (() => void) | undefined;

  constructor(private readonly net: VirtualNetwork) {}

  /** Takes every request the engine has, answering each now or after `delay`. */
  take(engine: FileTransfers): void {
    for (let r = engine.pollRequest(); r; r = engine.pollRequest()) {
      if (r.kind === 'read') this.readsAsked.push(`${r.transfer}/${r.file}@${r.offset}`);
      const delay = r.kind === 'finish' ? (this.finishDelay ?? this.delay) : this.delay;
      if (delay > 0 && 'id' in r) this.due.push({ at: this.net.now + delay, request: r });
      else this.perform(engine, r);
      if (r.kind === 'read') this.countFilesRead();
    }
  }

  private countFilesRead(): void {
    const files = new Set<string>();
    for (const d of this.due)
      if (d.request.kind === 'read' && !d.outcome) files.add(`${d.request.transfer}/${d.request.file}`);
    this.mostFilesRead = Math.max(this.mostFilesRead, files.size);
  }

  perform(engine: FileTransfers, r: StorageRequest): void {
    const answer = (outcome: StorageOutcome) => {
      if ('id' in r) engine.complete(r.id, outcome, this.net.now);
    };
    const at = `${r.transfer}/${r.file}`;
    switch (r.kind) {
      case 'read': {
        const source = this.sources.get(at);
        if (!source) {
          answer({ ok: false, code: 'read_failed', message: 'no such source' });
          return;
        }
        this.counts.reads++;
        this.counts.bytesRead += r.length;
        if (this.changeAt?.key === at && r.offset + r.length > this.changeAt.offset) {
          answer({ ok: false, code: 'source_changed', message: `${at} changed while it was being sent` });
          return;
        }
        if (r.into) {
          // Into the engine's buffer, as the disk does: a buffer it still used would show as corrupt data.
          this.counts.readsInto++;
          r.into.set(source.subarray(r.offset, r.offset + r.length));
          answer({ ok: true, bytes: r.into.length === r.length ? r.into : r.into.subarray(0, r.length) });
          return;
        }
        // A copy (a Buffer's slice would be a view: a later read into it would write the source).
        answer({ ok: true, bytes: new Uint8Array(source.subarray(r.offset, r.offset + r.length)) });
        return;
      }
      case 'release':
        // Its reads asked for and not answered yet fail, if a release breaks them (a source closed under them).
        if (this.pendingReadsOnRelease === 'break')
          for (const due of this.due)
            if (
              due.request.kind === 'read' &&
              !due.outcome &&
              at === `${due.request.transfer}/${due.request.file}`
            )
              due.outcome = { ok: false, code: 'read_failed', message: `${at}: closed under its read` };
        return;
      case 'open': {
        const key = `${r.senderKey}/${r.hash}/${r.size}`;
        this.keyOf.set(at, key);
        this.counts.opens++;
        const partial = this.partials.get(key) ?? {
          data: new Uint8Array(r.size),
          length: 0,
          durable: 0,
          open: false,
          name: r.name,
        };
        if (partial.open) {
          answer({ ok: false, code: 'busy', message: `${r.name} is already being received` });
          return;
        }
        if (partial.placedAt !== undefined && !this.placed.has(partial.placedAt)) {
          // The file placed earlier was removed since: it comes again whole.
          partial.placedAt = undefined;
          partial.durable = 0;
        }
        partial.open = true;
        this.openNow++;
        this.mostOpen = Math.max(this.mostOpen, this.openNow);
        partial.length = partial.durable;
        this.partials.set(key, partial);
        answer({ ok: true, offset: partial.durable });
        return;
      }
      case 'write':
        answer(this.write(at, r));
        return;
      case 'finish': {
        const key = this.keyOf.get(at) ?? '';
        const partial = this.partials.get(key);
        if (!partial) {
          answer({ ok: false, code: 'write_failed', message: 'no partial' });
          return;
        }
        const [, hash, size] = key.split('/');
        if (partial.open) this.openNow--;
        partial.open = false;
        if (partial.placedAt !== undefined) {
          // Placed in an earlier transfer whose verdict never went: its path, nothing written.
          this.partials.delete(key);
          if (this.placed.has(partial.placedAt)) answer({ ok: true, path: partial.placedAt });
          else answer({ ok: false, code: 'write_failed', message: `${partial.placedAt} is gone` });
          return;
        }
        if (
          partial.length !== Number(size) ||
          contentHash(partial.data.subarray(0, partial.length)) !== hash
        ) {
          this.partials.delete(key);
          const code = partial.length !== Number(size) ? 'size_mismatch' : 'hash_mismatch';
          answer({ ok: false, code, message: `${partial.name}: ${code}` });
          return;
        }
        let name = partial.name;
        for (let n = 1; this.placed.has(name); n++) name = `${partial.name} (${n})`;
        this.placed.set(name, partial.data);
        this.counts.finishes++;
        if (partial.keepPlaced) {
          partial.keepPlaced = false;
          partial.placedAt = name;
          partial.durable = partial.length;
        } else this.partials.delete(key);
        answer({ ok: true, path: name });
        return;
      }
      case 'close': {
        const partial = this.partialOf(at);
        // Its writes asked for and not answered yet: written first (and answered later), or broken.
        for (const due of this.due)
          if (
            due.request.kind === 'write' &&
            !due.outcome &&
            at === `${due.request.transfer}/${due.request.file}`
          )
            due.outcome =
              this.pendingWritesOnClose === 'drain'
                ? this.write(at, due.request)
                : { ok: false, code: 'write_failed', message: `${partial?.name}: closed under its write` };
        if (partial) {
          partial.durable = partial.length;
          if (partial.open) this.openNow--;
          partial.open = false;
          // Its finish is pending: it goes on, and records where it placed the file.
          if (
            this.due.some(
              (d) => d.request.kind === 'finish' && at === `${d.request.transfer}/${d.request.file}`,
            )
          )
            partial.keepPlaced = true;
        }
        return;
      }
      case 'discard': {
        this.counts.discards++;
        const key = this.keyOf.get(at);
        if (key && this.partials.get(key)?.open) this.openNow--;
        if (key) this.partials.delete(key);
        return;
      }
    }
  }

  /** The bytes of a file held durably (what an accept says, as PartialStore.held does). */
  held(senderKey: string, hash: string, size: number): number {
    const partial = this.partials.get(`${senderKey}/${hash}/${size}`);
    if (partial?.placedAt !== undefined && !this.placed.has(partial.placedAt)) return 0;
    return partial?.durable ?? 0;
  }

  /** Finishes asked for and not answered yet. */
  pendingFinishes(): number {
    return this.due.filter((d) => d.request.kind === 'finish').length;
  }

  /** Writes asked for and not answered yet. */
  pendingWrites(): number {
    return this.due.filter((d) => d.request.kind === 'write').length;
  }

  /** Bytes of the writes asked for and not answered yet (done when they come due). */
  pendingWriteBytes(): number {
    let bytes = 0;
    for (const d of this.due) if (d.request.kind === 'write') bytes += d.request.bytes.length;
    return bytes;
  }

  /** Reads asked for and not answered yet. */
  pendingReads(): number {
    return this.due.filter((d) => d.request.kind === 'read').length;
  }

  /** Writes `r` to the partial of `at` (a write to one not open fails, as the disk's would). */
  private write(at: string, r: Extract<StorageRequest, { kind: 'write' }>): StorageOutcome {
    const partial = this.partialOf(at);
    if (partial && !partial.open)
      return { ok: false, code: 'write_failed', message: `${partial.name}: the partial file is not open` };
    if (!partial || r.offset !== partial.length)
      throw new Error(`write at ${r.offset} to ${at}, expected ${partial?.length}`);
    if (this.usedBytes() + r.bytes.length > this.capacity)
      return { ok: false, code: 'disk_full', message: `no space left writing ${partial.name}` };
    if (r.offset + r.bytes.length > partial.data.length)
      return { ok: false, code: 'size_mismatch', message: 'past the size' };
    partial.data.set(r.bytes, r.offset);
    partial.length += r.bytes.length;
    partial.durable = Math.max(partial.durable, partial.length - (partial.length % this.syncEvery));
    this.counts.writes++;
    this.counts.bytesWritten += r.bytes.length;
    return { ok: true };
  }

  /** The program was killed: open partials keep only what was synced; nothing answers any more. */
  crash(): void {
    this.due.length = 0;
    this.openNow = 0;
    for (const partial of this.partials.values()) {
      partial.open = false;
      partial.length = partial.durable;
    }
  }

  private partialOf(at: string): MemoryPartial | undefined {
    const key = this.keyOf.get(at);
    return key === undefined ? undefined : this.partials.get(key);
  }

  private usedBytes(): number {
    let used = 0;
    for (const p of this.partials.values()) used += p.length;
    for (const f of this.placed.values()) used += f.length;
    return used;
  }

  // ---- a node of the network only for its clock: answers come due on virtual time ----

  handleDatagram(_bytes: Uint8Array, _from: Address, _now: number): void {}

  handleTimeout(now: number): void {
    const engine = this.engine;
    if (!engine) return;
    let answered = false;
    while (this.due.length > 0 && (this.due[0]?.at ?? Number.POSITIVE_INFINITY) <= now) {
      const next = this.due.shift();
      if (next?.outcome && 'id' in next.request) engine.complete(next.request.id, next.outcome, now);
      else if (next) this.perform(engine, next.request);
      answered = true;
    }
    if (answered) this.onAnswered?.();
  }

  nextTimeout(): number | undefined {
    return this.due[0]?.at;
  }

  pollTransmit(): undefined {
    return undefined;
  }

  pollEvent(): NetchatEvent | undefined {
    return undefined;
  }
}

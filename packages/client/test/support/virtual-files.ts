/**
 * A file link on the virtual network, for client tests: core's real transfer engine on a virtual
 * peer's streams (virtual time), its storage in memory and answered at once, its events shaped
 * as FileLink's (`LinkEvent`). Files to offer are registered by name (`files.set`); received
 * files land in `placed`, by path.
 */
import {
  type AcceptOptions,
  type AcceptOutcome,
  contentHash,
  type FileEvent,
  FileTransfers,
  fileErrors,
  type LinkEvent,
  type OfferDeclineReason,
  type StorageOutcome,
  type StorageRequest,
  sizesApart,
  type TransferId,
  type TransferInfo,
} from '@netchat/core';
import type { VirtualNetwork, VirtualPeer } from '@netchat/testkit';
import type { FilePort } from '../../src/index.js';

export class VirtualFileLink implements FilePort {
  readonly engine: FileTransfers;
  /** What this side can offer, by name. */
  readonly files = new Map<string, Uint8Array>();
  /** Received files, by their path in the folder. */
  readonly placed = new Map<string, Uint8Array>();
  readonly events: LinkEvent[] = [];
  private readonly sources = new Map<string, Uint8Array>();
  private readonly partials = new Map<string, { data: Uint8Array; length: number; name: string }>();
  private readonly listeners: ((e: LinkEvent) => void)[] = [];
  private readonly folders = new Map<TransferId, string>();
  /** Offers made as the node link makes one again by itself. */
  private readonly again = new Set<TransferId>();

  constructor(
    private readonly net: VirtualNetwork,
    readonly peer: VirtualPeer,
  ) {
    const endpoint = peer.endpoint;
    this.engine = new FileTransfers({
      // The options too: the control stream lingers (a decline written just before a close goes first).
      openStream: (s, options) => endpoint.openStream(s, net.now, options),
      writeStream: (s, id, bytes) => endpoint.writeStream(s, id, bytes, net.now),
      finishStream: (s, id) => endpoint.finishStream(s, id, net.now),
      readStream: (s, id, max) => endpoint.readStream(s, id, max, net.now),
      readStreamInto: (s, id, into, at, max) => endpoint.readStreamInto(s, id, into, at, max, net.now),
      cancelStream: (s, id, code) => endpoint.cancelStream(s, id, net.now, code),
      streamInfo: (s, id) => endpoint.streamInfo(s, id),
      session: (id) => endpoint.session(id),
    });
    peer.onEvent((e) => {
      this.engine.handle(e, net.now);
      this.pump();
    });
  }

  onEvent(listener: (e: LinkEvent) => void): void {
    this.listeners.push(listener);
  }

  async offer(session: number, paths: readonly string[]): Promise<TransferId> {
    return this.make(session, paths, false);
  }

  /** As the node link makes an unfinished offer again by itself when a chat opens (`resuming`). */
  async offerAgain(session: number, paths: readonly string[]): Promise<TransferId> {
    return this.make(session, paths, true);
  }

  private make(session: number, paths: readonly string[], again: boolean): TransferId {
    this.engine.canOffer(session);
    const inputs = paths.map((path) => {
      const data = this.files.get(path);
      if (!data) throw fileErrors.readFailed(path, 'no such file or folder');
      return { path, size: data.length, hash: contentHash(data) };
    });
    const transfer = this.engine.offer(session, inputs, this.net.now);
    if (again) this.again.add(transfer);
    for (const [index, path] of paths.entries())
      this.sources.set(`${transfer}/${index}`, this.files.get(path) ?? new Uint8Array());
    this.pump();
    return transfer;
  }

  async accept(transfer: TransferId, options: AcceptOptions = {}): Promise<AcceptOutcome> {
    const info = this.engine.transfer(transfer);
    if (!info) throw new Error(`no transfer ${transfer}`);
    const folder = options.folder ?? '/downloads';
    const large = info.files.find((f) => f.size > (options.maxFileSize ?? Number.POSITIVE_INFINITY));
    if (large) {
      this.decline(transfer, 'too_large');
      return {
        accepted: false,
        reason: 'too_large',
        message: `${large.path} is ${sizesApart(large.size, options.maxFileSize ?? 0).join(', more than the ')} taken`,
      };
    }
    this.folders.set(transfer, folder);
    this.engine.accept(transfer, this.net.now, []);
    this.pump();
    return { accepted: true, folder, held: 0 };
  }

  decline(transfer: TransferId, reason?: OfferDeclineReason): void {
    this.engine.decline(transfer, this.net.now, reason);
    this.pump();
  }

  cancel(transfer: TransferId): boolean {
    const result = this.engine.cancel(transfer, this.net.now);
    this.pump();
    return result;
  }

  transfer(id: TransferId): TransferInfo | undefined {
    return this.engine.transfer(id);
  }

  private pump(): void {
    for (let guard = 0; guard < 1_000_000; guard++) {
      let any = false;
      for (let r = this.engine.pollRequest(); r; r = this.engine.pollRequest()) {
        any = true;
        const answer = this.perform(r);
        if (answer && 'id' in r) this.engine.complete(r.id, answer, this.net.now);
      }
      for (let e = this.engine.pollEvent(); e; e = this.engine.pollEvent()) {
        any = true;
        this.show(e);
      }
      if (!any) return;
    }
  }

  private show(e: FileEvent): void {
    let shown = e as LinkEvent;
    if (e.type === 'file_offer')
      shown = { ...e, held: e.files.map(() => 0), resuming: this.again.has(e.transfer) };
    if (e.type === 'file_received') {
      const folder = this.folders.get(e.transfer) ?? '/downloads';
      shown = { ...e, path: `${folder}/${e.path}`, relativePath: e.path };
    }
    this.events.push(shown);
    for (const listener of this.listeners) listener(shown);
  }

  private perform(r: StorageRequest): StorageOutcome | undefined {
    const at = `${r.transfer}/${r.file}`;
    switch (r.kind) {
      case 'read': {
        const source = this.sources.get(at);
        return source
          ? { ok: true, bytes: source.slice(r.offset, r.offset + r.length) }
          : { ok: false, code: 'read_failed', message: 'no such source' };
      }
      case 'open':
        this.partials.set(at, { data: new Uint8Array(r.size), length: 0, name: r.name });
        return { ok: true, offset: 0 };
      case 'write': {
        const p = this.partials.get(at);
        if (!p) return { ok: false, code: 'write_failed', message: 'not open' };
        p.data.set(r.bytes, r.offset);
        p.length = r.offset + r.bytes.length;
        return { ok: true };
      }
      case 'finish': {
        const p = this.partials.get(at);
        if (!p) return { ok: false, code: 'write_failed', message: 'not open' };
        this.partials.delete(at);
        let name = p.name;
        for (let n = 1; this.placed.has(name); n++) name = `${p.name} (${n})`;
        this.placed.set(name, p.data.subarray(0, p.length));
        return { ok: true, path: name };
      }
      case 'discard':
      case 'close':
        this.partials.delete(at);
        return undefined;
      case 'release':
        return undefined;
    }
  }
}

/**
 * File-transfer engines on the virtual network: each node's engine gets the node's stream events
 * as they are collected, and its storage in memory (memory-storage.ts), so transfers run through
 * the real engine and the real streams on virtual time, with loss, duplication and reordering.
 */
import {
  contentHash,
  type Endpoint,
  type EndpointOptionsInput,
  type FileEvent,
  type FileEventOf,
  type FileEventType,
  type FileTransferOptions,
  FileTransfers,
  type NetchatEvent,
  type OfferInput,
  type SessionId,
  type StreamPort,
} from '../../src/index.js';
import { MemoryStorage } from './memory-storage.js';
import { seededBytes } from './random.js';
import { RawFiles } from './raw-files.js';
import { listen } from './stream-apps.js';
import { eventsOf, type Node, openPair, VirtualNetwork } from './virtual-network.js';

/** An Endpoint's stream calls at the network's virtual time. */
export function endpointPort(net: VirtualNetwork, endpoint: Endpoint): StreamPort {
  return {
    openStream: (session, options) => endpoint.openStream(session, net.now, options),
    writeStream: (session, stream, bytes) => endpoint.writeStream(session, stream, bytes, net.now),
    finishStream: (session, stream) => endpoint.finishStream(session, stream, net.now),
    readStream: (session, stream, max) => endpoint.readStream(session, stream, max, net.now),
    readStreamInto: (session, stream, into, at, max) =>
      endpoint.readStreamInto(session, stream, into, at, max, net.now),
    cancelStream: (session, stream, code) => endpoint.cancelStream(session, stream, net.now, code),
    streamInfo: (session, stream) => endpoint.streamInfo(session, stream),
    session: (id) => endpoint.session(id),
  };
}

export class FilePeer {
  readonly engine: FileTransfers;
  readonly events: (FileEvent & { at: number })[] = [];
  /**
   * While set, the endpoint's events wait here instead of reaching the engine (a program whose
   * event loop is behind: NetchatPeer tells a batch after the engine call that made it).
   */
  held: NetchatEvent[] | undefined;
  private alive = true;

  constructor(
    readonly net: VirtualNetwork,
    readonly node: Node,
    readonly storage: MemoryStorage = new MemoryStorage(net),
    options: FileTransferOptions = {},
  ) {
    this.engine = new FileTransfers(endpointPort(net, node.endpoint), {
      randomBytes: seededBytes(node.address.port),
      ...options,
    });
    storage.engine = this.engine;
    storage.onAnswered = () => this.pump();
    net.attach(storage, `clock-${node.address.host}`, node.address.port);
    // The engine's own deadline (its stall checks), on the network's virtual time.
    net.attach(
      {
        handleDatagram: () => undefined,
        handleTimeout: (now) => {
          if (!this.alive) return;
          this.engine.tick(now);
          this.pump();
        },
        nextTimeout: () => (this.alive ? this.engine.nextDeadline() : undefined),
        pollTransmit: () => undefined,
        pollEvent: () => undefined,
      },
      `ticks-${node.address.host}`,
      node.address.port,
    );
    listen(net, (from, event) => {
      if (from !== node || !this.alive) return;
      if (this.held) {
        this.held.push(event);
        return;
      }
      this.engine.handle(event, net.now);
      this.pump();
    });
  }

  /** Hands the engine's requests to the storage and records its events, until it has none. */
  pump(): void {
    for (let guard = 0; guard < 1_000_000; guard++) {
      this.storage.take(this.engine);
      let any = false;
      for (let e = this.engine.pollEvent(); e; e = this.engine.pollEvent()) {
        any = true;
        this.events.push({ ...e, at: this.net.now });
      }
      if (!any) return;
    }
  }

  /** Offers `files` (name → bytes) on `session`; returns the transfer. */
  offer(session: SessionId, files: Record<string, Uint8Array>, offerId?: string): number {
    const inputs: OfferInput[] = Object.entries(files).map(([path, data]) => ({
      path,
      size: data.length,
      hash: contentHash(data),
    }));
    const transfer = this.engine.offer(session, inputs, this.net.now, offerId);
    for (const [index, data] of Object.values(files).entries())
      this.storage.sources.set(`${transfer}/${index}`, data);
    this.pump();
    return transfer;
  }

  accept(transfer: number, held: number[] = []): void {
    this.engine.accept(transfer, this.net.now, held);
    this.pump();
  }

  /**
   * Waits for the next offer and takes it with what this peer's storage holds of each file from
   * `senderKey` (as FileLink does: a resume goes on from there); returns its transfer.
   */
  acceptNextWithHeld(senderKey: string): number {
    const before = this.of('file_offer').length;
    if (!this.net.run(() => this.of('file_offer').length > before, this.net.now + 10_000))
      throw new Error('no offer came within 10 s');
    const offer = this.of('file_offer').at(-1);
    if (!offer) throw new Error('no offer');
    this.accept(
      offer.transfer,
      offer.files.map((f) => this.storage.held(senderKey, f.hash, f.size)),
    );
    return offer.transfer;
  }

  decline(transfer: number): void {
    this.engine.decline(transfer, this.net.now);
    this.pump();
  }

  cancel(transfer: number): boolean {
    const result = this.engine.cancel(transfer, this.net.now);
    this.pump();
    return result;
  }

  /** Hands the engine every event held back (`held`), in order, and stops holding. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const event of held) this.engine.handle(event, this.net.now);
    this.pump();
  }

  /** The program was killed: its engine hears nothing more, its partial files keep what was synced. */
  kill(): void {
    this.alive = false;
    this.storage.crash();
  }

  of<T extends FileEventType>(type: T): (FileEventOf<T> & { at: number })[] {
    return this.events.filter((e): e is FileEventOf<T> & { at: number } => e.type === type);
  }
}

/** Two endpoints that take files, with an open session, each with an engine. */
export function filePair(
  options: EndpointOptionsInput = {},
  seed = 1,
  engineOptions: FileTransferOptions = {},
) {
  const net = new VirtualNetwork(seed);
  const pair = openPair(net, { streams: true, files: true, ...options });
  net.run(() => pair.a.endpoint.session(pair.sa)?.peerFeatures !== undefined, net.now + 5_000);
  net.run(() => pair.b.endpoint.session(pair.sb)?.peerFeatures !== undefined, net.now + 5_000);
  const alice = new FilePeer(net, pair.a, undefined, engineOptions);
  const bob = new FilePeer(net, pair.b, undefined, engineOptions);
  return { net, ...pair, alice, bob };
}

/** `from` opens a chat with `to`, which accepts; returns `from`'s session once both know each other's features. */
export function filesChat(net: VirtualNetwork, from: Node, to: Node): SessionId {
  const before = eventsOf(to, 'request').length;
  const session = from.endpoint.connect(to.address, net.now);
  if (!net.run(() => eventsOf(to, 'request').length > before, net.now + 10_000))
    throw new Error('no request');
  const theirs = eventsOf(to, 'request').at(-1)?.session ?? -1;
  to.endpoint.accept(theirs, net.now);
  net.run(
    () =>
      from.endpoint.session(session)?.peerFeatures?.files === true &&
      to.endpoint.session(theirs)?.peerFeatures?.files === true,
    net.now + 10_000,
  );
  return session;
}

/**
 * An open session that takes files, with an engine (FilePeer) on one end, `engineOn`, and a raw
 * files peer (RawFiles: the tests' stranger, or a receiver answering as a test says) on the other.
 */
export function engineAndRaw(seed: number, engineOn: 'a' | 'b') {
  const net = new VirtualNetwork(seed);
  const pair = openPair(net, { streams: true, files: true });
  net.run(() => pair.a.endpoint.session(pair.sa)?.peerFeatures?.files === true, net.now + 5_000);
  net.run(() => pair.b.endpoint.session(pair.sb)?.peerFeatures?.files === true, net.now + 5_000);
  const engine = new FilePeer(net, engineOn === 'a' ? pair.a : pair.b);
  const raw = engineOn === 'a' ? new RawFiles(net, pair.b, pair.sb) : new RawFiles(net, pair.a, pair.sa);
  return { net, ...pair, engine, raw };
}

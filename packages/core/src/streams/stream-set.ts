/**
 * One session's streams (PROTOCOL.md, Streams): the record of every stream it has open, in both
 * directions, with the limits the two peers set each other, and the application's calls.
 *
 * Streams are one-way: the side that opens one writes it, the other reads it. Ids: the n-th
 * stream a side opens has id 2n, or 2n + 1 for the side that did not pick the session id (so the
 * two sides' ids never meet). A side may open streams while it has opened fewer than the peer's
 * limit (`features.maxStreams`, raised by `stream_limit` as the peer's application finishes
 * them): a peer's stream beyond our limit is a protocol error.
 *
 * Where things live, one concept a file (as session/ does it):
 * - stream-peer.ts: what each of the peer's stream messages does.
 * - stream-out.ts: what the set sends (its turn of the path's round robin, control messages,
 *   events) and the fates of the packets the path sent for it.
 * This file keeps the record and the application's calls. Its fields are the set's own: only
 * these three files read or write them.
 */
import type { Address } from '../address.js';
import { errors } from '../errors.js';
import type { NetchatEvent, PeerFeatures, SessionId, StreamDirection, StreamId } from '../events.js';
import type { EndpointOptions } from '../options.js';
import type { Path } from '../path/path.js';
import type { PathUser } from '../path/path-ports.js';
import type { ReceiveStream } from './receive-stream.js';
import { type Chunk, SendStream } from './send-stream.js';
import {
  cancelled,
  checkWritable,
  emitFinished,
  onControlAcked,
  onControlLost,
  onDataAcked,
  onDataLost,
  retire,
  sendCredit,
  sendOne,
  sendReset,
  sendStop,
  wake,
} from './stream-out.js';

const EMPTY = new Uint8Array(0);

/** What a stream set needs of its session. */
export interface StreamSession {
  readonly id: SessionId;
  readonly wireId: number;
  readonly peer: Address;
  /** We picked the session id: our streams have even ids. */
  readonly pickedWireId: boolean;
  readonly ctx: {
    readonly options: EndpointOptions;
    emit(event: NetchatEvent): void;
    protocolError(reason: string): void;
  };
  /** The session's own round trip (text and heartbeats), before the path has one. */
  readonly rtt: { readonly srtt: number | undefined };
  /** What the peer said it supports: its first stream limit and the window of each stream we open. */
  readonly peerFeatures: PeerFeatures | undefined;
}

/** What the application can learn of one stream. */
export interface StreamInfo {
  readonly id: StreamId;
  readonly direction: StreamDirection;
  /** Bytes written (send) or read (receive) so far. */
  readonly offset: number;
  /** send: bytes the application may write now; receive: bytes waiting to be read. */
  readonly available: number;
  /** send: bytes written and not yet acknowledged; receive: the receive window now. */
  readonly buffered: number;
  readonly state: 'open' | 'finishing' | 'done' | 'cancelled';
}

/** How a stream is opened (Endpoint.openStream). */
export interface OpenStreamOptions {
  /**
   * A close of the session waits until what was written on it is acknowledged (PROTOCOL.md,
   * Closing), as it waits for text: for a few records the peer must have, such as the files
   * protocol's control stream (a decline written just before a close). Off by default: bulk data
   * is cancelled by a close.
   */
  readonly lingers?: boolean;
}

/** The longest a close lingers for streams alone (text still lingers by its own rule). */
export const STREAM_LINGER_MS = 10_000;

export class StreamSet implements PathUser {
  ended = false;
  /** When a local close began to wait for our `lingers` streams (see `linger`); undefined otherwise. */
  lingerSince: number | undefined;
  readonly sends = new Map<StreamId, SendStream>();
  readonly receives = new Map<StreamId, ReceiveStream>();
  /** Our streams with something to send, in round-robin order, and whose turn it is. */
  readonly queue: SendStream[] = [];
  turn = 0;
  localOpened = 0;
  /** The peer's latest stream_limit (its features said the first one). */
  raisedLimit = 0;
  /** An open failed at the limit: say `streams_available` when it rises. */
  limitBlocked = false;
  peerOpened = 0;
  /** The peer may open streams while peerOpened is below this. */
  incomingLimit: number;
  /** The receive windows of the peer's live streams, together (bounded by streamReceiveBudget). */
  granted = 0;
  readonly chunk: Chunk = { offset: 0, length: 0, fin: false };
  /** More window for one stream, as much of `extra` as the session's budget allows. */
  readonly grant = (extra: number): number => {
    const given = Math.max(0, Math.min(extra, this.session.ctx.options.streamReceiveBudget - this.granted));
    this.granted += given;
    return given;
  };

  constructor(
    readonly session: StreamSession,
    readonly path: Path,
  ) {
    this.incomingLimit = session.ctx.options.maxIncomingStreams;
  }

  /** The session's id on the wire (PathUser). */
  get wireId(): number {
    return this.session.wireId;
  }

  /** Both sides take datagrams of up to 1452 bytes (PathUser: the path may probe for them). */
  get largeDatagrams(): boolean {
    return this.session.ctx.options.largeDatagrams && this.session.peerFeatures?.largeDatagrams === true;
  }

  /** The parity of our streams' ids. */
  get parity(): number {
    return this.session.pickedWireId ? 0 : 1;
  }

  /** We may open streams while we opened fewer than this. */
  get peerLimit(): number {
    return Math.max(this.session.peerFeatures?.maxStreams ?? 0, this.raisedLimit);
  }

  /** A stream that was opened (by us or the peer) and is gone, as opposed to one never opened. */
  known(id: StreamId): boolean {
    const index = (id - (id % 2)) / 2;
    return id % 2 === this.parity ? index < this.localOpened : index < this.peerOpened;
  }

  /**
   * The most one stream we send holds unacknowledged. The peer's credit is the real bound (it
   * grows only as fast as the reader keeps up); this one only caps a peer that grants too much.
   * Not tied to the congestion window: behind a lost packet, everything sent after it waits for
   * its retransmission (two round trips and more), and a buffer that shrank with the window
   * would starve the path exactly when it must recover (measured: 1 % loss, 100 → 5 Mbit/s).
   */
  get bufferLimit(): number {
    return this.session.ctx.options.maxStreamWindow;
  }

  // ---- the application's calls --------------------------------------------------------------

  open(options: OpenStreamOptions = {}): StreamId {
    if (this.localOpened >= this.peerLimit) {
      this.limitBlocked = true;
      throw errors.streamLimit(this.session.id, this.peerLimit);
    }
    const id = 2 * this.localOpened + this.parity;
    this.localOpened++;
    const stream = new SendStream(id, this.session.peerFeatures?.streamWindow ?? 0);
    stream.lingers = options.lingers === true;
    this.sends.set(id, stream);
    return id;
  }

  write(id: StreamId, bytes: Uint8Array, now: number): number {
    const stream = this.sendStream(id);
    if (stream.state !== 'open')
      throw errors.streamNotWritable(
        this.session.id,
        id,
        stream.state === 'reset' ? 'was cancelled' : 'is finished',
      );
    const accepted = stream.write(bytes, stream.room(this.bufferLimit));
    if (accepted > 0) wake(this, stream, now);
    return accepted;
  }

  finish(id: StreamId, now: number): void {
    const stream = this.sendStream(id);
    if (stream.state !== 'open') return;
    stream.finish();
    wake(this, stream, now);
  }

  read(id: StreamId, max: number, now: number): Uint8Array {
    const stream = this.readSource(id);
    if (!stream) return EMPTY;
    const bytes = stream.take(max);
    this.afterRead(id, stream, now);
    return bytes;
  }

  /**
   * As `read`, but copies into `into` from `at` (up to `max` bytes, and the room `into` has):
   * no array per read. Returns the bytes copied.
   */
  readInto(id: StreamId, into: Uint8Array, at: number, max: number, now: number): number {
    if (!Number.isInteger(at) || at < 0 || at > into.length)
      throw errors.invalidArgument('read offset', `${at} is not within the ${into.length} bytes given`);
    if (!Number.isInteger(max) || max < 0)
      throw errors.invalidArgument('read length', `${max} is not a whole number of bytes`);
    const stream = this.readSource(id);
    if (!stream) return 0;
    const copied = stream.takeInto(into, at, Math.min(max, into.length - at));
    this.afterRead(id, stream, now);
    return copied;
  }

  /** The stream a read takes from; undefined if it was read to its end or cancelled (nothing more). */
  private readSource(id: StreamId): ReceiveStream | undefined {
    const stream = this.receives.get(id);
    if (stream) return stream;
    if (id % 2 === this.parity) throw errors.invalidArgument('stream', `${id} is ours to write, not to read`);
    // Read to its end, or cancelled: there is nothing more (a reader's last loop may ask again).
    if (this.known(id)) return undefined;
    throw errors.noSuchStream(this.session.id, id);
  }

  /** After a read (of any length): the fin seen ends the stream, else the peer may get more credit. */
  private afterRead(id: StreamId, stream: ReceiveStream, now: number): void {
    if (stream.readable === 0) stream.readableSignalled = false;
    if (stream.state === 'open' && stream.atEnd) {
      stream.state = 'done';
      emitFinished(this, id, 'receive');
      retire(this, stream, now);
      return;
    }
    const rtt = this.path.rtt.srtt ?? this.session.rtt.srtt;
    const credit = stream.creditAfterRead(now, rtt, this.session.ctx.options.maxStreamWindow, this.grant);
    if (credit !== undefined) sendCredit(this, stream, now);
  }

  /** Cancels a stream: ours is reset, the peer's is asked to stop. Nothing if it is over already. */
  cancel(id: StreamId, code: number, now: number): void {
    const send = this.sends.get(id);
    if (send) {
      if (send.state === 'done' || send.state === 'reset') return;
      send.reset(code, 'local');
      sendReset(this, send, now);
      cancelled(this, id, 'send', 'local', 'cancelled', code);
      return;
    }
    const receive = this.receives.get(id);
    if (!receive) {
      if (!this.known(id)) throw errors.noSuchStream(this.session.id, id);
      return;
    }
    if (receive.state !== 'open') return;
    receive.stop(code);
    this.granted -= receive.window;
    cancelled(this, id, 'receive', 'local', 'cancelled', code);
    // Its size is known (the fin came): the peer sends nothing new, so nothing needs stopping.
    if (receive.finalSize !== undefined) retire(this, receive, now);
    else sendStop(this, receive, now);
  }

  info(id: StreamId): StreamInfo | undefined {
    const send = this.sends.get(id);
    if (send)
      return {
        id,
        direction: 'send',
        offset: send.written,
        available: send.room(this.bufferLimit),
        buffered: send.written - send.acked,
        state: send.state === 'reset' ? 'cancelled' : send.state,
      };
    const receive = this.receives.get(id);
    if (!receive) return undefined;
    return {
      id,
      direction: 'receive',
      offset: receive.read,
      available: receive.readable,
      buffered: receive.window,
      state: receive.state === 'reset' ? 'cancelled' : receive.state,
    };
  }

  /** Memory the session's streams hold (bytes of buffers): bounded by the flow-control limits. */
  get heldBytes(): number {
    let bytes = 0;
    for (const s of this.sends.values()) bytes += s.buffer.capacity;
    for (const r of this.receives.values()) bytes += r.buffer.capacity;
    return bytes;
  }

  get size(): number {
    return this.sends.size + this.receives.size;
  }

  /**
   * A local close: the session lingers. Our streams opened with `lingers` that hold bytes not yet
   * acknowledged go on (retransmitted as ever) until they are; every other stream is cancelled as
   * by `end`. Ends at once when none holds the close.
   */
  linger(now: number): void {
    if (this.ended || this.lingerSince !== undefined) return;
    if (![...this.sends.values()].some((s) => s.holdsClose)) {
      this.end('local');
      return;
    }
    this.lingerSince = now;
    for (const s of [...this.sends.values()]) {
      if (s.holdsClose) {
        s.wantsWritable = false; // the session is not open: nothing more is written
        continue;
      }
      cancelSend(this, s, 'local');
      this.sends.delete(s.id);
    }
    cancelReceives(this, 'local');
    for (let i = this.queue.length - 1; i >= 0; i--)
      if (!this.sends.has((this.queue[i] as SendStream).id)) this.queue.splice(i, 1);
  }

  /** While a close lingers for our `lingers` streams: since when (undefined once they were delivered, or if none). */
  get holdsCloseSince(): number | undefined {
    if (this.ended || this.lingerSince === undefined) return undefined;
    for (const s of this.sends.values()) if (s.holdsClose) return this.lingerSince;
    return undefined;
  }

  /** The session left `open`: every stream not complete is cancelled, and nothing more is sent. */
  end(by: 'local' | 'peer'): void {
    if (this.ended) return;
    this.ended = true;
    this.path.deactivate(this);
    for (const s of this.sends.values()) cancelSend(this, s, by);
    this.sends.clear();
    cancelReceives(this, by);
    this.queue.length = 0;
  }

  // ---- the path's calls (PathUser: stream-out.ts) -------------------------------------------

  sendOne(now: number): boolean {
    return sendOne(this, now);
  }

  onDataAcked(id: number, offset: number, length: number, fin: boolean): void {
    onDataAcked(this, id, offset, length, fin);
  }

  onDataLost(id: number, offset: number, length: number, fin: boolean, now: number): void {
    onDataLost(this, id, offset, length, fin, now);
  }

  onControlAcked(code: number, id: number): void {
    onControlAcked(this, code, id);
  }

  onControlLost(code: number, id: number, now: number): void {
    onControlLost(this, code, id, now);
  }

  /** After a credit: a writer that waits for room may have some. */
  creditArrived(stream: SendStream, now: number): void {
    wake(this, stream, now);
    checkWritable(this, stream);
  }

  private sendStream(id: StreamId): SendStream {
    const stream = this.sends.get(id);
    if (stream) return stream;
    if (this.receives.has(id))
      throw errors.streamNotWritable(this.session.id, id, "is the peer's: it is read, not written");
    if (this.known(id) && id % 2 === this.parity)
      throw errors.streamNotWritable(this.session.id, id, 'is over');
    throw errors.noSuchStream(this.session.id, id);
  }
}

/** Tells the application a stream we send ended with the session (if it was not complete). */
function cancelSend(set: StreamSet, s: SendStream, by: 'local' | 'peer'): void {
  if (s.state === 'open' || s.state === 'finishing') cancelled(set, s.id, 'send', by, 'session_ended', 0);
}

/** Every peer stream ends with the session: the application is told of those not complete. */
function cancelReceives(set: StreamSet, by: 'local' | 'peer'): void {
  for (const r of set.receives.values())
    if (r.state === 'open') cancelled(set, r.id, 'receive', by, 'session_ended', 0);
  set.receives.clear();
}

/**
 * One session's streams (PROTOCOL.md, Streams): the record of every stream it has open, in both
 * directions, with the limits the two peers set each other, and everything that moves them: the
 * application's calls, the peer's stream messages, and the fate of the packets the path sent
 * for them (it is the path's `PathUser`).
 *
 * Streams are one-way: the side that opens one writes it, the other reads it. Ids: the n-th
 * stream a side opens has id 2n, or 2n + 1 for the side that did not pick the session id (so the
 * two sides' ids never meet). A side may open streams while it has opened fewer than the peer's
 * limit (`features.maxStreams`, raised by `stream_limit` as the peer's application finishes
 * them): a peer's stream beyond our limit is a protocol error.
 *
 * Control messages (credit, reset, stop, limit) go at once; stream bytes wait for their turn on
 * the path (round robin over the session's streams with something to send).
 */
import type { Address } from '../address.js';
import { errors } from '../errors.js';
import type {
  NetchatEvent,
  PeerFeatures,
  SessionId,
  StreamCancelReason,
  StreamDirection,
  StreamId,
} from '../events.js';
import type { EndpointOptions } from '../options.js';
import type { Path, PathUser } from '../path/path.js';
import type {
  StreamCredit as Credit,
  StreamData as Data,
  StreamLimit as Limit,
  StreamReset as Reset,
  StreamStop as Stop,
} from '../wire/messages.js';
import {
  MAX_STREAM_PAYLOAD_BYTES,
  StreamCredit,
  StreamLimit,
  StreamReset,
  StreamStop,
} from '../wire/stream-messages.js';
import { ReceiveStream } from './receive-stream.js';
import { type Chunk, SendStream, WRITABLE_THRESHOLD } from './send-stream.js';

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

export class StreamSet implements PathUser {
  ended = false;
  private readonly sends = new Map<StreamId, SendStream>();
  private readonly receives = new Map<StreamId, ReceiveStream>();
  /** Our streams with something to send, in round-robin order. */
  private readonly queue: SendStream[] = [];
  private turn = 0;
  private localOpened = 0;
  /** The peer's latest stream_limit (its features said the first one). */
  private raisedLimit = 0;
  private limitBlocked = false;
  private peerOpened = 0;
  /** The peer may open streams while peerOpened is below this. */
  private incomingLimit: number;
  /** The receive windows of the peer's live streams, together (bounded by streamReceiveBudget). */
  private granted = 0;
  private readonly chunk: Chunk = { offset: 0, length: 0, fin: false };
  private readonly grant = (extra: number): number => {
    const given = Math.max(0, Math.min(extra, this.session.ctx.options.streamReceiveBudget - this.granted));
    this.granted += given;
    return given;
  };

  constructor(
    private readonly session: StreamSession,
    readonly path: Path,
  ) {
    this.incomingLimit = session.ctx.options.maxIncomingStreams;
  }

  private get parity(): number {
    return this.session.pickedWireId ? 0 : 1;
  }

  /** We may open streams while we opened fewer than this. */
  private get peerLimit(): number {
    return Math.max(this.session.peerFeatures?.maxStreams ?? 0, this.raisedLimit);
  }

  // ---- the application's calls --------------------------------------------------------------

  open(): StreamId {
    if (this.localOpened >= this.peerLimit) {
      this.limitBlocked = true;
      throw errors.streamLimit(this.session.id, this.peerLimit);
    }
    const id = 2 * this.localOpened + this.parity;
    this.localOpened++;
    this.sends.set(id, new SendStream(id, this.session.peerFeatures?.streamWindow ?? 0));
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
    const accepted = stream.write(bytes, stream.room(this.bufferLimit()));
    if (accepted > 0) this.wake(stream, now);
    return accepted;
  }

  finish(id: StreamId, now: number): void {
    const stream = this.sendStream(id);
    if (stream.state !== 'open') return;
    stream.finish();
    this.wake(stream, now);
  }

  read(id: StreamId, max: number, now: number): Uint8Array {
    const stream = this.receives.get(id);
    if (!stream) {
      if (id % 2 === this.parity)
        throw errors.invalidArgument('stream', `${id} is ours to write, not to read`);
      // Read to its end, or cancelled: there is nothing more (a reader's last loop may ask again).
      if (this.known(id)) return EMPTY;
      throw errors.noSuchStream(this.session.id, id);
    }
    const bytes = stream.take(max);
    if (stream.readable === 0) stream.readableSignalled = false;
    if (stream.state === 'open' && stream.atEnd) {
      stream.state = 'done';
      this.session.ctx.emit({
        type: 'stream_finished',
        session: this.session.id,
        peer: this.session.peer,
        stream: id,
        direction: 'receive',
      });
      this.retire(stream, now);
      return bytes;
    }
    const rtt = this.path.rtt.srtt ?? this.session.rtt.srtt;
    const credit = stream.creditAfterRead(now, rtt, this.session.ctx.options.maxStreamWindow, this.grant);
    if (credit !== undefined) this.sendCredit(stream, now);
    return bytes;
  }

  /** Cancels a stream: ours is reset, the peer's is asked to stop. Nothing if it is over already. */
  cancel(id: StreamId, code: number, now: number): void {
    const send = this.sends.get(id);
    if (send) {
      if (send.state === 'done' || send.state === 'reset') return;
      send.reset(code, 'local');
      this.sendReset(send, now);
      this.cancelled(id, 'send', 'local', 'cancelled', code);
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
    this.cancelled(id, 'receive', 'local', 'cancelled', code);
    // Its size is known (the fin came): the peer sends nothing new, so nothing needs stopping.
    if (receive.finalSize !== undefined) this.retire(receive, now);
    else this.sendStop(receive, now);
  }

  info(id: StreamId): StreamInfo | undefined {
    const send = this.sends.get(id);
    if (send)
      return {
        id,
        direction: 'send',
        offset: send.written,
        available: send.room(this.bufferLimit()),
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

  /** The session left `open`: every stream not complete is cancelled, and nothing more is sent. */
  end(by: 'local' | 'peer'): void {
    if (this.ended) return;
    this.ended = true;
    this.path.deactivate(this);
    for (const s of this.sends.values())
      if (s.state === 'open' || s.state === 'finishing') this.cancelled(s.id, 'send', by, 'session_ended', 0);
    for (const r of this.receives.values())
      if (r.state === 'open') this.cancelled(r.id, 'receive', by, 'session_ended', 0);
    this.sends.clear();
    this.receives.clear();
    this.queue.length = 0;
  }

  // ---- the peer's messages (each returns whether its packet is acknowledged) ----------------

  onData(d: Data, now: number): boolean {
    const stream = this.peerStream(d.stream, now);
    if (stream === undefined) return false;
    if (stream === 'retired') return true;
    const outcome = stream.onData(d.offset, d.payload, d.fin === 1);
    if (outcome === 'violation') {
      this.session.ctx.protocolError(`stream ${d.stream}: bytes beyond the credit or the final size`);
      return false;
    }
    if (outcome === 'refused') return false;
    // We stopped it and waited for its end: the fin says the peer sends nothing new.
    if (stream.stopSent && stream.finalSize !== undefined) this.retire(stream, now);
    if (stream.state === 'open' && !stream.readableSignalled && (stream.readable > 0 || stream.atEnd)) {
      stream.readableSignalled = true;
      this.session.ctx.emit({
        type: 'stream_readable',
        session: this.session.id,
        peer: this.session.peer,
        stream: stream.id,
      });
    }
    return true;
  }

  onCredit(d: Credit, now: number): boolean {
    if (!this.isOurs(d.stream)) return false;
    const stream = this.sends.get(d.stream);
    if (!stream) return this.known(d.stream) || this.invalid(`credit for stream ${d.stream}, never opened`);
    if (stream.credit(d.maxOffset)) {
      this.wake(stream, now);
      this.checkWritable(stream);
    }
    return true;
  }

  onReset(d: Reset, now: number): boolean {
    const stream = this.peerStream(d.stream, now);
    if (stream === undefined) return false;
    if (stream === 'retired') return true;
    const wasOpen = stream.state === 'open';
    if (!stream.onReset(d.finalSize, d.code))
      return this.invalid(`stream ${d.stream}: a reset whose final size contradicts its bytes`);
    if (wasOpen) {
      this.granted -= stream.window;
      this.cancelled(stream.id, 'receive', 'peer', 'cancelled', d.code);
    }
    this.retire(stream, now);
    return true;
  }

  onStop(d: Stop, now: number): boolean {
    if (!this.isOurs(d.stream)) return false;
    const stream = this.sends.get(d.stream);
    if (!stream) return this.known(d.stream) || this.invalid(`stop for stream ${d.stream}, never opened`);
    if (stream.state === 'done' || stream.state === 'reset') return true;
    stream.reset(d.code, 'peer');
    this.sendReset(stream, now);
    this.cancelled(stream.id, 'send', 'peer', 'cancelled', d.code);
    return true;
  }

  onLimit(d: Limit): boolean {
    if (d.maxStreams <= this.peerLimit) return true;
    this.raisedLimit = d.maxStreams;
    if (this.limitBlocked) {
      this.limitBlocked = false;
      this.session.ctx.emit({
        type: 'streams_available',
        session: this.session.id,
        peer: this.session.peer,
        count: this.peerLimit - this.localOpened,
      });
    }
    return true;
  }

  // ---- the path's calls (PathUser) ----------------------------------------------------------

  sendOne(now: number): boolean {
    const queue = this.queue;
    while (queue.length > 0) {
      if (this.turn >= queue.length) this.turn = 0;
      const stream = queue[this.turn] as SendStream;
      if (!stream.sendable || !stream.next(MAX_STREAM_PAYLOAD_BYTES, this.chunk)) {
        queue.splice(this.turn, 1);
        continue;
      }
      const c = this.chunk;
      this.path.sendData(this, this.session.wireId, stream.id, c.offset, c.length, c.fin, stream.buffer, now);
      if (stream.sendable) this.turn++;
      else queue.splice(this.turn, 1);
      return true;
    }
    return false;
  }

  onDataAcked(id: number, offset: number, length: number, fin: boolean, _now: number): void {
    const stream = this.sends.get(id);
    if (!stream) return;
    if (stream.onAcked(offset, length, fin)) {
      this.sends.delete(id);
      this.session.ctx.emit({
        type: 'stream_finished',
        session: this.session.id,
        peer: this.session.peer,
        stream: id,
        direction: 'send',
      });
      return;
    }
    this.checkWritable(stream);
  }

  onDataLost(id: number, offset: number, length: number, fin: boolean, now: number): void {
    const stream = this.sends.get(id);
    if (!stream) return;
    stream.onLost(offset, length, fin);
    this.wake(stream, now);
  }

  onControlAcked(code: number, id: number, _now: number): void {
    if (code !== StreamReset.code) return;
    const stream = this.sends.get(id);
    if (stream?.state === 'reset') this.sends.delete(id);
  }

  onControlLost(code: number, id: number, now: number): void {
    if (code === StreamLimit.code) this.sendLimit(now);
    else if (code === StreamReset.code) {
      const stream = this.sends.get(id);
      if (stream?.state === 'reset') this.sendReset(stream, now);
    } else if (code === StreamCredit.code) {
      const stream = this.receives.get(id);
      if (stream?.state === 'open' && stream.finalSize === undefined) this.sendCredit(stream, now);
    } else if (code === StreamStop.code) {
      const stream = this.receives.get(id);
      if (stream?.stopSent) this.sendStop(stream, now);
    }
  }

  // ---- internals ----------------------------------------------------------------------------

  /**
   * The peer's stream `id`, opening it (and every lower one of the peer's not yet seen) if new;
   * 'retired' if it was and is gone; undefined if the id is not the peer's to use (counted).
   */
  private peerStream(id: StreamId, now: number): ReceiveStream | 'retired' | undefined {
    const existing = this.receives.get(id);
    if (existing) return existing;
    if (id % 2 === this.parity) {
      this.invalid(`stream ${id} is ours: the peer cannot send on it`);
      return undefined;
    }
    const index = (id - (id % 2)) / 2;
    if (index < this.peerOpened) return 'retired';
    if (index >= this.incomingLimit) {
      this.invalid(`stream ${id} is beyond the ${this.incomingLimit} streams allowed`);
      return undefined;
    }
    const window = this.session.ctx.options.streamWindow;
    let opened: ReceiveStream | undefined;
    for (; this.peerOpened <= index; this.peerOpened++) {
      opened = new ReceiveStream(2 * this.peerOpened + (1 - this.parity), window, now);
      this.receives.set(opened.id, opened);
      this.granted += window;
      this.session.ctx.emit({
        type: 'stream_opened',
        session: this.session.id,
        peer: this.session.peer,
        stream: opened.id,
      });
    }
    return opened;
  }

  /** A stream of ours that was opened and is gone (finished or reset), as opposed to never opened. */
  private known(id: StreamId): boolean {
    const index = (id - (id % 2)) / 2;
    return id % 2 === this.parity ? index < this.localOpened : index < this.peerOpened;
  }

  private isOurs(id: StreamId): boolean {
    return (
      id % 2 === this.parity ||
      this.invalid(`stream ${id} is the peer's: it cannot be credited or stopped by it`)
    );
  }

  private invalid(reason: string): false {
    this.session.ctx.protocolError(reason);
    return false;
  }

  /** A peer's stream is over for us: forget it, and let the peer open another one. */
  private retire(stream: ReceiveStream, now: number): void {
    if (!this.receives.delete(stream.id)) return;
    if (stream.state === 'done') this.granted -= stream.window;
    stream.buffer.dispose();
    this.incomingLimit++;
    this.sendLimit(now);
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

  /**
   * The most one stream we send holds unacknowledged. The peer's credit is the real bound (it
   * grows only as fast as the reader keeps up); this one only caps a peer that grants too much.
   * Not tied to the congestion window: behind a lost packet, everything sent after it waits for
   * its retransmission (two round trips and more), and a buffer that shrank with the window
   * would starve the path exactly when it must recover.
   */
  private bufferLimit(): number {
    return this.session.ctx.options.maxStreamWindow;
  }

  /** A stream got something to send: it joins the round robin, and the path sends what it may. */
  private wake(stream: SendStream, now: number): void {
    if (!stream.sendable) return;
    this.enqueue(stream);
    this.path.activate(this, now);
  }

  private enqueue(stream: SendStream): void {
    if (!this.queue.includes(stream)) this.queue.push(stream);
  }

  /** Tells a writer that waits for room that there is some (enough to be worth a write, or all it can get). */
  private checkWritable(stream: SendStream): void {
    if (!stream.wantsWritable || stream.state !== 'open') return;
    const room = stream.room(this.bufferLimit());
    if (room === 0 || (room < WRITABLE_THRESHOLD && !stream.drained)) return;
    stream.wantsWritable = false;
    this.session.ctx.emit({
      type: 'stream_writable',
      session: this.session.id,
      peer: this.session.peer,
      stream: stream.id,
    });
  }

  private sendCredit(stream: ReceiveStream, now: number): void {
    this.path.sendControl(
      this,
      {
        type: 'stream_credit',
        session: this.session.wireId,
        packet: 0,
        stream: stream.id,
        maxOffset: stream.maxOffset,
      },
      StreamCredit.code,
      now,
    );
  }

  private sendReset(stream: SendStream, now: number): void {
    this.path.sendControl(
      this,
      {
        type: 'stream_reset',
        session: this.session.wireId,
        packet: 0,
        stream: stream.id,
        finalSize: stream.sent,
        code: stream.resetCode,
      },
      StreamReset.code,
      now,
    );
  }

  private sendStop(stream: ReceiveStream, now: number): void {
    this.path.sendControl(
      this,
      {
        type: 'stream_stop',
        session: this.session.wireId,
        packet: 0,
        stream: stream.id,
        code: stream.resetCode,
      },
      StreamStop.code,
      now,
    );
  }

  private sendLimit(now: number): void {
    this.path.sendControl(
      this,
      { type: 'stream_limit', session: this.session.wireId, packet: 0, maxStreams: this.incomingLimit },
      StreamLimit.code,
      now,
    );
  }

  private cancelled(
    stream: StreamId,
    direction: StreamDirection,
    by: 'local' | 'peer',
    reason: StreamCancelReason,
    code: number,
  ): void {
    this.session.ctx.emit({
      type: 'stream_cancelled',
      session: this.session.id,
      peer: this.session.peer,
      stream,
      direction,
      by,
      reason,
      code,
    });
  }
}

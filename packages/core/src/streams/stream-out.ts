/**
 * What a session's streams send, and what becomes of it (stream-set.ts has the record): its turn
 * of the path's round robin (one packet of one stream, the streams in turn), the control messages
 * (credit, reset, stop, limit: at once, and again with their latest value when lost), the
 * application's stream events, and the acknowledgements and losses of the packets the path sent
 * for it.
 */
import type { StreamCancelReason, StreamDirection, StreamId } from '../events.js';
import {
  StreamCredit,
  StreamLimit,
  StreamReset,
  StreamStop,
} from '../wire/stream-messages.js';
import type { ReceiveStream } from './receive-stream.js';
import { type SendStream, WRITABLE_THRESHOLD } from './send-stream.js';
import type { StreamSet } from './stream-set.js';

// ---- stream data ----------------------------------------------------------------------------

/** The set's turn on the path: one packet of the next stream with something to send; false if none has. */
export function sendOne(set: StreamSet, now: number): boolean {
  const queue = set.queue;
  while (queue.length > 0) {
    if (set.turn >= queue.length) set.turn = 0;
    const stream = queue[set.turn] as SendStream;
    if (!stream.sendable || !stream.next(set.path.payloadLimit, set.chunk)) {
      queue.splice(set.turn, 1);
      continue;
    }
    const c = set.chunk;
    set.path.sendData(set, set.session.wireId, stream.id, c.offset, c.length, c.fin, stream.buffer, now);
    if (stream.sendable) set.turn++;
    else queue.splice(set.turn, 1);
    return true;
  }
  return false;
}

/** A stream got something to send: it joins the round robin, and the path sends what it may. */
export function wake(set: StreamSet, stream: SendStream, now: number): void {
  if (!stream.sendable) return;
  if (!set.queue.includes(stream)) set.queue.push(stream);
  set.path.activate(set, now);
}

export function onDataAcked(set: StreamSet, id: number, offset: number, length: number, fin: boolean): void {
  const stream = set.sends.get(id);
  if (!stream) return;
  if (stream.onAcked(offset, length, fin)) {
    set.sends.delete(id);
    emitFinished(set, id, 'send');
    return;
  }
  checkWritable(set, stream);
}

export function onDataLost(
  set: StreamSet,
  id: number,
  offset: number,
  length: number,
  fin: boolean,
  now: number,
): void {
  const stream = set.sends.get(id);
  if (!stream) return;
  stream.onLost(offset, length, fin);
  wake(set, stream, now);
}

/** Tells a writer that waits for room that there is some (enough to be worth a write, or all it can get). */
export function checkWritable(set: StreamSet, stream: SendStream): void {
  if (!stream.wantsWritable || stream.state !== 'open') return;
  const room = stream.room(set.bufferLimit);
  if (room === 0 || (room < WRITABLE_THRESHOLD && !stream.drained)) return;
  stream.wantsWritable = false;
  const { session } = set;
  session.ctx.emit({ type: 'stream_writable', session: session.id, peer: session.peer, stream: stream.id });
}

// ---- control messages -----------------------------------------------------------------------

export function onControlAcked(set: StreamSet, code: number, id: number): void {
  if (code !== StreamReset.code) return;
  // The peer has our reset: nothing more to say about the stream.
  if (set.sends.get(id)?.state === 'reset') set.sends.delete(id);
}

/** A control message was lost: its latest value goes again, if it still matters. */
export function onControlLost(set: StreamSet, code: number, id: number, now: number): void {
  if (code === StreamLimit.code) sendLimit(set, now);
  else if (code === StreamReset.code) {
    const stream = set.sends.get(id);
    if (stream?.state === 'reset') sendReset(set, stream, now);
  } else if (code === StreamCredit.code) {
    const stream = set.receives.get(id);
    if (stream?.state === 'open' && stream.finalSize === undefined) sendCredit(set, stream, now);
  } else if (code === StreamStop.code) {
    const stream = set.receives.get(id);
    if (stream?.stopSent) sendStop(set, stream, now);
  }
}

export function sendCredit(set: StreamSet, stream: ReceiveStream, now: number): void {
  set.path.sendControl(
    set,
    {
      type: 'stream_credit',
      session: set.session.wireId,
      packet: 0,
      stream: stream.id,
      maxOffset: stream.maxOffset,
    },
    StreamCredit.code,
    now,
  );
}

export function sendReset(set: StreamSet, stream: SendStream, now: number): void {
  set.path.sendControl(
    set,
    {
      type: 'stream_reset',
      session: set.session.wireId,
      packet: 0,
      stream: stream.id,
      finalSize: stream.sent,
      code: stream.resetCode,
    },
    StreamReset.code,
    now,
  );
}

export function sendStop(set: StreamSet, stream: ReceiveStream, now: number): void {
  set.path.sendControl(
    set,
    {
      type: 'stream_stop',
      session: set.session.wireId,
      packet: 0,
      stream: stream.id,
      code: stream.resetCode,
    },
    StreamStop.code,
    now,
  );
}

export function sendLimit(set: StreamSet, now: number): void {
  set.path.sendControl(
    set,
    { type: 'stream_limit', session: set.session.wireId, packet: 0, maxStreams: set.incomingLimit },
    StreamLimit.code,
    now,
  );
}

/** A peer's stream is over for us: forget it, and let the peer open another one. */
export function retire(set: StreamSet, stream: ReceiveStream, now: number): void {
  if (!set.receives.delete(stream.id)) return;
  if (stream.state === 'done') set.granted -= stream.window;
  stream.buffer.dispose();
  set.incomingLimit++;
  sendLimit(set, now);
}

// ---- events ---------------------------------------------------------------------------------

export function emitFinished(set: StreamSet, stream: StreamId, direction: StreamDirection): void {
  const { session } = set;
  session.ctx.emit({ type: 'stream_finished', session: session.id, peer: session.peer, stream, direction });
}

export function cancelled(
  set: StreamSet,
  stream: StreamId,
  direction: StreamDirection,
  by: 'local' | 'peer',
  reason: StreamCancelReason,
  code: number,
): void {
  const { session } = set;
  session.ctx.emit({
    type: 'stream_cancelled',
    session: session.id,
    peer: session.peer,
    stream,
    direction,
    by,
    reason,
    code,
  });
}

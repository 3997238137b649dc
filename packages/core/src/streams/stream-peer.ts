/**
 * What each of the peer's stream messages does to a session's streams (PROTOCOL.md, Streams).
 * Each returns whether its packet is acknowledged: a message that breaks the rules is counted
 * (a protocol error) and not acknowledged; one about a stream that is over is acknowledged and
 * dropped (it is a late copy).
 */
import type { StreamId } from '../events.js';
import type { StreamCredit, StreamData, StreamLimit, StreamReset, StreamStop } from '../wire/messages.js';
import { ReceiveStream } from './receive-stream.js';
import { cancelled, retire, sendReset } from './stream-out.js';
import type { StreamSet } from './stream-set.js';

export function onStreamData(set: StreamSet, d: StreamData, now: number): boolean {
  const stream = peerStream(set, d.stream, now);
  if (stream === undefined) return false;
  if (stream === 'retired') return true;
  const outcome = stream.onData(d.offset, d.payload, d.fin === 1);
  if (outcome === 'violation')
    return invalid(set, `stream ${d.stream}: bytes beyond the credit or the final size`);
  if (outcome === 'refused') return false;
  // We stopped it and waited for its end: the fin says the peer sends nothing new.
  if (stream.stopSent && stream.finalSize !== undefined) retire(set, stream, now);
  if (stream.state === 'open' && !stream.readableSignalled && (stream.readable > 0 || stream.atEnd)) {
    stream.readableSignalled = true;
    const { session } = set;
    session.ctx.emit({ type: 'stream_readable', session: session.id, peer: session.peer, stream: stream.id });
  }
  return true;
}

export function onStreamCredit(set: StreamSet, d: StreamCredit, now: number): boolean {
  if (!isOurs(set, d.stream)) return false;
  const stream = set.sends.get(d.stream);
  if (!stream) return set.known(d.stream) || invalid(set, `credit for stream ${d.stream}, never opened`);
  if (stream.credit(d.maxOffset)) set.creditArrived(stream, now);
  return true;
}

export function onStreamReset(set: StreamSet, d: StreamReset, now: number): boolean {
  const stream = peerStream(set, d.stream, now);
  if (stream === undefined) return false;
  if (stream === 'retired') return true;
  const wasOpen = stream.state === 'open';
  if (!stream.onReset(d.finalSize, d.code))
    return invalid(set, `stream ${d.stream}: a reset whose final size contradicts its bytes`);
  if (wasOpen) {
    set.granted -= stream.window;
    cancelled(set, stream.id, 'receive', 'peer', 'cancelled', d.code);
  }
  retire(set, stream, now);
  return true;
}

export function onStreamStop(set: StreamSet, d: StreamStop, now: number): boolean {
  if (!isOurs(set, d.stream)) return false;
  const stream = set.sends.get(d.stream);
  if (!stream) return set.known(d.stream) || invalid(set, `stop for stream ${d.stream}, never opened`);
  if (stream.state === 'done' || stream.state === 'reset') return true;
  stream.reset(d.code, 'peer');
  sendReset(set, stream, now);
  cancelled(set, stream.id, 'send', 'peer', 'cancelled', d.code);
  return true;
}

export function onStreamLimit(set: StreamSet, d: StreamLimit): boolean {
  if (d.maxStreams <= set.peerLimit) return true;
  set.raisedLimit = d.maxStreams;
  if (set.limitBlocked) {
    set.limitBlocked = false;
    const { session } = set;
    session.ctx.emit({
      type: 'streams_available',
      session: session.id,
      peer: session.peer,
      count: set.peerLimit - set.localOpened,
    });
  }
  return true;
}

/**
 * The peer's stream `id`, opening it (and every lower one of the peer's not yet seen) if new;
 * 'retired' if it was and is gone; undefined if the id is not the peer's to use (counted).
 */
function peerStream(set: StreamSet, id: StreamId, now: number): ReceiveStream | 'retired' | undefined {
  const existing = set.receives.get(id);
  if (existing) return existing;
  if (id % 2 === set.parity) {
    invalid(set, `stream ${id} is ours: the peer cannot send on it`);
    return undefined;
  }
  const index = (id - (id % 2)) / 2;
  if (index < set.peerOpened) return 'retired';
  if (index >= set.incomingLimit) {
    invalid(set, `stream ${id} is beyond the ${set.incomingLimit} streams allowed`);
    return undefined;
  }
  const { session } = set;
  const window = session.ctx.options.streamWindow;
  let opened: ReceiveStream | undefined;
  for (; set.peerOpened <= index; set.peerOpened++) {
    opened = new ReceiveStream(2 * set.peerOpened + (1 - set.parity), window, now);
    set.receives.set(opened.id, opened);
    set.granted += window;
    session.ctx.emit({ type: 'stream_opened', session: session.id, peer: session.peer, stream: opened.id });
  }
  return opened;
}

/** Whether a message for `id` would open one of the peer's streams: new, and within our limit. */
export function opensPeerStream(set: StreamSet, id: StreamId): boolean {
  return id % 2 !== set.parity && !set.known(id) && (id - (id % 2)) / 2 < set.incomingLimit;
}

function isOurs(set: StreamSet, id: StreamId): boolean {
  return (
    id % 2 === set.parity ||
    invalid(set, `stream ${id} is the peer's: it cannot be credited or stopped by it`)
  );
}

function invalid(set: StreamSet, reason: string): false {
  set.session.ctx.protocolError(reason);
  return false;
}

/**
 * What the stream messages do in an open session (datagram-handlers.ts points here): each goes
 * to the session's streams (streams/stream-set.ts), and a packet they took is acknowledged on
 * the path. A peer that sends them although we take no streams breaks the rules: dropped,
 * counted, never acknowledged.
 */
import {
  onStreamCredit,
  onStreamData,
  onStreamLimit,
  onStreamReset,
  onStreamStop,
  opensPeerStream,
} from '../streams/stream-peer.js';
import { StreamSet } from '../streams/stream-set.js';
import type {
  PmtuProbe,
  StreamCredit,
  StreamData,
  StreamLimit,
  StreamReset,
  StreamStop,
} from '../wire/messages.js';
import { checkLingerDone } from './connect-close.js';
import type { Session } from './session.js';

/** The session's streams, made (with the channel's path) at the first need; undefined if we take none. */
export function streamsOf(s: Session): StreamSet | undefined {
  if (!s.ctx.options.streams) return undefined;
  s.streams ??= new StreamSet(s, s.ctx.pathFor(s.route));
  return s.streams;
}

type StreamMessage = StreamData | StreamCredit | StreamReset | StreamStop | StreamLimit | PmtuProbe;

/** Runs `take` on the session's streams; acknowledges the packet if it was taken. */
function handle<M extends StreamMessage>(
  take: (streams: StreamSet, message: M, now: number) => boolean,
): (s: Session, message: M, now: number) => void {
  return (s, message, now) => {
    const streams = streamsOf(s);
    if (!streams || streams.ended) {
      s.ctx.protocolError(`${message.type} to a session that takes no streams`);
      return;
    }
    if (take(streams, message, now)) streams.path.onReceived(message.packet, s.wireId, now);
  };
}

export const onData = handle<StreamData>(onStreamData);
export const onCredit = handle<StreamCredit>(onStreamCredit);
export const onReset = handle<StreamReset>(onStreamReset);
export const onStop = handle<StreamStop>(onStreamStop);
export const onLimit = handle<StreamLimit>((streams, d) => onStreamLimit(streams, d));
const takeProbe = handle<PmtuProbe>(() => true);
/**
 * A probe of the path's size (PROTOCOL.md, Datagram size): only acknowledged, and only where we
 * said we take large datagrams (a peer that never heard so has no business probing).
 */
export function onProbe(s: Session, message: PmtuProbe, now: number): void {
  if (!s.ctx.options.largeDatagrams) {
    s.ctx.protocolError('pmtu_probe to an endpoint that takes no large datagrams');
    return;
  }
  takeProbe(s, message, now);
}

/**
 * While a close lingers for our `lingers` streams (StreamSet.linger): the peer's stop for one ends
 * the wait for it at once (it wants no more of it: the stream is reset, as when open), and the
 * close goes on if nothing else holds it. Once our close ended every stream, a late stop is
 * nothing to wait for, and no fault.
 */
export function onStopWhileLingering(s: Session, message: StreamStop, now: number): void {
  if (!s.streams || s.streams.ended) return;
  onStop(s, message, now);
  checkLingerDone(s, now);
}

/**
 * While lingering: the peer's reset of one of its streams (which our close cancelled already) is
 * taken and acknowledged, so the peer stops resending it; it holds nothing of ours. A stream the
 * peer opened after our close (it had not heard of it) is not opened now: the application closed
 * the session and hears of no new stream; its reset is only acknowledged.
 */
export function onResetWhileLingering(s: Session, message: StreamReset, now: number): void {
  const streams = s.streams;
  if (!streams || streams.ended) return;
  if (opensPeerStream(streams, message.stream)) streams.path.onReceived(message.packet, s.wireId, now);
  else onReset(s, message, now);
}

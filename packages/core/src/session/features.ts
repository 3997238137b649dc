/**
 * Capabilities (PROTOCOL.md, Capabilities): what each peer of a session supports, exchanged as
 * it connects, so an application knows at once whether it may open a stream.
 *
 * A `features` goes right before every `connect_request` (the responder keeps it for the request
 * that follows: EndpointStreams.holdFeatures) and every `accept`. It asks for an answer while the
 * sender has not heard the other's; each ask is answered once (a request's, by the accept). A peer that predates `features`
 * drops it as an unknown code: if nothing was heard by the time the session opened, one more ask
 * goes, and a retransmission timeout later the peer is taken to be text only. A `features` that
 * comes after all (both were lost) corrects that.
 */
import type { PeerFeatures } from '../events.js';
import { FEATURE_STREAMS, FEATURES_ASK } from '../wire/stream-messages.js';
import type { Features } from '../wire/messages.js';
import type { Session } from './session.js';

/** A peer that said nothing: text only. */
export const TEXT_ONLY: PeerFeatures = { streams: false, maxStreams: 0, streamWindow: 0 };

/** Our features, asking for the peer's while we do not know them. */
export function sendFeatures(s: Session): void {
  if (!s.ctx.sendsFeatures) return;
  const { streams, streamWindow, maxIncomingStreams } = s.ctx.options;
  s.ctx.transmit(s.route, {
    type: 'features',
    session: s.wireId,
    features: streams ? FEATURE_STREAMS : 0,
    flags: s.peerFeatures === undefined ? FEATURES_ASK : 0,
    streamWindow: streams ? streamWindow : 0,
    maxStreams: streams ? maxIncomingStreams : 0,
  });
}

/** The peer's features arrived (states connecting, requested, open). */
export function onFeatures(s: Session, features: Features): void {
  const known = s.peerFeatures;
  const streams = (features.features & FEATURE_STREAMS) !== 0;
  const fresh: PeerFeatures = {
    streams,
    maxStreams: streams ? features.maxStreams : 0,
    streamWindow: streams ? features.streamWindow : 0,
  };
  s.peerFeatures = fresh;
  s.timers.clear('features');
  // A request is answered by the accept (which brings ours), not before the person decides.
  if (features.flags & FEATURES_ASK && s.state !== 'requested') sendFeatures(s);
  // Told once the session is open (announceFeatures), and again only if it changed since.
  if (s.state === 'open' && (known === undefined || known.streams !== fresh.streams)) emitFeatures(s);
}

/**
 * The session just opened (after its `accepted`, if any): tell the application what the peer
 * supports, or ask once more and give it a retransmission timeout to answer.
 */
export function announceFeatures(s: Session, now: number): void {
  if (!s.ctx.sendsFeatures) return;
  if (s.peerFeatures !== undefined) {
    emitFeatures(s);
    return;
  }
  sendFeatures(s);
  s.timers.set('features', now + s.rtt.rto);
}

/** The peer said nothing a retransmission timeout after the session opened: text only. */
export function onFeaturesTimeout(s: Session): void {
  if (s.peerFeatures !== undefined || s.state !== 'open') return;
  s.peerFeatures = TEXT_ONLY;
  emitFeatures(s);
}

function emitFeatures(s: Session): void {
  if (!s.ctx.options.streams || s.peerFeatures === undefined) return;
  s.ctx.emit({ type: 'features', session: s.id, peer: s.peer, features: s.peerFeatures });
}

/**
 * Capabilities (PROTOCOL.md, Capabilities): what each peer of a session supports, exchanged as
 * it connects, so an application knows at once whether it may open a stream.
 *
 * A `features` goes right before every `connect_request` (the responder keeps it for the request
 * that follows: EndpointStreams.holdFeatures) and before every `accept`, so each side has the
 * other's when the session opens. A peer that predates `features` drops it as an unknown code and
 * sends none: a session that opens without the peer's features takes the peer to be text only at
 * once, and asks again (a new peer whose `features` was lost answers, and corrects that: the
 * `features` event comes again). An ask is no reliable message, so it goes up to FEATURE_ASKS
 * times, an RTO apart and doubling (`featuresAsk`): with one ask, a `features` lost and then the
 * ask (or its answer) left a chat text only for good; an old peer that never answers costs
 * FEATURE_ASKS small packets a session. Every ask is answered once (a request's, by the accept).
 */
import type { PeerFeatures } from '../events.js';
import type { Features } from '../wire/messages.js';
import {
  FEATURE_FILES,
  FEATURE_LARGE_DATAGRAMS,
  FEATURE_STREAMS,
  FEATURES_ASK,
} from '../wire/stream-messages.js';
import type { Session } from './session.js';

/** Asks a session sends after it opened without the peer's features, at most. */
export const FEATURE_ASKS = 3;

/** A peer that said nothing: text only. */
export const TEXT_ONLY: PeerFeatures = {
  streams: false,
  files: false,
  maxStreams: 0,
  streamWindow: 0,
  largeDatagrams: false,
};

/** Our features, asking for the peer's while we have not heard them. */
export function sendFeatures(s: Session): void {
  if (!s.ctx.sendsFeatures) return;
  const { streams, files, streamWindow, maxIncomingStreams, largeDatagrams } = s.ctx.options;
  s.ctx.transmit(s.route, {
    type: 'features',
    session: s.wireId,
    // Files and large datagrams go with streams: their bits are said only with the streams bit.
    features: streams
      ? FEATURE_STREAMS | (files ? FEATURE_FILES : 0) | (largeDatagrams ? FEATURE_LARGE_DATAGRAMS : 0)
      : 0,
    flags: s.featuresHeard ? 0 : FEATURES_ASK,
    streamWindow: streams ? streamWindow : 0,
    maxStreams: streams ? maxIncomingStreams : 0,
  });
}

/** The peer's features arrived (states connecting, requested, open). */
export function onFeatures(s: Session, features: Features): void {
  const before = s.peerFeatures;
  const streams = (features.features & FEATURE_STREAMS) !== 0;
  s.peerFeatures = {
    streams,
    files: streams && (features.features & FEATURE_FILES) !== 0,
    maxStreams: streams ? features.maxStreams : 0,
    streamWindow: streams ? features.streamWindow : 0,
    largeDatagrams: streams && (features.features & FEATURE_LARGE_DATAGRAMS) !== 0,
  };
  s.featuresHeard = true;
  s.timers.clear('featuresAsk');
  // A request is answered by the accept (which brings ours), not before the person decides.
  if (features.flags & FEATURES_ASK && s.state !== 'requested') sendFeatures(s);
  // Told once the session is open (announceFeatures), and again only if that was wrong.
  if (s.state === 'open' && (before?.streams !== streams || before.files !== s.peerFeatures.files))
    emitFeatures(s);
}

/**
 * The session just opened (after its `accepted`, if any): tell the application what the peer
 * supports. Without a word from the peer it is text only, and is asked once more.
 */
export function announceFeatures(s: Session, now: number): void {
  if (!s.ctx.sendsFeatures) return;
  if (!s.featuresHeard) {
    s.peerFeatures = TEXT_ONLY;
    sendFeatures(s);
    s.featureAsks = 1;
    s.timers.set('featuresAsk', now + s.rtt.rto);
  }
  emitFeatures(s);
}

/** `featuresAsk` fired: the peer's features are still missing (hearing them clears the timer). */
export function askFeaturesAgain(s: Session, now: number): void {
  if (s.featuresHeard || s.state !== 'open' || s.featureAsks >= FEATURE_ASKS) return;
  sendFeatures(s);
  s.timers.set('featuresAsk', now + s.rtt.backedOff(s.featureAsks));
  s.featureAsks++;
}

function emitFeatures(s: Session): void {
  if (!s.ctx.options.streams || s.peerFeatures === undefined) return;
  s.ctx.emit({ type: 'features', session: s.id, peer: s.peer, features: s.peerFeatures });
}

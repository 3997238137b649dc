/**
 * An offer to a peer whose features are not known yet waits for them a short while (PROTOCOL.md,
 * Capabilities): a chat that opened without the peer's word takes it for text only and asks
 * again, since its `features` may only have been lost. One wait a session, however many offers
 * wait on it.
 */
import type { NetchatEvent, SessionId } from '../events.js';
import type { NetchatPeer } from './netchat-peer.js';

/**
 * How long an offer waits for the word of a peer taken for text only (ms): at least, at most. The
 * session asks three times (at the open, an RTO later, two more after that; the RTO at least
 * 200 ms, about 3 round trips at first), so its last answer comes within about 10 round trips
 * of the open, or 0.6 s on a fast path: the wait is 12 round trips within these bounds. (It was
 * 4 round trips from 0.25 s, shorter than the second ask: a netns lab at 10 % loss still refused
 * an offer now and then.)
 */
export const FEATURES_WAIT_MS = [1_000, 5_000] as const;

export class FeatureWaits {
  private readonly waits = new Map<SessionId, Promise<void>>();

  constructor(private readonly peer: NetchatPeer) {}

  /**
   * Resolves once the peer of `session` has said what it supports. A chat that opened without its
   * word takes it for text only and asks again (PROTOCOL.md, Capabilities): its `features` may
   * only have been lost. So an offer waits for the answers a short while (12 round trips, within
   * FEATURES_WAIT_MS) before it is refused as FILES_UNSUPPORTED; an older netchat never answers.
   */
  whenKnown(session: SessionId): Promise<void> {
    const info = this.peer.session(session);
    if (info?.state !== 'open' || info.peerFeaturesHeard) return Promise.resolve();
    // One wait a session, however many offers wait on it (one listener, not one an offer).
    const waiting = this.waits.get(session);
    if (waiting) return waiting;
    const waitMs = Math.min(FEATURES_WAIT_MS[1], Math.max(FEATURES_WAIT_MS[0], 12 * (info.rtt ?? 0)));
    const wait = new Promise<void>((resolve) => {
      const onEvent = (e: NetchatEvent) => {
        if (e.session !== session) return;
        // A `features` that is not the peer's word is the text-only one the session's open told
        // (an offer made at `accepted` starts waiting before that event is delivered).
        if (e.type === 'features' && !this.peer.session(session)?.peerFeaturesHeard) return;
        if (e.type === 'features' || e.type === 'closed' || e.type === 'lost') done();
      };
      const done = () => {
        clearTimeout(timer);
        this.peer.off('event', onEvent);
        this.waits.delete(session);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      this.peer.on('event', onEvent);
    });
    this.waits.set(session, wait);
    return wait;
  }
}

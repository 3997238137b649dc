/**
 * What a session and its endpoint know of each other: the route it speaks over (path-ports.ts),
 * what it needs from the endpoint (SessionContext), and what the application can read of it
 * (SessionInfo).
 */
import type { Address } from '../address.js';
import type { NetchatEvent, PeerFeatures, SessionId } from '../events.js';
import type { EndpointOptions } from '../options.js';
import type { Path } from '../path/path.js';
import type { Route } from '../path/path-ports.js';
import type { TokenBuckets } from '../token-buckets.js';
import type { Datagram } from '../wire/messages.js';
import type { SessionState } from './transitions.js';

/** The secure channel a session speaks over (defined with the path, which speaks over it too). */
export type { Route };

/** What a session needs from its endpoint. */
export interface SessionContext {
  readonly options: EndpointOptions;
  transmit(route: Route, datagram: Datagram): void;
  emit(event: NetchatEvent): void;
  /** Counts a datagram from the peer that broke the protocol rules. */
  protocolError(reason: string): void;
  /** The pace of presence messages taken from each session's peer (PRESENCE_BURST, PRESENCE_PER_SECOND). */
  readonly presencePace: TokenBuckets<SessionId>;
  /** Whether sessions say what they support (false only for the tests' peer that predates `features`). */
  readonly sendsFeatures: boolean;
  /** The path (congestion control, stream packets) of the channel a route is: made when first needed. */
  pathFor(route: Route): Path;
  /**
   * A send of ours went unanswered through a silence of EARLY_SILENCE_MS (liveness.ts): the peer
   * may have moved where only the rendezvous can find it. Once a silence.
   */
  peerQuiet?(session: SessionId, now: number): void;
}

/** A read-only view of a session for applications (status bars, logs). */
export interface SessionInfo {
  readonly id: SessionId;
  readonly peer: Address;
  readonly peerNick: string;
  /** The peer's verified static public key (hex), and its short fingerprint; empty before the handshake. */
  readonly publicKey: string;
  readonly fingerprint: string;
  readonly state: SessionState;
  readonly initiator: boolean;
  /** Smoothed round-trip time in ms, once measured (the handshake's, at first). */
  readonly rtt: number | undefined;
  /** When anything was last heard from the peer (endpoint clock, ms). */
  readonly lastHeard: number;
  /** Consecutive heartbeat intervals (plus the margin) without a word from the peer. */
  readonly missedHeartbeats: number;
  /** Messages sent but not yet delivered. */
  readonly pendingMessages: number;
  /** What the peer supports (streams), once known (the `features` event); absent before. */
  readonly peerFeatures?: PeerFeatures | undefined;
  /**
   * Whether `peerFeatures` is the peer's own word. False while they are taken as text only for
   * want of one (an older peer, or its `features` lost): it was asked again, and a `features`
   * event corrects them if it answers. (Optional for SessionInfos made by hand: absent reads as false.)
   */
  readonly peerFeaturesHeard?: boolean;
}

/**
 * What the secure layer can be tuned by, what it counts, and what it tells its user (the sink).
 * Every limit has a name here and a line saying why it has the value it has.
 */
import type { Address } from '../address.js';
import { MAX_DATAGRAM_BYTES } from '../wire/header.js';
import type { Channel } from './channel.js';

export interface SecureOptions {
  /** First resend of a handshake init; doubles up to handshakeRetryMax. */
  handshakeRetryInitial: number;
  handshakeRetryMax: number;
  /** An initiator gives up after this long without a confirmed handshake. */
  handshakeTimeout: number;
  /**
   * A responder forgets a half-done handshake after this long. An initiator whose
   * handshake_final stays unconfirmed this long starts the handshake over: by then the
   * responder has forgotten the half-done handshake the final was for.
   */
  pendingHandshakeTtl: number;
  maxPendingHandshakes: number;
  /** Under load, handshakes (each costs a Diffie-Hellman) per second and burst, per source host. */
  handshakesPerSecondPerHost: number;
  handshakeBurstPerHost: number;
  /**
   * Under load: the responder is under load while it holds at least this many half-done
   * handshakes (WireGuard's one eighth of the most it may hold)…
   */
  loadPendingHandshakes: number;
  /**
   * …or while at least this many inits arrived in the current or the previous second: twice
   * the 1,000 new sessions a second a busy bot must accept, far below any flood.
   */
  loadInitsPerSecond: number;
  /** Under load, inits read per second and burst from one address (host and port): the cheap gate. */
  initsPerSecondPerAddress: number;
  /** Under load, cookie replies per second and burst to one host (IPv4 address, IPv6 /64). */
  cookieRepliesPerSecondPerHost: number;
  /** A channel no session uses is closed after this long. */
  unusedChannelTtl: number;
  /**
   * The most channels held. At the limit the channel no session has used for longest is
   * closed to make room; a handshake is refused only when sessions use every channel.
   */
  maxChannels: number;
  /** The cookie secret changes this often; a cookie from the previous secret is still good. */
  cookieRotation: number;
  /**
   * Path challenges and answers to unproven addresses (path-validation.ts), per second and burst,
   * to one host (IPv4 address, IPv6 /64) across every channel: a victim host gets at most this
   * many 41-byte packets a second (410 B/s) however many channels or ports are forged, while
   * ten peers behind one NAT that rebound at once are each challenged within a second or two.
   */
  pathPacketsPerSecondPerHost: number;
  /**
   * The same in total, to every host together (41 KB/s at most): many forged hosts cannot make
   * it more. A real move needs one challenge, so a thousand peers a second can still roam.
   */
  pathPacketsPerSecond: number;
  /**
   * The largest datagram taken; a larger one is dropped and counted as malformed. 1200, or 1452
   * (MAX_LARGE_DATAGRAM_BYTES) where the endpoint tells peers it takes large datagrams.
   */
  maxDatagramBytes: number;
}

export const DEFAULT_SECURE_OPTIONS: SecureOptions = {
  handshakeRetryInitial: 500,
  handshakeRetryMax: 4_000,
  handshakeTimeout: 30_000,
  pendingHandshakeTtl: 5_000,
  maxPendingHandshakes: 1024,
  handshakesPerSecondPerHost: 5,
  handshakeBurstPerHost: 10,
  loadPendingHandshakes: 128,
  loadInitsPerSecond: 2_000,
  initsPerSecondPerAddress: 10,
  cookieRepliesPerSecondPerHost: 1_000,
  unusedChannelTtl: 30_000,
  maxChannels: 4096,
  cookieRotation: 120_000,
  pathPacketsPerSecondPerHost: 10,
  pathPacketsPerSecond: 1_000,
  maxDatagramBytes: MAX_DATAGRAM_BYTES,
};

export interface SecureStats {
  /** Packets that failed to decode or validate. */
  malformedPackets: number;
  /** Data packets that did not authenticate (forged, tampered, or from a stranger). */
  forged: number;
  /** Data packets whose counter was seen before, or is too old to tell. */
  replayed: number;
  /** Packets for a channel or handshake we do not have. */
  unknownChannel: number;
  /** Handshake messages that did not authenticate. */
  badHandshakes: number;
  cookiesSent: number;
  /** Inits dropped unread under load: over the per-address gate, or a cookie reply over its per-host limit. */
  initsDropped: number;
  /** Handshakes refused under load by the per-host rate limit. */
  handshakesRateLimited: number;
  /** Half-done handshakes dropped to stay within maxPendingHandshakes. */
  handshakesEvicted: number;
  /** Handshakes refused because sessions use every one of maxChannels channels. */
  handshakesRefused: number;
  handshakesCompleted: number;
  /** Initiator handshakes started over (the final stayed unconfirmed, or message 2 was bad). */
  handshakesRestarted: number;
  /** Unused channels closed to make room under maxChannels. */
  channelsEvicted: number;
  /** Channels closed as soon as their last session ended by a clean close (not kept 30 s). */
  channelsClosedClean: number;
  /** Times a channel moved to a new, validated address. */
  pathMoves: number;
  /** Path challenges sent (to addresses authentic packets came from: a peer that may have moved). */
  pathChallengesSent: number;
  /**
   * Path challenges and answers to unproven addresses withheld by the per-host or the total limit
   * (a peer sending forged sources to reflect them at a victim, or a host where very many roam).
   */
  pathPacketsLimited: number;
}

export function newSecureStats(): SecureStats {
  return {
    malformedPackets: 0,
    forged: 0,
    replayed: 0,
    unknownChannel: 0,
    badHandshakes: 0,
    cookiesSent: 0,
    initsDropped: 0,
    handshakesRateLimited: 0,
    handshakesEvicted: 0,
    handshakesRefused: 0,
    handshakesCompleted: 0,
    handshakesRestarted: 0,
    channelsEvicted: 0,
    channelsClosedClean: 0,
    pathMoves: 0,
    pathChallengesSent: 0,
    pathPacketsLimited: 0,
  };
}

export interface SecureSink {
  transmit(to: Address, bytes: Uint8Array): void;
  /**
   * A handshake completed: the channel is open and its peer's static key verified. Called
   * again for the same channel (same object and id) when an initiator's handshake started over
   * and completed anew: the keys, and possibly the peer's key, are new.
   */
  opened(channel: Channel, now: number): void;
  /**
   * The channel's path changed: it moved to a newly validated address (our challenge was answered
   * from there), or the peer challenged us from the channel's own address (it heard us from a new
   * one of ours: our NAT rebound, or we moved). `rtt`: when the channel moved, the round trip
   * (ms) of the challenge that proved the new address.
   */
  pathChanged?(channel: Channel, now: number, rtt?: number): void;
  /**
   * A liveness check (`SecureTransport.checkAlive`) heard nothing on the channel: the peer has
   * most likely lost it (it restarted).
   */
  channelSilent?(channel: Channel, now: number): void;
  /** An authentic session message arrived (`from` may differ from channel.address while roaming). */
  message(channel: Channel, plaintext: Uint8Array, now: number): void;
  /**
   * `message` is done with a stream_data's plaintext when it returns (the endpoint copies the
   * payload into its stream): such plaintexts are then opened into one scratch array, and only
   * the others are the sink's to keep. Off (by default), every plaintext is the sink's.
   */
  readonly streamDataReadAtOnce?: boolean;
}

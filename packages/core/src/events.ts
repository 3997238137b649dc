/**
 * What an endpoint tells its application. Every event names the session (a local handle, stable
 * for the session's life) and the peer's address.
 */
import type { Address } from './address.js';
import type { DeclineReason } from './wire/messages.js';

export type SessionId = number;
export type MessageId = number;
/** A stream of a session: even ids are opened by the side that picked the session id, odd ones by the other. */
export type StreamId = number;

export interface EventBase {
  readonly session: SessionId;
  readonly peer: Address;
}

/** Who the peer is, as the handshake proved: its static public key (hex) and short fingerprint. */
export interface PeerIdentity {
  readonly publicKey: string;
  readonly fingerprint: string;
}

export type NetchatEvent =
  /** A peer asks to chat: answer with `accept` or `decline`. Its key is verified by the handshake. */
  | (EventBase & { readonly type: 'request'; readonly nick: string } & PeerIdentity)
  /** A session is open: the peer accepted ours (or both asked each other at once). */
  | (EventBase & { readonly type: 'accepted'; readonly nick: string } & PeerIdentity)
  | (EventBase & { readonly type: 'declined'; readonly reason: DeclineReason; readonly detail: string })
  /** The connect timeout passed with no answer. */
  | (EventBase & { readonly type: 'no_answer' })
  | (EventBase & { readonly type: 'message'; readonly text: string })
  | (EventBase & { readonly type: 'delivered'; readonly messageId: MessageId })
  | (EventBase & {
      readonly type: 'failed';
      readonly messageId: MessageId;
      readonly reason: FailReason;
    })
  | (EventBase & { readonly type: 'heartbeat_sent' })
  /** `count` consecutive heartbeat intervals have passed without a word from the peer. */
  | (EventBase & { readonly type: 'heartbeat_missed'; readonly count: number })
  /** The peer of a session past `requested` was silent for the miss limit (or never answered a probe). */
  | (EventBase & { readonly type: 'lost'; readonly missed: number })
  /**
   * A request we had not answered yet is gone: the requester stopped asking (nothing heard for
   * connect timeout + the longest retry gap), so it gave up or went away. Not a loss of the
   * channel: the endpoint does not suspect it.
   */
  | (EventBase & { readonly type: 'request_expired' })
  /**
   * The peer's presence (open sessions only): its current nick (SessionInfo.peerNick follows it)
   * and whether it is typing. Unreliable: a front-end shows `typing` for at most
   * PRESENCE_TYPING_EXPIRY_MS after the last one, and stops at the peer's next message.
   */
  | (EventBase & { readonly type: 'presence'; readonly nick: string; readonly typing: boolean })
  /** The session ended from the peer's side: it closed (or withdrew its request), or it restarted. */
  | (EventBase & { readonly type: 'closed'; readonly reason: CloseReason })
  // ---- streams (only on an endpoint with `streams: true`; see README, Streams) ----
  /**
   * What the peer supports, as the session opens (just after `accepted`, or after our `accept`):
   * what it said, or text only if it said nothing (a peer that predates streams).
   * SessionInfo.peerFeatures follows it. Comes again if a peer taken for text only speaks up
   * after all (its word was lost).
   */
  | (EventBase & { readonly type: 'features'; readonly features: PeerFeatures })
  /** The peer opened a stream to us: read it (`stream_readable` follows) or cancel it. */
  | (EventBase & { readonly type: 'stream_opened'; readonly stream: StreamId })
  /** Bytes (or the stream's end) wait to be read; said again only after a read took everything. */
  | (EventBase & { readonly type: 'stream_readable'; readonly stream: StreamId })
  /** A stream we write has room again after a write took less than offered. */
  | (EventBase & { readonly type: 'stream_writable'; readonly stream: StreamId })
  /**
   * A stream is complete. `send`: the peer received every byte we wrote and the end (its
   * application may not have read them all yet). `receive`: we read every byte and the end.
   */
  | (EventBase & { readonly type: 'stream_finished'; readonly stream: StreamId; readonly direction: StreamDirection })
  /**
   * A stream ended before it was complete: cancelled by us or by the peer (`code`, the
   * application's reason, from cancelStream), or because the session ended.
   */
  | (EventBase & {
      readonly type: 'stream_cancelled';
      readonly stream: StreamId;
      readonly direction: StreamDirection;
      readonly by: 'local' | 'peer';
      readonly reason: StreamCancelReason;
      readonly code: number;
    })
  /** The peer allows more streams again (openStream had failed with STREAM_LIMIT). */
  | (EventBase & { readonly type: 'streams_available'; readonly count: number });

/** What the peer of a session supports. */
export interface PeerFeatures {
  /** It takes and opens streams (issue 19); false for a peer that predates them or does not want them. */
  readonly streams: boolean;
  /** It takes file offers (issue 20: PROTOCOL.md, Files: transfers); never without `streams`. */
  readonly files: boolean;
  /** Streams we may open to it now (it raises the count as its application finishes them). */
  readonly maxStreams: number;
  /** The receive window it grants each stream we open, in bytes, before it reads anything. */
  readonly streamWindow: number;
  /** It takes datagrams of up to 1452 bytes: stream data to it may use them where the path carries them. */
  readonly largeDatagrams: boolean;
}

/** Our side of a stream: we write it (`send`) or read it (`receive`). */
export type StreamDirection = 'send' | 'receive';

/** Why a stream was cancelled: an application cancelled it, or its session ended. */
export type StreamCancelReason = 'cancelled' | 'session_ended';

/**
 * Why a session ended from the peer's side. `peer_restarted`: the same key completed a new
 * handshake from the same address, so the old session is dead (only the key's holder can do that).
 */
export type CloseReason = 'peer_closed' | 'peer_restarted';

/** Why a message was not confirmed delivered. */
export type FailReason = 'closed' | 'lost' | 'peer_closed' | 'peer_restarted';

export type NetchatEventType = NetchatEvent['type'];
export type EventOf<T extends NetchatEventType> = Extract<NetchatEvent, { type: T }>;

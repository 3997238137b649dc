/**
 * What an endpoint tells its application. Every event names the session (a local handle, stable
 * for the session's life) and the peer's address.
 */
import type { Address } from './address.js';
import type { DeclineReason } from './wire/messages.js';

export type SessionId = number;
export type MessageId = number;

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
  | (EventBase & { readonly type: 'closed'; readonly reason: CloseReason });

/**
 * Why a session ended from the peer's side. `peer_restarted`: the same key completed a new
 * handshake from the same address, so the old session is dead (only the key's holder can do that).
 */
export type CloseReason = 'peer_closed' | 'peer_restarted';

/** Why a message was not confirmed delivered. */
export type FailReason = 'closed' | 'lost' | 'peer_closed' | 'peer_restarted';

export type NetchatEventType = NetchatEvent['type'];
export type EventOf<T extends NetchatEventType> = Extract<NetchatEvent, { type: T }>;

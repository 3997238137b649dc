/**
 * A conversation with one peer, as the people-facing front-ends see it: asked for (connecting),
 * open, or ended, and why it ended. One record per conversation; the client changes it.
 */
import type { Address, DeclineReason, PeerSpec, SessionId, TrustAssessment } from '@netchat/core';
import type { OutgoingMessage } from './outgoing-message.js';

export type ConversationState = 'connecting' | 'open' | 'ended';

/** Why a conversation ended (or never opened). */
export type EndReason =
  /** The peer said no (`declined`: a person declined; `busy`: in another chat; ...). */
  | { readonly kind: 'declined'; readonly reason: DeclineReason; readonly detail: string }
  /** The connect timeout passed with no answer. */
  | { readonly kind: 'no_answer' }
  /** The address could not be used (no such host, our own address, the wrong IP version). */
  | { readonly kind: 'unreachable'; readonly message: string }
  /** We withdrew our request before it was answered. */
  | { readonly kind: 'cancelled' }
  /** We closed it. */
  | { readonly kind: 'closed' }
  | { readonly kind: 'peer_closed' }
  /** The same key came back from the same address: the peer's program restarted. */
  | { readonly kind: 'peer_restarted' }
  /** The peer fell silent for `missed` heartbeat intervals. */
  | { readonly kind: 'lost'; readonly missed: number }
  /** Not asked: `existing` is already a chat (or a request) with that peer. */
  | { readonly kind: 'duplicate'; readonly existing: Conversation }
  /**
   * The peer that answered has the key `got`, not `expected`: we asked for a peer known by key
   * (a fingerprint, or a known nick), or it uses the nick of a peer whose key the user verified.
   * `nick` is that peer's nick ('' if none). Its session is closed at once; its key is not remembered.
   */
  | { readonly kind: 'wrong_key'; readonly expected: string; readonly got: string; readonly nick: string };

export interface Conversation {
  /** The client's handle, stable for the conversation's life. */
  readonly id: number;
  /** Who asked: we did (`outgoing`) or the peer did (`incoming`). */
  readonly direction: 'outgoing' | 'incoming';
  /** The address as typed, before any look-up (for a peer found through the rendezvous, its fingerprint and port 0). */
  readonly target: PeerSpec;
  /**
   * Asked for by key (a fingerprint or a known nick: see peer-target.ts): the fingerprint it must
   * have, and the nick it is known by ('' if none). It opens only with that key.
   */
  readonly expected: { readonly fingerprint: string; readonly nick: string } | undefined;
  /** The numeric address, once resolved. */
  peer: Address | undefined;
  session: SessionId | undefined;
  /** The peer's nick (raw: texts make it terminal-safe); follows the peer's `/nick` (presence). */
  nick: string;
  /** The peer's verified static key (hex), once open: the key its history and contact are filed under. */
  publicKey: string | undefined;
  /** What is known about the peer's key, once the handshake proved it. */
  trust: TrustAssessment | undefined;
  state: ConversationState;
  ended: EndReason | undefined;
  /** Texts accepted but not handed to the peer yet: its send queue was full (backpressure). */
  readonly backlog: OutgoingMessage[];
  /** Until when (client clock, ms) the peer counts as typing; undefined when it is not. See `ChatClient.peerTyping`. */
  peerTypingUntil: number | undefined;
  /** When we last told the peer we are typing (client clock, ms); undefined while we are not. */
  typingSentAt: number | undefined;
}

/** Whether a conversation ended before it ever opened (a failed or cancelled request). */
export function neverOpened(conversation: Conversation): boolean {
  const kind = conversation.ended?.kind;
  return (
    kind === 'declined' ||
    kind === 'no_answer' ||
    kind === 'unreachable' ||
    kind === 'cancelled' ||
    kind === 'duplicate' ||
    kind === 'wrong_key'
  );
}

/** A conversation as it starts: connecting, with nothing known of the peer yet. */
export function newConversation(
  id: number,
  direction: Conversation['direction'],
  target: PeerSpec | Address,
  expected?: Conversation['expected'],
): Conversation {
  return {
    id,
    direction,
    target: { host: target.host, port: target.port },
    expected,
    peer: undefined,
    session: undefined,
    nick: '',
    publicKey: undefined,
    trust: undefined,
    state: 'connecting',
    ended: undefined,
    backlog: [],
    peerTypingUntil: undefined,
    typingSentAt: undefined,
  };
}

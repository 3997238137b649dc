/**
 * Presence as the front-ends see it: the peer's nick changes and whether it is typing. Core sends
 * and receives the unreliable `presence` message; this file holds the pace of our typing notices
 * and the expiry of the peer's (PROTOCOL.md, Presence), as plain functions of the client's clock.
 */
import { PRESENCE_TYPING_EXPIRY_MS, PRESENCE_TYPING_REFRESH_MS } from '@netchat/core';
import type { Conversation } from './conversation.js';

export { PRESENCE_TYPING_EXPIRY_MS, PRESENCE_TYPING_REFRESH_MS };

export type PresenceUpdate =
  /**
   * The peer changed its nick: `conversation.nick` is the new one. `conflict` is set when another
   * known key has that nick (the fingerprints of those keys): the peer may be posing as someone
   * you know, so the new nick is not remembered for its key.
   */
  | {
      readonly type: 'nick';
      readonly conversation: Conversation;
      readonly previous: string;
      readonly nick: string;
      readonly conflict?: readonly string[];
    }
  /** The peer started or stopped typing (stopped: it said so, sent its message, or went quiet for the expiry). */
  | { readonly type: 'typing'; readonly conversation: Conversation; readonly typing: boolean };

/** Whether the peer counts as typing at `now`. */
export function isPeerTyping(conversation: Conversation, now: number): boolean {
  return conversation.peerTypingUntil !== undefined && now < conversation.peerTypingUntil;
}

/** Whether a keystroke at `now` should tell the peer (the first one, then at most one per refresh period). */
export function typingNoticeDue(conversation: Conversation, now: number): boolean {
  const sent = conversation.typingSentAt;
  return sent === undefined || now - sent >= PRESENCE_TYPING_REFRESH_MS;
}

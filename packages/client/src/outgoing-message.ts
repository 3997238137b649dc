/**
 * A message we sent, and what is known of its fate. Delivery is confirmed by the peer's
 * acknowledgement; without one, all that is known is that it was not confirmed (the peer may
 * have it: an acknowledgement can be lost, or the peer was frozen and came back too late).
 */
import type { FailReason, MessageId } from '@netchat/core';
import type { Conversation } from './conversation.js';

export type MessageStatus =
  /** Waiting: held back for room in the send queue, or sent and not yet acknowledged. */
  | 'pending'
  /** The peer acknowledged it. */
  | 'delivered'
  /** Sent, but the chat ended before the peer acknowledged it. It may or may not have arrived. */
  | 'not_confirmed'
  /** Never sent: the chat ended while it waited for room. The peer does not have it. */
  | 'not_sent';

export interface OutgoingMessage {
  /** The client's own number for it, in order of `send`. */
  readonly id: number;
  readonly conversation: Conversation;
  readonly text: string;
  status: MessageStatus;
  /** The engine's id, once handed to the peer. */
  messageId: MessageId | undefined;
  /** `not_confirmed`: how the chat ended while it was in flight. */
  reason: FailReason | undefined;
}

export function isSettled(message: OutgoingMessage): boolean {
  return message.status !== 'pending';
}

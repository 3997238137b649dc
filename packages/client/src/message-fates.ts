/**
 * Each sent message's fate, from `send` until it is settled: handed to the peer now, or held
 * back in its conversation's backlog while the peer's send queue is full (and handed over as
 * room comes, so input read faster than the network is never dropped); then `delivered`,
 * `not_confirmed` (sent, never acknowledged) or `not_sent` (the chat ended before it could go).
 */
import { type EventOf, NetchatError, type SessionId } from '@netchat/core';
import type { ClientUpdate } from './client-update.js';
import type { Conversation } from './conversation.js';
import type { OutgoingMessage } from './outgoing-message.js';
import type { PeerPort } from './peer-port.js';

export class MessageFates {
  /** Handed to the peer, not yet settled, by the engine's message id. */
  private readonly inFlight = new Map<number, OutgoingMessage>();
  /** Messages that failed because their chat is ending: reported after the `ended` that says why. */
  private readonly failing = new Map<Conversation, OutgoingMessage[]>();
  private nextId = 1;

  constructor(
    private readonly port: PeerPort,
    private readonly emit: (update: ClientUpdate) => void,
  ) {}

  /**
   * Sends `text` in an open conversation, now or as soon as there is room. Throws NetchatError
   * for what can never be sent (empty, too large, not open).
   */
  send(conversation: Conversation, text: string): OutgoingMessage {
    if (conversation.state !== 'open' || conversation.session === undefined)
      throw new NetchatError('SESSION_NOT_OPEN', `the chat is ${conversation.state}, not open`);
    const message: OutgoingMessage = {
      id: this.nextId++,
      conversation,
      text,
      status: 'pending',
      messageId: undefined,
      reason: undefined,
    };
    if (conversation.backlog.length > 0 || !this.handOver(message)) conversation.backlog.push(message);
    return message;
  }

  /** Messages not yet settled (delivered or reported) in these conversations, in the order they were sent. */
  unsettled(conversations: readonly Conversation[]): OutgoingMessage[] {
    const held = conversations.flatMap((c) => c.backlog);
    return [...held, ...this.inFlight.values()].sort((a, b) => a.id - b.id);
  }

  /** The engine's word on a message: delivered, or failed (with how the chat ended). */
  onOutcome(e: EventOf<'delivered'> | EventOf<'failed'>): void {
    const message = this.inFlight.get(e.messageId);
    if (!message) return;
    this.inFlight.delete(e.messageId);
    if (e.type === 'delivered') {
      message.status = 'delivered';
      this.emit({ type: 'delivered', message });
      this.flush(message.conversation);
      return;
    }
    message.status = 'not_confirmed';
    message.reason = e.reason;
    const conversation = message.conversation;
    if (e.reason !== 'closed' && conversation.state !== 'ended') {
      // The engine fails the messages first, then says the chat is lost or closed: tell it in that order.
      this.failing.set(conversation, [...(this.failing.get(conversation) ?? []), message]);
      return;
    }
    this.emit({ type: 'not_delivered', message });
  }

  /**
   * The conversation ended: the messages to report after its `ended`, in order: those that failed
   * as it ended, then those still held back (now `not_sent`: the peer never had them).
   */
  ended(conversation: Conversation): OutgoingMessage[] {
    const failed = this.failing.get(conversation) ?? [];
    this.failing.delete(conversation);
    const held = conversation.backlog.splice(0);
    for (const message of held) message.status = 'not_sent';
    return [...failed, ...held];
  }

  /** Hands held-back texts to the peer while it has room. */
  private flush(conversation: Conversation): void {
    if (conversation.backlog.length === 0 || conversation.state !== 'open') return;
    while (conversation.backlog.length > 0) {
      const next = conversation.backlog[0] as OutgoingMessage;
      if (!this.handOver(next)) return;
      conversation.backlog.shift();
    }
    this.emit({ type: 'room', conversation });
  }

  /**
   * Sends one message now; false if the peer's send queue is full, or if the session is over
   * though its end is still to be told (it stays held back, and is reported not sent when the
   * chat's end comes). Other errors are thrown.
   */
  private handOver(message: OutgoingMessage): boolean {
    try {
      message.messageId = this.port.send(message.conversation.session as SessionId, message.text);
    } catch (error) {
      // By code, not class: the peer may come from another copy of core.
      const code = (error as { code?: unknown }).code;
      if (code === 'SEND_QUEUE_FULL') return false;
      // NetchatPeer tells a batch's events after a stream that became readable in it: a
      // `delivered` may come after the disconnect of the same batch forgot the session, and the
      // texts it hands over threw from the event handler (14 throws in held-events-stale.test.ts).
      if (code === 'NO_SUCH_SESSION' || code === 'SESSION_NOT_OPEN') return false;
      throw error;
    }
    this.inFlight.set(message.messageId, message);
    return true;
  }
}

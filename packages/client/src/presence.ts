/**
 * Presence as the front-ends see it: the peer's nick changes and whether it is typing. Core sends
 * and receives the unreliable `presence` message; the `PresenceTracker` here paces our typing
 * notices, keeps the peer's typing until it expires (one timer for all conversations, on the
 * client's clock), and follows the peer's nick, remembering it for its key unless another known
 * key has it (PROTOCOL.md, Presence).
 */
import {
  type EventOf,
  NetchatError,
  PRESENCE_TYPING_EXPIRY_MS,
  PRESENCE_TYPING_REFRESH_MS,
} from '@netchat/core';
import type { ClientTimers } from './client-update.js';
import type { Conversation } from './conversation.js';
import type { PeerPort, TrustStore } from './peer-port.js';

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

/** What the tracker needs of the client. */
export interface PresenceHost {
  readonly port: PeerPort;
  readonly trustStore: TrustStore;
  readonly clock: () => number;
  readonly timers: ClientTimers;
  /** The conversations connecting or open. */
  conversations(): readonly Conversation[];
}

export class PresenceTracker {
  private readonly listeners: ((update: PresenceUpdate) => void)[] = [];
  private typingTimer: unknown;
  private typingTimerAt: number | undefined;

  constructor(private readonly host: PresenceHost) {}

  subscribe(listener: (update: PresenceUpdate) => void): void {
    this.listeners.push(listener);
  }

  /** See ChatClient.setNick. */
  setNick(nick: string): void {
    const port = this.host.port;
    if (!port.setNick) throw new NetchatError('INVALID_ARGUMENT', 'this peer cannot change its nick');
    port.setNick(nick);
  }

  /** See ChatClient.notifyTyping. */
  notifyTyping(conversation: Conversation, now: number): boolean {
    const port = this.host.port;
    if (conversation.state !== 'open' || conversation.session === undefined) return false;
    if (!typingNoticeDue(conversation, now) || !port.setTyping) return false;
    if (!port.setTyping(conversation.session, true)) return false;
    conversation.typingSentAt = now;
    return true;
  }

  /** See ChatClient.stopTyping. */
  stopTyping(conversation: Conversation): void {
    if (conversation.typingSentAt === undefined) return;
    conversation.typingSentAt = undefined;
    if (conversation.state === 'open' && conversation.session !== undefined)
      this.host.port.setTyping?.(conversation.session, false);
  }

  /** We sent a message: it ends our typing at the peer (the next keystroke tells it again). */
  sentMessage(conversation: Conversation): void {
    conversation.typingSentAt = undefined;
  }

  /** A `presence` of an open conversation: its nick, and whether it types. */
  onPresence(c: Conversation, e: EventOf<'presence'>): void {
    if (e.nick !== c.nick) this.onPeerNick(c, e.nick);
    if (!e.typing) {
      this.peerStoppedTyping(c);
      return;
    }
    const was = c.peerTypingUntil !== undefined;
    c.peerTypingUntil = this.host.clock() + PRESENCE_TYPING_EXPIRY_MS;
    this.armTypingTimer();
    if (!was) this.emit({ type: 'typing', conversation: c, typing: true });
  }

  /** The peer stopped typing: it sent its message, or said so. */
  peerStoppedTyping(c: Conversation): void {
    if (c.peerTypingUntil === undefined) return;
    c.peerTypingUntil = undefined;
    this.emit({ type: 'typing', conversation: c, typing: false });
  }

  /** The conversation ended: no one types in it any more ('ended' says so: no update of its own). */
  ended(c: Conversation): void {
    c.peerTypingUntil = undefined;
    c.typingSentAt = undefined;
    this.armTypingTimer();
  }

  /**
   * The peer calls itself something else now. Its key stays what the handshake proved; the new
   * nick is remembered for it, unless another known key has that nick (then it is flagged).
   */
  private onPeerNick(c: Conversation, nick: string): void {
    const { trustStore } = this.host;
    const previous = c.nick;
    c.nick = nick;
    const conflict =
      nick === ''
        ? []
        : (trustStore.list?.() ?? [])
            .filter((p) => p.publicKey !== c.publicKey && (p.nick === nick || p.peerNick === nick))
            .map((p) => p.fingerprint);
    if (conflict.length === 0 && c.publicKey !== undefined && c.trust)
      trustStore.remember(c.publicKey, nick, c.trust.fingerprint, {
        ...(c.peer && { address: c.peer }),
        onlyIfKnown: true,
      });
    this.emit(
      conflict.length > 0
        ? { type: 'nick', conversation: c, previous, nick, conflict }
        : { type: 'nick', conversation: c, previous, nick },
    );
  }

  /** One timer, for the earliest expiry of a peer's typing. */
  private armTypingTimer(): void {
    const { timers, clock } = this.host;
    let at: number | undefined;
    for (const c of this.host.conversations())
      if (c.peerTypingUntil !== undefined && (at === undefined || c.peerTypingUntil < at))
        at = c.peerTypingUntil;
    if (at === this.typingTimerAt) return;
    if (this.typingTimer !== undefined) timers.clear(this.typingTimer);
    this.typingTimer = undefined;
    this.typingTimerAt = at;
    if (at !== undefined)
      this.typingTimer = timers.set(() => this.onTypingTimer(), Math.max(0, at - clock()));
  }

  private onTypingTimer(): void {
    this.typingTimer = undefined;
    this.typingTimerAt = undefined;
    const now = this.host.clock();
    for (const c of [...this.host.conversations()])
      if (c.peerTypingUntil !== undefined && c.peerTypingUntil <= now) this.peerStoppedTyping(c);
    this.armTypingTimer();
  }

  private emit(update: PresenceUpdate): void {
    for (const listener of this.listeners) listener(update);
  }
}

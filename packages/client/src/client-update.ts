/**
 * What the client tells its front-ends (`ClientUpdate`), and how it is set up (`ClientSettings`,
 * `ClientTimers`): the types the other client files share.
 */
import type { DeclineReason } from '@netchat/core';
import type { ChatHistory } from './chat-history.js';
import type { Conversation } from './conversation.js';
import type { OutgoingMessage } from './outgoing-message.js';
import type { WaitingRequest } from './waiting-request.js';

export type ClientUpdate =
  /** A request waits for `accept` or `decline`. */
  | { readonly type: 'request'; readonly request: WaitingRequest }
  /**
   * A request was declined at once, with the reason and detail the peer was sent: `busy` (the
   * client is at capacity, or closing) or `not_allowed` (a new key with a verified peer's nick).
   */
  | {
      readonly type: 'request_refused';
      readonly request: WaitingRequest;
      readonly reason: DeclineReason;
      readonly detail: string;
    }
  /** A waiting request went away before it was answered. */
  | {
      readonly type: 'request_gone';
      readonly request: WaitingRequest;
      readonly why: 'withdrawn' | 'expired' | 'peer_restarted';
    }
  | {
      readonly type: 'opened';
      readonly conversation: Conversation;
      /** `connected`: our request was accepted; `accepted`: we accepted theirs; `auto`: by acceptAll. */
      readonly how: 'connected' | 'accepted' | 'auto';
      /** The peer's request, when it asked (`accepted`, `auto`). */
      readonly request?: WaitingRequest;
      /**
       * The ended conversation with the same peer (the same key) this one continues, if there was
       * one: a front-end shows it in that one's place (ended-conversations.ts).
       */
      readonly resumes?: Conversation;
    }
  /** The conversation ended, or (see `neverOpened`) its request failed; `conversation.ended` says why. */
  | { readonly type: 'ended'; readonly conversation: Conversation }
  | { readonly type: 'message'; readonly conversation: Conversation; readonly text: string }
  | { readonly type: 'delivered'; readonly message: OutgoingMessage }
  /** The message is settled without a confirmation: `status` is `not_confirmed` or `not_sent`. */
  | { readonly type: 'not_delivered'; readonly message: OutgoingMessage }
  /** The backlog of a conversation has drained: everything typed so far has been handed to the peer. */
  | { readonly type: 'room'; readonly conversation: Conversation }
  | { readonly type: 'heartbeat_sent'; readonly conversation: Conversation }
  | { readonly type: 'heartbeat_missed'; readonly conversation: Conversation; readonly count: number };

export interface ClientSettings {
  /** Accept every request (--yes) while there is capacity. */
  acceptAll?: boolean;
  /**
   * How many conversations (connecting or open) and waiting requests at once; a request beyond
   * that is declined as busy. The line client has 1; the TUI no limit.
   */
  capacity?: number;
  /** The client's clock in ms (for `WaitingRequest.since`, and typing: notices and expiry). */
  clock?: () => number;
  /** The timer that ends a peer's typing when it expires; setTimeout (unref'd) by default. */
  timers?: ClientTimers;
  /** Where conversations are logged (messages both ways), if anywhere; it has its own on/off. */
  history?: ChatHistory;
  /**
   * One chat per peer: a connect to a peer already in a chat or a request with us is not sent,
   * and ends as `duplicate` (see `ChatClient.duplicateOf`). Both front-ends turn it on; off by
   * default for callers that mean to hold two chats with one peer (tests of the engine's rules).
   */
  oneChatPerPeer?: boolean;
}

/** One timer at a time, in ms of real time; injectable so tests run on virtual time. */
export interface ClientTimers {
  set(run: () => void, delayMs: number): unknown;
  clear(handle: unknown): void;
}

/** setTimeout, unref'd: a typing indicator must never keep a program alive. */
export const backgroundTimers: ClientTimers = {
  set(run, delayMs) {
    const timer = setTimeout(run, delayMs);
    timer.unref?.();
    return timer;
  },
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

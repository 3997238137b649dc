/**
 * A tab: the home tab, or one conversation as the TUI shows it. What the conversation is (its
 * state, peer, nick, session, key) is read from the client's Conversation, never copied; the tab
 * adds only what is the TUI's own: its log, unread count, draft, the name it was opened by, and
 * the pages of earlier chats it shows.
 */
import type { Conversation, ConversationState } from '@netchat/client';
import type { Address, SessionId } from '@netchat/core';
import type { HistoryPages } from './history-pages.js';
import type { LineEditor } from './line-editor.js';
import type { ChatLine, TabLog } from './tab-log.js';

export type TabState = 'home' | ConversationState;

export class Tab {
  unread = 0;
  private shown: Conversation | undefined;
  /** The earlier chats with this peer's key shown above the chat, and older ones to show as it scrolls up. */
  history: HistoryPages | undefined;

  constructor(
    readonly id: number,
    readonly log: TabLog,
    /** This tab's own draft (the history of what was sent is shared). */
    readonly editor: LineEditor,
    /** The client's conversation this tab shows; none for the home tab. */
    conversation?: Conversation,
    /** What the tab was opened by (the text typed for /connect, a contact's nick, the asker's address). */
    readonly label = 'home',
  ) {
    this.shown = conversation;
  }

  /** The client's conversation this tab shows (the latest, when the chat reopened here); none for the home tab. */
  get conversation(): Conversation | undefined {
    return this.shown;
  }

  /** The chat with the same peer opened again: this ended tab shows the new conversation from now on. */
  reopen(conversation: Conversation): void {
    this.shown = conversation;
  }

  get state(): TabState {
    return this.conversation?.state ?? 'home';
  }

  /** The peer's numeric address, once known. */
  get peer(): Address | undefined {
    return this.conversation?.peer;
  }

  /** The peer's nick as it gives it now (raw: make it terminal-safe to show it); '' for none. */
  get nick(): string {
    return this.conversation?.nick ?? '';
  }

  get session(): SessionId | undefined {
    return this.conversation?.session;
  }

  /** The fingerprint of the peer's key, once the handshake proved it ('' before). */
  get fingerprint(): string {
    return this.conversation?.trust?.fingerprint ?? '';
  }

  /** Open or on its way: what Ctrl+C would close. */
  get live(): boolean {
    return this.state === 'open' || this.state === 'connecting';
  }

  get lines(): readonly ChatLine[] {
    return this.log.lines;
  }
}

export function clockTime(time: Date): string {
  return time.toTimeString().slice(0, 5);
}

/** The first group of a fingerprint ("ABCD" of "ABCD-EFGH-…"): enough to tell two peers apart. */
export function shortPrint(print: string): string {
  return print.slice(0, 4);
}

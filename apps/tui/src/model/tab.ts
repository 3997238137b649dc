/**
 * A tab: one conversation (or the home tab) as the TUI shows it: its lines, unread count, scroll
 * position and draft. Plain records the model changes; the helpers here only read them.
 */
import type { Conversation, MessageStatus } from '@netchat/client';
import type { Address, SessionId } from '@netchat/core';
import type { LineEditor } from './line-editor.js';
import type { ScrollAnchor } from './scroll.js';

/** A sent line's mark: the fate of its message (the client's MessageStatus). */
export type Mark = MessageStatus;
export type LineKind = 'own' | 'peer' | 'own_action' | 'peer_action' | 'notice' | 'warning';

export interface ChatLine {
  readonly time: Date;
  readonly kind: LineKind;
  readonly sender: string;
  readonly text: string;
  /** A line from the chat history of an earlier conversation (shown dimmed). */
  readonly old?: boolean;
  /** Increases by one per line in a tab: what the scroll position holds on to. */
  readonly seq: number;
  mark?: Mark;
}

export type TabState = 'home' | 'connecting' | 'open' | 'ended';

export interface Tab {
  readonly id: number;
  peer?: Address;
  peerNick: string;
  session?: SessionId;
  state: TabState;
  lines: ChatLine[];
  unread: number;
  /** Consecutive heartbeat intervals without a word from the peer (a warning before loss). */
  missed: number;
  /** The last visible row while scrolled back; undefined follows new lines. */
  anchor: ScrollAnchor | undefined;
  /** The newest line's seq when the view was scrolled back: lines after it are "new below". */
  seenSeq: number;
  nextSeq: number;
  /** This tab's own draft (the history of what was sent is shared). */
  readonly editor: LineEditor;
  /** The text typed for `/connect`, shown until the address is resolved. */
  label: string;
  /** The client's conversation this tab shows. */
  conversation?: Conversation;
}

/** A fresh tab with nothing in it yet. */
export function newTab(id: number, state: TabState, label: string, editor: LineEditor): Tab {
  return {
    id,
    peerNick: '',
    state,
    lines: [],
    unread: 0,
    missed: 0,
    anchor: undefined,
    seenSeq: 0,
    nextSeq: 1,
    editor,
    label,
  };
}

export function clockTime(time: Date): string {
  return time.toTimeString().slice(0, 5);
}

/** The fingerprint of the tab's peer's key, once the handshake proved it ('' before). */
export function fingerprintOf(tab: Tab): string {
  return tab.conversation?.trust?.fingerprint ?? '';
}

/** The first group of a fingerprint ("ABCD" of "ABCD-EFGH-…"): enough to tell two peers apart. */
export function shortPrint(print: string): string {
  return print.slice(0, 4);
}

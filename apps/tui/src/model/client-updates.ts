/**
 * What the client's updates change in the tabs: a request's notice on the home tab, a tab for a
 * conversation that opens (its history first), each message in its tab (unread, a bell when the
 * tab is not shown), the marks of sent lines, and why a conversation ended. Also the TUI's guard
 * against a second chat with a peer that already has an open tab (until the client has one).
 */
import {
  type ChatHistory,
  type ClientUpdate,
  type Conversation,
  neverOpened,
  type OutgoingMessage,
  type PeerPort as ClientPort,
  portOf,
  type PresenceUpdate,
  texts,
} from '@netchat/client';
import { formatAddress, terminalSafe } from '@netchat/core';
import { ACTION_PREFIX } from './commands.js';
import { historyLines } from './history-lines.js';
import type { PeerPort } from './settings.js';
import type { Tab } from './tab.js';
import type { ChatLine } from './tab-log.js';
import type { TuiModel } from './tui-model.js';

/** How many lines of history a reopened chat shows. */
export const HISTORY_LINES = 10;

export class ClientUpdates {
  /** Each sent message's line, until the message's fate is known and marked on it. */
  private readonly sentLines = new Map<OutgoingMessage, ChatLine>();
  /** The open tab a /connect turned out to be for, once its address was resolved (see guard). */
  private twin: Tab | undefined;

  constructor(private readonly model: TuiModel) {}

  /** `line` shows `message`: its mark follows the message's fate. */
  track(message: OutgoingMessage, line: ChatLine): void {
    this.sentLines.set(message, line);
  }

  /**
   * The peer as the client sees it, but for one check once a /connect's address is resolved: a
   * peer that already has an open tab (typed differently, `localhost` for `127.0.0.1`) is not
   * asked again; the dial fails and that tab is shown instead (see onEnded).
   */
  guard(port: PeerPort): ClientPort {
    return {
      ...portOf(port),
      connectTo: (address) => {
        const twin = this.model.tabFor(address.host, address.port);
        if (twin?.state === 'open') {
          this.twin = twin;
          throw new Error(`already chatting with ${texts.spaced(address)}`);
        }
        return port.connectTo(address);
      },
    };
  }

  apply(u: ClientUpdate): void {
    switch (u.type) {
      case 'request':
        this.model.ringLater();
        this.model.home.log.notice(
          `${texts.requestFromText(u.request.peer, u.request.nick)}. Alt+Y / Alt+N in the dialog, or /accept ${this.model.requests.length}.`,
        );
        this.model.showNotices(this.model.home, texts.trustNotices(u.request.trust));
        return;
      case 'request_refused':
        this.model.home.log.notice(texts.refusedText(u.request));
        return;
      case 'request_gone':
        this.model.dialog.forget(u.request.session);
        this.model.home.log.notice(texts.requestGoneText(u.request, u.why));
        return;
      case 'opened':
        this.onOpened(u.conversation, u.how);
        return;
      case 'ended':
        this.onEnded(u.conversation);
        return;
      case 'message':
        this.onMessage(u.conversation, u.text);
        return;
      case 'delivered':
      case 'not_delivered':
        this.markSent(u.message);
        return;
      case 'room':
      case 'heartbeat_missed':
        // The status bar reads missed heartbeats from the session itself, live.
        return;
      case 'heartbeat_sent':
        if (this.model.settings.verbose && u.conversation.peer)
          this.model.tabOf(u.conversation)?.log.notice(texts.heartbeatSentText(u.conversation.peer));
        return;
      default: {
        // The compiler flags an update type this switch does not handle.
        const unhandled: never = u;
        void unhandled;
      }
    }
  }

  private onOpened(conversation: Conversation, how: 'connected' | 'accepted' | 'auto'): void {
    let tab = this.model.tabOf(conversation);
    if (!tab) {
      if (how === 'connected') return;
      tab = this.model.newTab(conversation, formatAddress(conversation.peer ?? conversation.target));
    }
    this.showHistory(tab, conversation);
    this.model.showNotices(tab, texts.openedNotices(conversation, how));
    if (how !== 'connected' && conversation.trust)
      this.model.showNotices(tab, texts.trustNotices(conversation.trust));
    if (how !== 'connected') this.model.show(tab);
  }

  /**
   * The last lines of earlier conversations with this key, dimmed, above everything the tab
   * shows so far (a /connect's "Sending connection request…" included): their heading first,
   * then the lines, then this chat.
   */
  private showHistory(tab: Tab, conversation: Conversation): void {
    const history = this.model.settings.history;
    if (!history?.enabled || conversation.publicKey === undefined) return;
    let entries: ReturnType<ChatHistory['recent']>;
    try {
      entries = history.recent(conversation.publicKey, HISTORY_LINES);
    } catch (error) {
      tab.log.warn(`Chat history could not be read: ${(error as Error).message}`);
      return;
    }
    if (entries.length === 0) return;
    const heading = {
      kind: 'notice' as const,
      sender: '',
      text: `Earlier chats with this key: the last ${entries.length} line${entries.length === 1 ? '' : 's'}, dimmed.`,
    };
    tab.log.prepend([heading, ...historyLines(entries, this.model.nick || 'you', this.model.clock())]);
  }

  presence(u: PresenceUpdate): void {
    const tab = this.model.tabOf(u.conversation);
    if (tab && u.type === 'nick') this.model.showNotices(tab, texts.nickChangeNotices(u));
    this.model.settings.onChange?.();
  }

  private onMessage(conversation: Conversation, text: string): void {
    const tab = this.model.tabOf(conversation);
    if (!tab) return;
    const sender = tab.nick || (tab.peer ? formatAddress(tab.peer) : 'peer');
    const action = text.startsWith(ACTION_PREFIX);
    tab.log.add({
      kind: action ? 'peer_action' : 'peer',
      sender: terminalSafe(sender),
      text: terminalSafe(action ? text.slice(ACTION_PREFIX.length) : text),
    });
    if (tab !== this.model.currentTab) {
      tab.unread++;
      this.model.ringLater();
    }
  }

  private onEnded(conversation: Conversation): void {
    const tab = this.model.tabOf(conversation);
    if (!tab) return;
    const notice = texts.endedNotice(conversation);
    const twin = this.twin;
    this.twin = undefined;
    if (twin && conversation.ended?.kind === 'unreachable' && this.model.tabs.includes(twin)) {
      this.model.removeTab(tab);
      this.model.show(twin);
      twin.log.notice(
        `Already chatting with ${texts.spaced(conversation.peer ?? conversation.target)}: this tab.`,
      );
      return;
    }
    if (neverOpened(conversation)) {
      // A request that came to nothing (refused, unanswered, cancelled, bad address) was never a
      // chat: its tab goes, and why is said on the home tab.
      const wasCurrent = tab === this.model.currentTab;
      this.model.removeTab(tab);
      if (wasCurrent) this.model.selectTab(0);
      this.model.showNotices(this.model.home, [notice]);
      return;
    }
    const why = conversation.ended;
    const text = why?.kind === 'lost' ? `${texts.missedText(why.missed)}. ${notice.text}` : notice.text;
    if (notice.warning) tab.log.warn(text);
    else tab.log.notice(text);
  }

  private markSent(message: OutgoingMessage): void {
    const line = this.sentLines.get(message);
    if (!line) return;
    line.mark = message.status;
    this.sentLines.delete(message);
  }
}

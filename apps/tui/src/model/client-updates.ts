/**
 * What the client's updates change in the tabs: a request's notice on the home tab, a tab for a
 * conversation that opens (its earlier chats first; a chat with a peer whose ended tab is there
 * reopens in that tab), each message in its tab (unread, a bell when
 * the tab is not shown), the marks of sent lines, and why a conversation ended (a second chat
 * with a peer already in one: that chat's tab is shown).
 */
import {
  actionOf,
  type ClientUpdate,
  type Conversation,
  neverOpened,
  type OutgoingMessage,
  type PresenceUpdate,
  peerName,
  texts,
} from '@netchat/client';
import { formatAddress, terminalSafe } from '@netchat/core';
import { HISTORY_LINES, HistoryPages } from './history-pages.js';
import type { Tab } from './tab.js';
import type { ChatLine } from './tab-log.js';
import type { TuiModel } from './tui-model.js';

export class ClientUpdates {
  /** Each sent message's line, until the message's fate is known and marked on it. */
  private readonly sentLines = new Map<OutgoingMessage, ChatLine>();

  constructor(private readonly model: TuiModel) {}

  /** `line` shows `message`: its mark follows the message's fate. */
  track(message: OutgoingMessage, line: ChatLine): void {
    this.sentLines.set(message, line);
  }

  apply(u: ClientUpdate): void {
    switch (u.type) {
      case 'request':
        this.model.bells.ringForQuestion('request');
        this.model.home.log.notice(
          `${texts.requestFromText(u.request.peer, u.request.nick)}. Alt+Y / Alt+N in the dialog, or /accept ${this.model.requests.length}.`,
        );
        this.model.home.log.notices(texts.trustNotices(u.request.trust));
        return;
      case 'request_refused':
        // A new key with the nick of a peer you verified stands out; a request declined as busy does not.
        if (u.request.trust.level === 'impersonation') this.model.home.log.warn(texts.refusedText(u.request));
        else this.model.home.log.notice(texts.refusedText(u.request));
        return;
      case 'request_gone':
        this.model.dialog.forget(u.request.session);
        this.model.home.log.notice(texts.requestGoneText(u.request, u.why));
        return;
      case 'opened':
        if (!this.reopened(u.conversation, u.how, u.resumes)) this.onOpened(u.conversation, u.how);
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
    tab.log.notices(texts.openedNotices(conversation, how));
    if (how !== 'connected' && conversation.trust) tab.log.notices(texts.trustNotices(conversation.trust));
    if (how !== 'connected') this.model.show(tab);
  }

  /**
   * A chat with a peer (the same key) whose ended tab is still there: it continues in that tab,
   * its lines above, and a /connect's own tab (its "Sending connection request…") goes. False if
   * there is no such tab.
   */
  private reopened(
    conversation: Conversation,
    how: 'connected' | 'accepted' | 'auto',
    resumes: Conversation | undefined,
  ): boolean {
    const tab = resumes ? this.model.tabOf(resumes) : undefined;
    if (tab?.state !== 'ended') return false;
    const asked = this.model.tabOf(conversation);
    const wasShown = asked !== undefined && asked === this.model.currentTab;
    if (asked) this.model.removeTab(asked);
    tab.reopen(conversation);
    tab.log.notice(texts.reopenedText(conversation));
    tab.log.notices(texts.openedNotices(conversation, how));
    if (how !== 'connected' && conversation.trust) tab.log.notices(texts.trustNotices(conversation.trust));
    if (how !== 'connected' || wasShown) this.model.show(tab);
    return true;
  }

  /**
   * The last lines of earlier conversations with this key, dimmed, above everything the tab
   * shows so far (a /connect's "Sending connection request…" included): their heading first,
   * then the lines, then this chat. Older ones come as the tab is scrolled up (HistoryPages).
   */
  private showHistory(tab: Tab, conversation: Conversation): void {
    const history = this.model.settings.history;
    if (!history?.enabled || conversation.publicKey === undefined) return;
    const pages = new HistoryPages(
      history,
      conversation.publicKey,
      {
        own: () => this.model.nick || 'you',
        peer: peerName('', conversation.trust?.fingerprint ?? ''),
      },
      this.model.clock,
    );
    try {
      if (pages.open(tab.log, HISTORY_LINES)) tab.history = pages;
    } catch (error) {
      tab.log.warn(`Chat history could not be read: ${(error as Error).message}`);
    }
  }

  presence(u: PresenceUpdate): void {
    const tab = this.model.tabOf(u.conversation);
    if (tab && u.type === 'nick') tab.log.notices(texts.nickChangeNotices(u));
    this.model.settings.onChange?.();
  }

  private onMessage(conversation: Conversation, text: string): void {
    const tab = this.model.tabOf(conversation);
    if (!tab) return;
    // Never an empty name: a peer with no nick is the first group of its fingerprint.
    const sender = peerName(tab.nick, tab.fingerprint) || (tab.peer ? formatAddress(tab.peer) : 'peer');
    const action = actionOf(text);
    tab.log.add({
      kind: action === undefined ? 'peer' : 'peer_action',
      sender: terminalSafe(sender),
      text: terminalSafe(action ?? text),
    });
    if (tab !== this.model.currentTab) {
      tab.unread++;
      this.model.bells.ringLater();
    }
  }

  private onEnded(conversation: Conversation): void {
    const tab = this.model.tabOf(conversation);
    if (!tab) return;
    const notice = texts.endedNotice(conversation);
    const why = conversation.ended;
    if (why?.kind === 'duplicate') {
      // Not asked: the peer is already in a chat (or a request) with us. Its tab instead.
      const existing = this.model.tabOf(why.existing);
      this.model.removeTab(tab);
      const shown = existing ?? this.model.home;
      this.model.show(shown);
      shown.log.notice(existing ? `${notice.text.replace(/\.$/, '')}: this tab.` : notice.text);
      return;
    }
    if (neverOpened(conversation)) {
      // A request that came to nothing (refused, unanswered, cancelled, bad address) was never a
      // chat: its tab goes, and why is said on the home tab.
      const wasCurrent = tab === this.model.currentTab;
      this.model.removeTab(tab);
      if (wasCurrent) this.model.selectTab(0);
      this.model.home.log.notices([notice]);
      return;
    }
    // A chat found lost by a check (its peer asked again from a new port) missed no heartbeat.
    const text =
      why?.kind === 'lost' && why.missed > 0 ? `${texts.missedText(why.missed)}. ${notice.text}` : notice.text;
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

/**
 * The TUI's state and logic, with no terminal in it: tabs (a home tab plus one per
 * conversation), the request dialog, the input line, what each conversation shows (with
 * pending / delivered / not confirmed marks), unread counts and the text of the status and tab
 * bars. The conversations, the queue of waiting requests, message fates, trust and the wording
 * come from @netchat/client's ChatClient, shared with the CLI; each tab shows one conversation.
 * The view renders this model; the app feeds it peer events and key presses.
 */
import {
  ChatClient,
  type ClientUpdate,
  type Conversation,
  type MessageStatus,
  type OutgoingMessage,
  type PeerPort as ClientPort,
  texts,
  type WaitingRequest,
} from '@netchat/client';
import {
  type Address,
  formatAddress,
  type NetchatEvent,
  type PeerTrust,
  type SessionId,
  terminalSafe,
} from '@netchat/core';
import { type Command, parseInput } from './commands.js';
import { LineEditor } from './line-editor.js';

/**
 * What the model needs from the peer: what the shared client needs (NetchatPeer offers it), and
 * the TUI's own extras. NetchatPeer in the app, a fake in tests.
 */
export interface PeerPort extends ClientPort {
  setNick(nick: string): void;
  /** The peer's clock (ms), the one SessionInfo.lastHeard is on. */
  now(): number;
  quit(): void;
  /** Our own key's fingerprint. */
  fingerprint(): string;
  /** Whether a peer's key is known (trust on first use). */
  trust(publicKey: string, nick: string): PeerTrust;
  /** Trusts a peer's key from now on. */
  remember(publicKey: string, nick: string, fingerprint: string): void;
}

/** A sent line's mark: the fate of its message (the client's MessageStatus). */
export type Mark = MessageStatus;
export type LineKind = 'own' | 'peer' | 'own_action' | 'peer_action' | 'notice' | 'warning';

export interface ChatLine {
  readonly time: Date;
  readonly kind: LineKind;
  readonly sender: string;
  readonly text: string;
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
  /** Rows scrolled up from the bottom; 0 follows new lines. */
  scrollUp: number;
  /** The text typed for `/connect`, shown until the address is resolved. */
  label: string;
  /** The client's conversation this tab shows. */
  conversation?: Conversation;
}

export type { WaitingRequest } from '@netchat/client';

export interface TabBarEntry {
  readonly label: string;
  readonly current: boolean;
  readonly unread: number;
  readonly ended: boolean;
}

export interface ModelSettings {
  nick: string;
  /** Where we listen, as shown in the status bar. */
  localAddress: string;
  /** Accept every request (--yes). */
  acceptAll: boolean;
  verbose: boolean;
  clock?: () => Date;
  /** How /connect reads a peer (default: IP PORT only). */
  peerFrom?: (text: string) => import('@netchat/core').PeerSpec;
}

const ACTION_PREFIX = '/me ';
const MAX_LINES_PER_TAB = 5000;

export class TuiModel {
  readonly tabs: Tab[];
  current = 0;
  /** Conversations, waiting requests, message fates and trust: shared with the CLI. */
  readonly client: ChatClient;
  /** Requests whose dialog was put aside with Esc: answered later with /accept N. */
  private readonly dismissed = new Set<SessionId>();
  helpOpen = false;
  readonly editor = new LineEditor();
  nick: string;
  private readonly clock: () => Date;
  private readonly sentLines = new Map<OutgoingMessage, ChatLine>();
  private nextTabId = 1;

  constructor(
    private readonly port: PeerPort,
    private readonly settings: ModelSettings,
  ) {
    this.nick = settings.nick;
    this.clock = settings.clock ?? (() => new Date());
    this.client = new ChatClient(
      port,
      {
        check: (key, nick) => port.trust(key, nick),
        remember: (key, nick, print) => port.remember(key, nick, print),
      },
      { acceptAll: settings.acceptAll, clock: () => this.clock().getTime() },
    );
    this.client.subscribe((u) => this.onUpdate(u));
    this.tabs = [this.makeTab('home', 'home')];
    this.notice(
      this.home,
      `netchat: listening on ${settings.localAddress}. /connect IP PORT to chat, F1 for help.`,
    );
  }

  get currentTab(): Tab {
    return this.tabs[this.current] as Tab;
  }

  private get home(): Tab {
    return this.tabs[0] as Tab;
  }

  /** The requests waiting for an answer, oldest first. */
  get requests(): readonly WaitingRequest[] {
    return this.client.requests.list();
  }

  /** The request the dialog asks about, if any. */
  get dialogRequest(): WaitingRequest | undefined {
    return this.requests.find((r) => !this.dismissed.has(r.session));
  }

  // ---- input --------------------------------------------------------------------------------

  /** Enter: run what is on the input line. */
  submit(): void {
    this.run(parseInput(this.editor.take(), this.settings.peerFrom));
  }

  run(command: Command): void {
    const tab = this.currentTab;
    switch (command.name) {
      case 'nothing':
        return;
      case 'say':
        this.sendText(tab, command.text, false);
        return;
      case 'me':
        this.sendText(tab, command.action, true);
        return;
      case 'connect':
        this.connect(command.peer.host, command.peer.port);
        return;
      case 'accept':
      case 'decline':
        this.answer(this.requests[command.index - 1], command.name === 'accept', command.index);
        return;
      case 'requests':
        this.listRequests(tab);
        return;
      case 'close':
      case 'exit_session':
        this.closeTab(tab, command.name === 'close');
        return;
      case 'nick':
        this.changeNick(tab, command.nick);
        return;
      case 'clear':
        tab.lines = [];
        tab.scrollUp = 0;
        return;
      case 'help':
        this.helpOpen = true;
        return;
      case 'whoami':
        this.notice(tab, `You are ${this.nick || '(no nick)'} on ${this.settings.localAddress}.`);
        this.notice(tab, `Your fingerprint: ${this.port.fingerprint()}`);
        return;
      case 'quit':
        this.notice(tab, 'Closing every session…');
        this.port.quit();
        return;
      case 'invalid':
        this.warn(tab, command.message);
        return;
    }
  }

  /** y / n in the request dialog. */
  answerDialog(accept: boolean): void {
    const request = this.dialogRequest;
    if (request) this.answer(request, accept, this.requests.indexOf(request) + 1);
  }

  /** Esc on the dialog: leave the request waiting. */
  dismissDialog(): void {
    const request = this.dialogRequest;
    if (!request) return;
    this.dismissed.add(request.session);
    this.notice(
      this.home,
      `Request from ${texts.spaced(request.peer)} is waiting: /accept or /decline (see /requests).`,
    );
  }

  nextTab(): void {
    this.selectTab((this.current + 1) % this.tabs.length);
  }

  previousTab(): void {
    this.selectTab((this.current - 1 + this.tabs.length) % this.tabs.length);
  }

  selectTab(index: number): void {
    if (index < 0 || index >= this.tabs.length) return;
    this.current = index;
    this.currentTab.unread = 0;
  }

  /** Scrolls the current tab by `rows` (positive: back in time). The view clamps it. */
  scroll(rows: number): void {
    const tab = this.currentTab;
    tab.scrollUp = Math.max(0, tab.scrollUp + rows);
  }

  // ---- peer events --------------------------------------------------------------------------

  onEvent(e: NetchatEvent): void {
    this.client.handle(e);
  }

  private onUpdate(u: ClientUpdate): void {
    switch (u.type) {
      case 'request':
        this.onRequest(u.request);
        return;
      case 'request_refused':
        this.notice(this.home, texts.refusedText(u.request));
        return;
      case 'request_gone':
        this.dismissed.delete(u.request.session);
        this.notice(this.home, texts.requestGoneText(u.request, u.why));
        return;
      case 'opened':
        this.onOpened(u.conversation, u.how);
        return;
      case 'ended': {
        const tab = this.tabOf(u.conversation);
        if (!tab || tab.state === 'ended') return;
        tab.state = 'ended';
        tab.missed = 0;
        tab.peer ??= u.conversation.peer;
        const why = u.conversation.ended;
        const notice = texts.endedNotice(u.conversation);
        const text = why?.kind === 'lost' ? `${texts.missedText(why.missed)}. ${notice.text}` : notice.text;
        if (notice.warning) this.warn(tab, text);
        else this.notice(tab, text);
        return;
      }
      case 'message':
        this.onMessage(u.conversation, u.text);
        return;
      case 'delivered':
      case 'not_delivered':
        this.markSent(u.message);
        return;
      case 'room':
        return;
      case 'heartbeat_sent':
        if (this.settings.verbose && u.conversation.peer) {
          const tab = this.tabOf(u.conversation);
          if (tab) this.notice(tab, texts.heartbeatSentText(u.conversation.peer));
        }
        return;
      case 'heartbeat_missed': {
        const tab = this.tabOf(u.conversation);
        if (tab) tab.missed = u.count;
        return;
      }
      default: {
        // The compiler flags an update type this switch does not handle.
        const unhandled: never = u;
        void unhandled;
      }
    }
  }

  // ---- what the view shows ------------------------------------------------------------------

  /** The status bar: who you are, who this tab talks to, and how the link is doing. */
  statusBar(moreBelow: boolean): string {
    const me = `${this.nick || 'you'}@${this.settings.localAddress}`;
    const tab = this.currentTab;
    const parts = [me];
    if (tab.state === 'home') {
      const chats = this.tabs.filter((t) => t.state === 'open').length;
      parts.push('home', `${chats} chat${chats === 1 ? '' : 's'}`);
      if (this.requests.length > 0) parts.push(`${this.requests.length} waiting (/requests)`);
    } else {
      const who = tab.peerNick
        ? `${terminalSafe(tab.peerNick)} ${tab.peer ? formatAddress(tab.peer) : tab.label}`
        : tab.peer
          ? formatAddress(tab.peer)
          : tab.label;
      parts.push(who, tab.state);
      const info = tab.session === undefined ? undefined : this.port.session(tab.session);
      if (tab.state === 'open' && info) {
        parts.push(info.rtt === undefined ? 'rtt –' : `rtt ${Math.round(info.rtt)} ms`);
        parts.push(`heard ${formatAge(this.port.now() - info.lastHeard)} ago`);
        if (tab.missed > 0) parts.push(`⚠ ${tab.missed} heartbeat${tab.missed === 1 ? '' : 's'} missed`);
      }
    }
    if (moreBelow) parts.push('▼ more below');
    return parts.join(' │ ');
  }

  tabBar(): TabBarEntry[] {
    return this.tabs.map((tab, index) => ({
      label: `${index} ${tab.state === 'home' ? 'home' : tab.peerNick ? terminalSafe(tab.peerNick) : tab.peer ? formatAddress(tab.peer) : tab.label}`,
      current: index === this.current,
      unread: tab.unread,
      ended: tab.state === 'ended',
    }));
  }

  // ---- internals ----------------------------------------------------------------------------

  private onRequest(request: WaitingRequest): void {
    this.notice(
      this.home,
      `Connection request from: ${texts.who(request.peer, request.nick)}. y/n in the dialog, or /accept ${this.requests.length}.`,
    );
    this.showNotices(this.home, texts.trustNotices(request.trust));
  }

  private onOpened(conversation: Conversation, how: 'connected' | 'accepted' | 'auto'): void {
    if (how === 'connected') {
      const tab = this.tabOf(conversation);
      if (!tab) return;
      tab.session = conversation.session;
      tab.peer = conversation.peer;
      tab.state = 'open';
      tab.peerNick = conversation.nick;
      this.showNotices(tab, texts.openedNotices(conversation, how));
      return;
    }
    const tab = this.makeTab('open', formatAddress(conversation.peer ?? conversation.target));
    Object.assign(tab, {
      session: conversation.session,
      peer: conversation.peer,
      peerNick: conversation.nick,
      conversation,
    });
    this.tabs.push(tab);
    this.showNotices(tab, texts.openedNotices(conversation, how));
    if (conversation.trust) this.showNotices(tab, texts.trustNotices(conversation.trust));
    this.selectTab(this.tabs.length - 1);
  }

  private showNotices(tab: Tab, notices: texts.Notice[]): void {
    for (const notice of notices) {
      if (notice.warning) this.warn(tab, notice.text);
      else this.notice(tab, notice.text);
    }
  }

  private answer(request: WaitingRequest | undefined, accept: boolean, index: number): void {
    if (!request) {
      this.warn(this.currentTab, `no waiting request ${index}: see /requests`);
      return;
    }
    this.dismissed.delete(request.session);
    if (accept) {
      this.client.accept(request);
    } else {
      this.client.decline(request);
      this.notice(this.home, `Declined the request from ${texts.spaced(request.peer)}.`);
    }
  }

  private listRequests(tab: Tab): void {
    if (this.requests.length === 0) {
      this.notice(tab, 'No requests are waiting.');
      return;
    }
    this.requests.forEach((r, i) => {
      this.notice(tab, `${i + 1}. ${texts.who(r.peer, r.nick)} since ${clockTime(new Date(r.since))}`);
    });
  }

  private connect(host: string, port: number): void {
    const tab = this.makeTab('connecting', `${host}:${port}`);
    this.tabs.push(tab);
    this.selectTab(this.tabs.length - 1);
    this.notice(tab, texts.connectingText({ host, port }).replace(/\.\.\.$/, '…'));
    // The outcome (opened, or ended: a bad address, no answer, declined) comes as an update.
    tab.conversation = this.client.connect({ host, port });
  }

  private sendText(tab: Tab, text: string, action: boolean): void {
    if (tab.state !== 'open' || tab.conversation === undefined) {
      const hint =
        tab.state === 'home'
          ? 'this is the home tab: /connect IP PORT to chat'
          : `this session is ${tab.state}`;
      this.warn(tab, `Not sent: ${hint}.`);
      return;
    }
    try {
      const message = this.client.send(tab.conversation, action ? `${ACTION_PREFIX}${text}` : text);
      const line = this.add(tab, {
        kind: action ? 'own_action' : 'own',
        sender: this.nick || 'you',
        text,
        mark: 'pending',
      });
      this.sentLines.set(message, line);
      tab.scrollUp = 0;
    } catch (error) {
      this.warn(tab, `Not sent: ${(error as Error).message}`);
    }
  }

  private onMessage(conversation: Conversation, text: string): void {
    const tab = this.tabOf(conversation);
    if (!tab) return;
    const sender = tab.peerNick || (tab.peer ? formatAddress(tab.peer) : 'peer');
    const action = text.startsWith(ACTION_PREFIX);
    this.add(tab, {
      kind: action ? 'peer_action' : 'peer',
      sender: terminalSafe(sender),
      text: terminalSafe(action ? text.slice(ACTION_PREFIX.length) : text),
    });
    tab.missed = 0;
    if (tab !== this.currentTab) tab.unread++;
  }

  private markSent(message: OutgoingMessage): void {
    const line = this.sentLines.get(message);
    if (!line) return;
    line.mark = message.status;
    this.sentLines.delete(message);
  }

  private closeTab(tab: Tab, removeIfEnded: boolean): void {
    if (tab.state === 'home') {
      this.warn(tab, 'The home tab has no session to close.');
      return;
    }
    if (tab.state === 'ended') {
      if (removeIfEnded) this.removeTab(tab);
      else this.warn(tab, 'This session has ended; /close closes the tab.');
      return;
    }
    // The client says how it ended ("Closing session with peer...", or a withdrawn request).
    if (tab.conversation) this.client.close(tab.conversation);
  }

  private removeTab(tab: Tab): void {
    const index = this.tabs.indexOf(tab);
    this.tabs.splice(index, 1);
    this.selectTab(Math.min(index, this.tabs.length - 1));
  }

  private changeNick(tab: Tab, nick: string): void {
    try {
      this.port.setNick(nick);
      this.nick = nick;
      this.notice(tab, `You are now ${terminalSafe(nick)} (sent with new requests and accepts).`);
    } catch (error) {
      this.warn(tab, (error as Error).message);
    }
  }

  private tabOf(conversation: Conversation): Tab | undefined {
    return this.tabs.find((t) => t.conversation === conversation);
  }

  private makeTab(state: TabState, label: string): Tab {
    return { id: this.nextTabId++, peerNick: '', state, lines: [], unread: 0, missed: 0, scrollUp: 0, label };
  }

  private notice(tab: Tab, text: string): void {
    this.add(tab, { kind: 'notice', sender: '', text });
  }

  private warn(tab: Tab, text: string): void {
    this.add(tab, { kind: 'warning', sender: '', text });
  }

  private add(tab: Tab, line: Omit<ChatLine, 'time'>): ChatLine {
    const full: ChatLine = { ...line, time: this.clock() };
    tab.lines.push(full);
    if (tab.lines.length > MAX_LINES_PER_TAB) tab.lines.splice(0, tab.lines.length - MAX_LINES_PER_TAB);
    return full;
  }
}

export function clockTime(time: Date): string {
  return time.toTimeString().slice(0, 5);
}

function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m`;
}

/**
 * The TUI's state and logic, with no terminal in it: tabs (a home tab plus one per
 * conversation), the request dialog, the input line, what each conversation shows (with
 * pending / delivered / not confirmed marks), unread counts and the text of the status and tab
 * bars. The conversations, the queue of waiting requests, message fates, trust and the wording
 * come from @netchat/client's ChatClient, shared with the CLI; each tab shows one conversation.
 * The view renders this model; the app feeds it peer events and key presses.
 */
import {
  type ChatHistory,
  ChatClient,
  type ClientTimers,
  ContactError,
  type ClientUpdate,
  findContact,
  type Conversation,
  neverOpened,
  type OutgoingMessage,
  type PeerPort as ClientPort,
  portOf,
  type PresenceUpdate,
  texts,
  type WaitingRequest,
} from '@netchat/client';
import {
  type Address,
  formatAddress,
  isRelayed,
  type KnownPeer,
  type NetchatEvent,
  type PeerTrust,
  type SessionId,
  terminalSafe,
} from '@netchat/core';
import { ACTION_PREFIX, COMMAND_NAMES, type Command, parseInput } from './commands.js';
import { Completer } from './completion.js';
import { InputHistory, LineEditor } from './line-editor.js';
import { historyLines } from './history-lines.js';
import { scrollAnchor, topAnchor, type Viewport } from './scroll.js';
import { SEPARATOR, type StatusField } from './status-fields.js';
import {
  type ChatLine,
  clockTime,
  fingerprintOf,
  newTab,
  shortPrint,
  type Tab,
  type TabState,
} from './tab.js';
import type { TabBarEntry } from './tab-bar.js';

/**
 * What the model needs from the peer: what the shared client needs (NetchatPeer offers it), and
 * the TUI's own extras. NetchatPeer in the app, a fake in tests.
 */
export interface PeerPort extends ClientPort {
  /** The peer's clock (ms), the one SessionInfo.lastHeard is on. */
  now(): number;
  quit(): void;
  /** Our own key's fingerprint. */
  fingerprint(): string;
  /** Whether a peer's key is known (trust on first use). */
  trust(publicKey: string, nick: string): PeerTrust;
  /** Trusts a peer's key from now on, seen now at `seen.address`. */
  remember(publicKey: string, nick: string, fingerprint: string, seen?: { address?: Address }): void;
  /** The known peers (contacts), most recently seen first. */
  contacts(): readonly KnownPeer[];
}

export type { ChatLine, LineKind, Mark, Tab, TabState } from './tab.js';
export { clockTime } from './tab.js';

export type { WaitingRequest } from '@netchat/client';

export type { TabBarEntry } from './tab-bar.js';

export interface ModelSettings {
  nick: string;
  /** Where we listen, as shown in the status bar. */
  localAddress: string;
  /** Accept every request (--yes). */
  acceptAll: boolean;
  verbose: boolean;
  /** Ring the terminal bell for requests and for messages in other tabs (--no-bell: off). */
  bell?: boolean;
  /** Where conversations are logged, per peer key; shown (dimmed) when a chat with a known peer opens. */
  history?: ChatHistory;
  /** Called when something changes without a peer event (a peer's typing expired): redraw. */
  onChange?: () => void;
  /** The timer that ends a peer's typing (real timers by default; virtual ones in tests). */
  timers?: ClientTimers;
  clock?: () => Date;
  /** How /connect reads a peer (default: IP PORT only). */
  peerFrom?: (text: string) => import('@netchat/core').PeerSpec;
}

/** How many lines of history a reopened chat shows. */
export const HISTORY_LINES = 10;
const MAX_LINES_PER_TAB = 10_000;

export class TuiModel {
  readonly tabs: Tab[];
  current = 0;
  /** Conversations, waiting requests, message fates and trust: shared with the CLI. */
  readonly client: ChatClient;
  /** Requests whose dialog was put aside with Esc: answered later with /accept N. */
  private readonly dismissed = new Set<SessionId>();
  helpOpen = false;
  /** Ctrl+C with chats open: the question "close them all and quit?" is up. */
  confirmingQuit = false;
  bell: boolean;
  /** Bells asked for since the view last rang (it rings once per redraw at most). */
  private bellsDue = 0;
  /** The open tab a /connect turned out to be for, once its address was resolved. */
  private twin: Tab | undefined;
  /** The last submitted text was refused (not sent): it goes back into the input. */
  private refused = false;
  private readonly history = new InputHistory();
  readonly completer = new Completer();
  nick: string;
  private readonly clock: () => Date;
  private readonly sentLines = new Map<OutgoingMessage, ChatLine>();
  private nextTabId = 1;

  constructor(
    private readonly port: PeerPort,
    private readonly settings: ModelSettings,
  ) {
    this.nick = settings.nick;
    this.bell = settings.bell ?? true;
    this.clock = settings.clock ?? (() => new Date());
    this.client = new ChatClient(
      this.guardedPort(port),
      {
        check: (key, nick) => port.trust(key, nick),
        remember: (key, nick, print, seen) => port.remember(key, nick, print, seen),
        list: () => port.contacts(),
      },
      {
        acceptAll: settings.acceptAll,
        clock: () => this.clock().getTime(),
        history: settings.history,
        timers: settings.timers,
      },
    );
    this.client.subscribe((u) => this.onUpdate(u));
    this.client.subscribePresence((u) => this.onPresence(u));
    this.tabs = [this.makeTab('home', 'home')];
    this.notice(
      this.home,
      `netchat: listening on ${settings.localAddress}. /connect IP PORT to chat, F1 for help.`,
    );
  }

  get currentTab(): Tab {
    return this.tabs[this.current] as Tab;
  }

  /** The current tab's input. */
  get editor(): LineEditor {
    return this.currentTab.editor;
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
    const editor = this.editor;
    const text = editor.take();
    this.refused = false;
    this.run(parseInput(text, this.settings.peerFrom));
    // A message that could not be sent (too large, chat not open) goes back to the input: nothing typed is lost.
    if (this.refused && editor.length === 0) editor.insert(text);
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
      case 'connect_contact':
        this.connectContact(tab, command.contact);
        return;
      case 'contacts':
        this.listContacts(tab);
        return;
      case 'log':
        this.setLog(tab, command.on);
        return;
      case 'accept':
      case 'decline':
        this.answer(this.requests[command.index - 1], command.name === 'accept', command.index);
        return;
      case 'requests':
        this.listRequests(tab);
        return;
      case 'list':
        this.listTabs(tab);
        return;
      case 'bell':
        this.bell = command.on;
        this.notice(tab, `Bell ${command.on ? 'on' : 'off'} for requests and messages in other tabs.`);
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
        tab.anchor = undefined;
        return;
      case 'help':
        this.helpOpen = true;
        return;
      case 'whoami':
        this.notice(tab, `You are ${this.nick || '(no nick)'} on ${this.settings.localAddress}.`);
        this.notice(tab, `Your fingerprint: ${this.port.fingerprint()}`);
        return;
      case 'quit':
        this.confirmingQuit = false;
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
    const leaving = this.tabs[this.current]?.conversation;
    if (index !== this.current && leaving?.state === 'open') this.client.stopTyping(leaving);
    this.current = index;
    this.currentTab.unread = 0;
  }

  /** Scrolls the current tab by `rows` (positive: back in time); new lines then leave the view still. */
  scroll(rows: number, view: Viewport): void {
    const tab = this.currentTab;
    if (tab.anchor === undefined) tab.seenSeq = tab.nextSeq - 1;
    tab.anchor = scrollAnchor(tab.lines, tab.anchor, rows, view);
  }

  /** Home: to the oldest line kept. */
  scrollToTop(view: Viewport): void {
    const tab = this.currentTab;
    if (tab.anchor === undefined) tab.seenSeq = tab.nextSeq - 1;
    tab.anchor = topAnchor(tab.lines, view);
  }

  /** End: back to the newest line, following again. */
  scrollToBottom(): void {
    this.currentTab.anchor = undefined;
  }

  /** Lines that arrived below the view since it was scrolled back (0 when following). */
  newBelow(tab = this.currentTab): number {
    return tab.anchor === undefined ? 0 : tab.nextSeq - 1 - tab.seenSeq;
  }

  /** A bracketed paste: inserted whole (line breaks kept), unless a dialog has the keyboard. */
  paste(text: string): void {
    if (this.helpOpen || this.confirmingQuit || this.dialogRequest) return;
    this.completer.reset();
    this.editor.insert(text);
  }

  /**
   * The draft of the current tab changed (a key typed or deleted, a paste): tells the peer we
   * type (the client paces it), or that we stopped when the draft is empty again.
   */
  typed(): void {
    const c = this.currentTab.conversation;
    if (c?.state !== 'open') return;
    // A command being typed is not a message being written.
    const writing = this.editor.length > 0 && this.editor.first !== '/';
    if (writing) this.client.notifyTyping(c);
    else this.client.stopTyping(c);
  }

  /** Tab: complete the command or nick before the cursor. */
  complete(): void {
    const nicks = [...this.tabs.map((t) => t.peerNick), ...this.port.contacts().map((c) => c.nick)].filter(
      (n) => n !== '',
    );
    this.completer.complete(this.editor, COMMAND_NAMES, nicks);
  }

  /** Ctrl+C: quit at once with no chat open, or ask first. */
  askToQuit(): void {
    const open = this.tabs.filter((t) => t.state === 'open' || t.state === 'connecting').length;
    if (open === 0 || this.confirmingQuit) this.run({ name: 'quit' });
    else this.confirmingQuit = true;
  }

  answerQuit(yes: boolean): void {
    if (yes) this.run({ name: 'quit' });
    else this.confirmingQuit = false;
  }

  /** The number of open and connecting chats Ctrl+C would close. */
  get openChats(): number {
    return this.tabs.filter((t) => t.state === 'open' || t.state === 'connecting').length;
  }

  /** Whether to ring the bell now (once for all that asked since the last time). */
  takeBell(): boolean {
    const due = this.bellsDue > 0 && this.bell;
    this.bellsDue = 0;
    return due;
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

  /**
   * The status bar: who you are, who this tab talks to, and how the link is doing, each field
   * ranked so a narrow screen drops the least important first (see fitStatus).
   */
  statusFields(): StatusField[] {
    const tab = this.currentTab;
    const fields: StatusField[] = [{ text: `${this.nick || 'you'}@${this.settings.localAddress}`, rank: 1 }];
    if (tab.state === 'home') {
      const chats = this.tabs.filter((t) => t.state === 'open').length;
      fields.push({ text: 'home', rank: 6 }, { text: `${chats} chat${chats === 1 ? '' : 's'}`, rank: 3 });
      if (this.requests.length > 0)
        fields.push({ text: `${this.requests.length} waiting (/requests)`, rank: 7 });
    } else {
      if (tab.peerNick) fields.push({ text: this.labelOf(tab), rank: 5 });
      fields.push({ text: tab.peer ? formatAddress(tab.peer) : tab.label, rank: tab.peerNick ? 2 : 5 });
      fields.push({ text: tab.state, rank: 8 });
      if (tab.conversation && this.client.peerTyping(tab.conversation))
        fields.push({ text: texts.typingText(tab.conversation), rank: 7 });
      const info = tab.session === undefined ? undefined : this.port.session(tab.session);
      if (tab.state === 'open' && info) {
        // How the datagrams travel: straight to the peer, or through the rendezvous's relay
        // (still sealed end to end); it changes when a direct path opens later.
        fields.push({ text: isRelayed(info.peer) ? 'relayed' : 'direct', rank: 6 });
        fields.push({ text: info.rtt === undefined ? 'rtt –' : `rtt ${Math.round(info.rtt)} ms`, rank: 4 });
        fields.push({ text: `heard ${formatAge(this.port.now() - info.lastHeard)} ago`, rank: 3 });
        // Live from the session: it is back to 0 as soon as any datagram of the peer arrives.
        const missed = info.missedHeartbeats;
        if (missed > 0)
          fields.push({ text: `⚠ ${missed} heartbeat${missed === 1 ? '' : 's'} missed`, rank: 9 });
      }
    }
    const below = this.newBelow(tab);
    if (tab.anchor !== undefined)
      fields.push({
        text: below > 0 ? `▼ ${below} new line${below === 1 ? '' : 's'} below (End)` : '▼ more below',
        rank: 10,
      });
    return fields;
  }

  /** The status bar's full text (the view fits it to the width). */
  statusBar(): string {
    return this.statusFields()
      .map((f) => f.text)
      .join(SEPARATOR);
  }

  tabBar(): TabBarEntry[] {
    return this.tabs.map((tab, index) => ({
      label: `${index} ${tab.state === 'home' ? 'home' : this.labelOf(tab)}`,
      current: index === this.current,
      unread: tab.unread,
      waiting: tab.state === 'home' ? this.requests.length : 0,
      ended: tab.state === 'ended',
    }));
  }

  /**
   * A tab's name: the peer's nick, with a short fingerprint when another tab or a waiting
   * request uses the same nick with another key (every bot used to be "netchat-bot").
   */
  labelOf(tab: Tab): string {
    if (!tab.peerNick) return tab.peer ? formatAddress(tab.peer) : tab.label;
    const nick = terminalSafe(tab.peerNick);
    const print = fingerprintOf(tab);
    if (!print) return nick;
    const clash =
      this.tabs.some((t) => t !== tab && t.peerNick === tab.peerNick && fingerprintOf(t) !== print) ||
      this.requests.some((r) => r.nick === tab.peerNick && r.fingerprint !== print);
    return clash ? `${nick}#${shortPrint(print)}` : nick;
  }

  /** The request's nick, with a short fingerprint when a tab or another request uses the same one. */
  requestNick(request: WaitingRequest): string {
    const nick = terminalSafe(request.nick);
    const clash =
      this.tabs.some((t) => t.peerNick === request.nick && fingerprintOf(t) !== request.fingerprint) ||
      this.requests.some(
        (r) => r !== request && r.nick === request.nick && r.fingerprint !== request.fingerprint,
      );
    return clash ? `${nick}#${shortPrint(request.fingerprint)}` : nick;
  }

  // ---- internals ----------------------------------------------------------------------------

  private onRequest(request: WaitingRequest): void {
    this.bellsDue++;
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
      this.showHistory(tab, conversation);
      this.showNotices(tab, texts.openedNotices(conversation, how));
      return;
    }
    const tab = this.makeTab('open', formatAddress(conversation.peer ?? conversation.target));
    Object.assign(tab, {
      session: conversation.session,
      peer: conversation.peer,
      peerNick: conversation.nick,
      conversation,
    } satisfies Partial<Tab>);
    this.tabs.push(tab);
    this.showHistory(tab, conversation);
    this.showNotices(tab, texts.openedNotices(conversation, how));
    if (conversation.trust) this.showNotices(tab, texts.trustNotices(conversation.trust));
    this.selectTab(this.tabs.length - 1);
  }

  /** The last lines of earlier conversations with this key, dimmed, before the new one starts. */
  private showHistory(tab: Tab, conversation: Conversation): void {
    const history = this.settings.history;
    if (!history?.enabled || conversation.publicKey === undefined) return;
    let entries: ReturnType<ChatHistory['recent']>;
    try {
      entries = history.recent(conversation.publicKey, HISTORY_LINES);
    } catch (error) {
      this.warn(tab, `Chat history could not be read: ${(error as Error).message}`);
      return;
    }
    for (const line of historyLines(entries, this.nick || 'you', this.clock()))
      tab.lines.push({ ...line, seq: tab.nextSeq++ });
    if (entries.length > 0) this.notice(tab, `(the last ${entries.length} lines of earlier chats, dimmed)`);
  }

  private onPresence(u: PresenceUpdate): void {
    const tab = this.tabOf(u.conversation);
    if (tab && u.type === 'nick') {
      tab.peerNick = u.nick;
      this.showNotices(tab, texts.nickChangeNotices(u));
    }
    this.settings.onChange?.();
  }

  private connectContact(tab: Tab, name: string): void {
    try {
      const contact = findContact(this.port.contacts(), name);
      this.connect(contact.lastAddress.host, contact.lastAddress.port);
    } catch (error) {
      if (!(error instanceof ContactError)) throw error;
      this.warn(tab, error.message);
    }
  }

  private listContacts(tab: Tab): void {
    const contacts = this.port.contacts();
    if (contacts.length === 0) {
      this.notice(tab, 'No known peers yet: they are added as you chat.');
      return;
    }
    for (const contact of contacts) this.notice(tab, texts.contactText(contact));
  }

  private setLog(tab: Tab, on: boolean | undefined): void {
    const history = this.settings.history;
    if (!history) {
      this.warn(tab, 'Chat history is not available in this run.');
      return;
    }
    try {
      if (on !== undefined) history.setEnabled(on);
    } catch (error) {
      this.warn(tab, `Could not change the history setting: ${(error as Error).message}`);
      return;
    }
    this.notice(
      tab,
      history.enabled
        ? `Chat history is on: conversations are logged in ${history.directory} (/log off stops it).`
        : 'Chat history is off: nothing is logged (/log on starts it).',
    );
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

  private listTabs(tab: Tab): void {
    if (this.tabs.length === 1) {
      this.notice(tab, 'No conversations: /connect IP PORT to start one.');
      return;
    }
    this.tabs.forEach((t, i) => {
      if (t.state === 'home') return;
      const info = t.session === undefined ? undefined : this.port.session(t.session);
      const details = [
        t.peer ? formatAddress(t.peer) : t.label,
        t.state,
        t.state === 'open' && info?.rtt !== undefined ? `rtt ${Math.round(info.rtt)} ms` : '',
        t.unread > 0 ? `${t.unread} unread` : '',
      ].filter(Boolean);
      this.notice(tab, `${i}. ${t.peerNick ? this.labelOf(t) : '(no nick)'}: ${details.join(', ')}`);
    });
  }

  /** A tab already talking to (or asking) this address, if any. */
  private tabFor(host: string, port: number): Tab | undefined {
    const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
    return this.tabs.find((t) => {
      if (t.state !== 'open' && t.state !== 'connecting') return false;
      const at = t.peer ?? t.conversation?.target;
      return at !== undefined && at.port === port && at.host.toLowerCase() === bare;
    });
  }

  private connect(host: string, port: number): void {
    const open = this.tabFor(host, port);
    if (open) {
      this.selectTab(this.tabs.indexOf(open));
      this.notice(
        open,
        `Already ${open.state === 'open' ? 'chatting with' : 'asking'} ${host} ${port}: this tab.`,
      );
      return;
    }
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
      this.refused = true;
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
      tab.anchor = undefined;
    } catch (error) {
      this.refused = true;
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
    if (tab !== this.currentTab) {
      tab.unread++;
      this.bellsDue++;
    }
  }

  /**
   * The peer as the client sees it, but for one check once a /connect's address is resolved: a
   * peer that already has an open tab (typed differently, `localhost` for `127.0.0.1`) is not
   * asked again; the dial fails and that tab is shown instead (see onEnded).
   */
  private guardedPort(port: PeerPort): ClientPort {
    return {
      ...portOf(port),
      connectTo: (address) => {
        const twin = this.tabFor(address.host, address.port);
        if (twin && twin.conversation?.state === 'open') {
          this.twin = twin;
          throw new Error(`already chatting with ${texts.spaced(address)}`);
        }
        return port.connectTo(address);
      },
    };
  }

  private onEnded(conversation: Conversation): void {
    const tab = this.tabOf(conversation);
    if (!tab || tab.state === 'ended') return;
    const notice = texts.endedNotice(conversation);
    const twin = this.twin;
    this.twin = undefined;
    if (twin && conversation.ended?.kind === 'unreachable' && this.tabs.includes(twin)) {
      this.tabs.splice(this.tabs.indexOf(tab), 1);
      this.selectTab(this.tabs.indexOf(twin));
      this.notice(
        twin,
        `Already chatting with ${texts.spaced(conversation.peer ?? conversation.target)}: this tab.`,
      );
      return;
    }
    if (neverOpened(conversation)) {
      // A request that came to nothing (refused, unanswered, cancelled, bad address) was never a
      // chat: its tab goes, and why is said on the home tab.
      const wasCurrent = tab === this.currentTab;
      this.tabs.splice(this.tabs.indexOf(tab), 1);
      if (wasCurrent) this.selectTab(0);
      else this.current = Math.min(this.current, this.tabs.length - 1);
      this.showNotices(this.home, [notice]);
      return;
    }
    tab.state = 'ended';
    tab.missed = 0;
    tab.peer ??= conversation.peer;
    const why = conversation.ended;
    const text = why?.kind === 'lost' ? `${texts.missedText(why.missed)}. ${notice.text}` : notice.text;
    if (notice.warning) this.warn(tab, text);
    else this.notice(tab, text);
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
    // The client says how it ended ("Closing session with peer...", or a withdrawn request);
    // a request withdrawn before any answer takes its tab with it (see onEnded).
    if (tab.conversation) this.client.close(tab.conversation);
  }

  private removeTab(tab: Tab): void {
    const index = this.tabs.indexOf(tab);
    this.tabs.splice(index, 1);
    this.selectTab(Math.min(index, this.tabs.length - 1));
  }

  private changeNick(tab: Tab, nick: string): void {
    try {
      this.client.setNick(nick);
      this.nick = nick;
      const open = this.tabs.filter((t) => t.state === 'open').length;
      this.notice(
        tab,
        `You are now ${terminalSafe(nick)}${open > 0 ? ` (your ${open} open chat${open === 1 ? ' is' : 's are'} told)` : ''}.`,
      );
    } catch (error) {
      this.warn(tab, (error as Error).message);
    }
  }

  private tabOf(conversation: Conversation): Tab | undefined {
    return this.tabs.find((t) => t.conversation === conversation);
  }

  private makeTab(state: TabState, label: string): Tab {
    return newTab(this.nextTabId++, state, label, new LineEditor(this.history));
  }

  private notice(tab: Tab, text: string): void {
    this.add(tab, { kind: 'notice', sender: '', text });
  }

  private warn(tab: Tab, text: string): void {
    this.add(tab, { kind: 'warning', sender: '', text });
  }

  private add(tab: Tab, line: Omit<ChatLine, 'time' | 'seq'>): ChatLine {
    const full: ChatLine = { ...line, time: this.clock(), seq: tab.nextSeq++ };
    tab.lines.push(full);
    if (tab.lines.length > MAX_LINES_PER_TAB) tab.lines.splice(0, tab.lines.length - MAX_LINES_PER_TAB);
    return full;
  }
}

function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m`;
}

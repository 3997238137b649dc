/**
 * The TUI's state, with no terminal in it: the tabs (a home tab plus one per conversation) and
 * which one is shown, the input, and what each tab shows as the client's updates come. The
 * conversations, the queue of waiting requests, message fates, trust and the wording come from
 * @netchat/client's ChatClient, shared with the CLI; each tab reads its conversation. What typed
 * commands do is in command-runner.ts, the request dialog in request-dialog.ts, the status bar in
 * status-fields.ts, the tab bar in tab-bar.ts, a tab's lines in tab-log.ts. The view renders this
 * model; the app feeds it peer events and key presses.
 */
import {
  type ChatHistory,
  ChatClient,
  type ClientTimers,
  type ClientUpdate,
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
  type KnownPeer,
  type NetchatEvent,
  type PeerSpec,
  type PeerTrust,
  terminalSafe,
} from '@netchat/core';
import { runCommand } from './command-runner.js';
import { ACTION_PREFIX, COMMAND_NAMES, type Command, parseInput } from './commands.js';
import { Completer } from './completion.js';
import { historyLines } from './history-lines.js';
import { InputHistory, LineEditor } from './line-editor.js';
import { RequestDialog } from './request-dialog.js';
import { SaveWarnings } from './save-warnings.js';
import type { Viewport } from './scroll.js';
import { type StatusField, statusFields, SEPARATOR } from './status-fields.js';
import { Tab } from './tab.js';
import { type Crowd, requestNick, type TabBarEntry, tabBarEntries, tabLabel } from './tab-bar.js';
import { type ChatLine, TabLog } from './tab-log.js';

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
  /** Trusts a peer's key from now on, seen now at `seen.address`. May throw if it cannot be saved. */
  remember(publicKey: string, nick: string, fingerprint: string, seen?: { address?: Address }): void;
  /** The known peers (contacts), most recently seen first. */
  contacts(): readonly KnownPeer[];
}

export type { ChatLine, LineKind, Mark } from './tab-log.js';
export { clockTime, Tab, type TabState } from './tab.js';
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
  peerFrom?: (text: string) => PeerSpec;
}

/** How many lines of history a reopened chat shows. */
export const HISTORY_LINES = 10;

export class TuiModel {
  readonly tabs: Tab[];
  current = 0;
  /** Conversations, waiting requests, message fates and trust: shared with the CLI. */
  readonly client: ChatClient;
  readonly dialog: RequestDialog;
  helpOpen = false;
  /** Ctrl+C with chats open: the question "close them all and quit?" is up. */
  confirmingQuit = false;
  bell: boolean;
  nick: string;
  readonly completer = new Completer();
  readonly clock: () => Date;
  /** What could not be saved in the netchat home: warnings, never a crash. */
  readonly saveWarnings = new SaveWarnings();
  /** Bells asked for since the view last rang (it rings once per redraw at most). */
  private bellsDue = 0;
  private readonly history = new InputHistory();
  private readonly sentLines = new Map<OutgoingMessage, ChatLine>();
  private nextTabId = 1;
  /** The open tab a /connect turned out to be for, once its address was resolved (see guardedPort). */
  private twin: Tab | undefined;

  constructor(
    readonly port: PeerPort,
    readonly settings: ModelSettings,
  ) {
    this.nick = settings.nick;
    this.bell = settings.bell ?? true;
    this.clock = settings.clock ?? (() => new Date());
    this.client = new ChatClient(
      this.guardedPort(port),
      {
        check: (key, nick) => port.trust(key, nick),
        remember: (key, nick, print, seen) =>
          this.saveWarnings.guard('the known peers', () => port.remember(key, nick, print, seen)),
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
    this.dialog = new RequestDialog(() => this.requests);
    this.tabs = [this.newTab()];
    this.home.log.notice(`netchat: listening on ${settings.localAddress}. /connect IP PORT to chat, F1 for help.`);
  }

  get currentTab(): Tab {
    return this.tabs[this.current] as Tab;
  }

  /** The current tab's input. */
  get editor(): LineEditor {
    return this.currentTab.editor;
  }

  get home(): Tab {
    return this.tabs[0] as Tab;
  }

  /** The requests waiting for an answer, oldest first. */
  get requests(): readonly WaitingRequest[] {
    return this.client.requests.list();
  }

  /** The request the dialog asks about, if any. */
  get dialogRequest(): WaitingRequest | undefined {
    return this.dialog.request;
  }

  /** The number of open and connecting chats Ctrl+C would close. */
  get openChats(): number {
    return this.tabs.filter((t) => t.live).length;
  }

  // ---- input --------------------------------------------------------------------------------

  /** Enter: run what is on the input line. */
  submit(): void {
    const editor = this.editor;
    const text = editor.take();
    const used = this.run(parseInput(text, this.settings.peerFrom));
    // A message that could not be sent (too large, chat not open) goes back to the input: nothing typed is lost.
    if (!used && editor.length === 0) editor.insert(text);
  }

  /** Runs a command; false if it was a message that could not be sent. */
  run(command: Command): boolean {
    const used = runCommand(this, command);
    this.showSaveWarnings();
    return used;
  }

  /** Alt+Y / Alt+N on the dialog (the view takes them only once it has been seen). */
  answerDialog(accept: boolean): void {
    const request = this.dialog.request;
    if (request) this.answer(request, accept);
  }

  /** Esc on the dialog: leave the request waiting. */
  dismissDialog(): void {
    const request = this.dialog.dismiss();
    if (request)
      this.home.log.notice(
        `Request from ${texts.spaced(request.peer)} is waiting: /accept or /decline (see /requests).`,
      );
  }

  /** Answers a waiting request (the dialog's, or /accept N's). */
  answer(request: WaitingRequest, accept: boolean): void {
    this.dialog.forget(request.session);
    if (accept) {
      this.client.accept(request);
    } else {
      this.client.decline(request);
      this.home.log.notice(`Declined the request from ${texts.spaced(request.peer)}.`);
    }
    this.showSaveWarnings();
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
    this.currentTab.log.scroll(rows, view);
  }

  /** Home: to the oldest line kept. */
  scrollToTop(view: Viewport): void {
    this.currentTab.log.scrollToTop(view);
  }

  /** End: back to the newest line, following again. */
  scrollToBottom(): void {
    this.currentTab.log.scrollToBottom();
  }

  /** Lines that arrived below the view since it was scrolled back (0 when following). */
  newBelow(tab = this.currentTab): number {
    return tab.log.newBelow();
  }

  /** A paste: inserted whole (line breaks kept), unless the help or the quit question has the keyboard. */
  paste(text: string): void {
    if (this.helpOpen || this.confirmingQuit) return;
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
    const nicks = [...this.tabs.map((t) => t.nick), ...this.port.contacts().map((c) => c.nick)].filter(
      (n) => n !== '',
    );
    this.completer.complete(this.editor, COMMAND_NAMES, nicks);
  }

  /** Ctrl+C: quit at once with no chat open, or ask first. */
  askToQuit(): void {
    if (this.openChats === 0 || this.confirmingQuit) this.run({ name: 'quit' });
    else this.confirmingQuit = true;
  }

  answerQuit(yes: boolean): void {
    if (yes) this.run({ name: 'quit' });
    else this.confirmingQuit = false;
  }

  /** Whether to ring the bell now (once for all that asked since the last time). */
  takeBell(): boolean {
    const due = this.bellsDue > 0 && this.bell;
    this.bellsDue = 0;
    return due;
  }

  // ---- what the view shows ------------------------------------------------------------------

  /** Who else is around, for telling peers with the same nick apart. */
  get crowd(): Crowd {
    return { tabs: this.tabs, requests: this.requests };
  }

  /** The status bar's fields, ranked so a narrow screen drops the least important first. */
  statusFields(): StatusField[] {
    const tab = this.currentTab;
    const c = tab.conversation;
    return statusFields({
      own: `${this.nick || 'you'}@${this.settings.localAddress}`,
      tab,
      label: this.labelOf(tab),
      openChats: this.tabs.filter((t) => t.state === 'open').length,
      waitingRequests: this.requests.length,
      typing: c && this.client.peerTyping(c) ? texts.typingText(c) : undefined,
      info: tab.session === undefined ? undefined : this.port.session(tab.session),
      now: this.port.now(),
    });
  }

  /** The status bar's full text (the view fits it to the width). */
  statusBar(): string {
    return this.statusFields()
      .map((f) => f.text)
      .join(SEPARATOR);
  }

  tabBar(): TabBarEntry[] {
    return tabBarEntries(this.crowd, this.current);
  }

  labelOf(tab: Tab): string {
    return tabLabel(tab, this.crowd);
  }

  requestNick(request: WaitingRequest): string {
    return requestNick(request, this.crowd);
  }

  // ---- for the commands ---------------------------------------------------------------------

  /** A new tab for a conversation (or the home tab), not yet in the list. */
  newTab(conversation?: Conversation, label?: string): Tab {
    return new Tab(this.nextTabId++, new TabLog(this.clock), new LineEditor(this.history), conversation, label);
  }

  /** Shows `tab` (added at the end if new). */
  show(tab: Tab): void {
    if (!this.tabs.includes(tab)) this.tabs.push(tab);
    this.selectTab(this.tabs.indexOf(tab));
  }

  removeTab(tab: Tab): void {
    const index = this.tabs.indexOf(tab);
    if (index <= 0) return;
    const wasCurrent = index === this.current;
    this.tabs.splice(index, 1);
    if (wasCurrent) this.selectTab(Math.min(index, this.tabs.length - 1));
    else if (this.current > index) this.current--;
  }

  /** Sends a message (or an action) in an open tab and shows it, marked until its fate is known. */
  send(tab: Tab, conversation: Conversation, text: string, action: boolean): void {
    const message = this.client.send(conversation, action ? `${ACTION_PREFIX}${text}` : text);
    const line = tab.log.add({ kind: action ? 'own_action' : 'own', sender: this.nick || 'you', text, mark: 'pending' });
    this.sentLines.set(message, line);
    tab.log.scrollToBottom();
  }

  /** A tab already talking to (or asking) this address, if any. */
  tabFor(host: string, port: number): Tab | undefined {
    const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
    return this.tabs.find((t) => {
      const at = t.peer ?? t.conversation?.target;
      return t.live && at !== undefined && at.port === port && at.host.toLowerCase() === bare;
    });
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
        if (twin?.state === 'open') {
          this.twin = twin;
          throw new Error(`already chatting with ${texts.spaced(address)}`);
        }
        return port.connectTo(address);
      },
    };
  }

  // ---- peer events --------------------------------------------------------------------------

  onEvent(e: NetchatEvent): void {
    this.client.handle(e);
    this.showSaveWarnings();
  }

  private onUpdate(u: ClientUpdate): void {
    switch (u.type) {
      case 'request':
        this.bellsDue++;
        this.home.log.notice(
          `${texts.requestFromText(u.request.peer, u.request.nick)}. Alt+Y / Alt+N in the dialog, or /accept ${this.requests.length}.`,
        );
        this.showNotices(this.home, texts.trustNotices(u.request.trust));
        return;
      case 'request_refused':
        this.home.log.notice(texts.refusedText(u.request));
        return;
      case 'request_gone':
        this.dialog.forget(u.request.session);
        this.home.log.notice(texts.requestGoneText(u.request, u.why));
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
        if (this.settings.verbose && u.conversation.peer)
          this.tabOf(u.conversation)?.log.notice(texts.heartbeatSentText(u.conversation.peer));
        return;
      default: {
        // The compiler flags an update type this switch does not handle.
        const unhandled: never = u;
        void unhandled;
      }
    }
  }

  private onOpened(conversation: Conversation, how: 'connected' | 'accepted' | 'auto'): void {
    let tab = this.tabOf(conversation);
    if (!tab) {
      if (how === 'connected') return;
      tab = this.newTab(conversation, formatAddress(conversation.peer ?? conversation.target));
    }
    this.showHistory(tab, conversation);
    this.showNotices(tab, texts.openedNotices(conversation, how));
    if (how !== 'connected' && conversation.trust) this.showNotices(tab, texts.trustNotices(conversation.trust));
    if (how !== 'connected') this.show(tab);
  }

  /**
   * The last lines of earlier conversations with this key, dimmed, above everything the tab
   * shows so far (a /connect's "Sending connection request…" included): their heading first,
   * then the lines, then this chat.
   */
  private showHistory(tab: Tab, conversation: Conversation): void {
    const history = this.settings.history;
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
    tab.log.prepend([heading, ...historyLines(entries, this.nick || 'you', this.clock())]);
  }

  private onPresence(u: PresenceUpdate): void {
    const tab = this.tabOf(u.conversation);
    if (tab && u.type === 'nick') this.showNotices(tab, texts.nickChangeNotices(u));
    this.settings.onChange?.();
  }

  private onMessage(conversation: Conversation, text: string): void {
    const tab = this.tabOf(conversation);
    if (!tab) return;
    const sender = tab.nick || (tab.peer ? formatAddress(tab.peer) : 'peer');
    const action = text.startsWith(ACTION_PREFIX);
    tab.log.add({
      kind: action ? 'peer_action' : 'peer',
      sender: terminalSafe(sender),
      text: terminalSafe(action ? text.slice(ACTION_PREFIX.length) : text),
    });
    if (tab !== this.currentTab) {
      tab.unread++;
      this.bellsDue++;
    }
  }

  private onEnded(conversation: Conversation): void {
    const tab = this.tabOf(conversation);
    if (!tab) return;
    const notice = texts.endedNotice(conversation);
    const twin = this.twin;
    this.twin = undefined;
    if (twin && conversation.ended?.kind === 'unreachable' && this.tabs.includes(twin)) {
      this.removeTab(tab);
      this.show(twin);
      twin.log.notice(`Already chatting with ${texts.spaced(conversation.peer ?? conversation.target)}: this tab.`);
      return;
    }
    if (neverOpened(conversation)) {
      // A request that came to nothing (refused, unanswered, cancelled, bad address) was never a
      // chat: its tab goes, and why is said on the home tab.
      const wasCurrent = tab === this.currentTab;
      this.removeTab(tab);
      if (wasCurrent) this.selectTab(0);
      this.showNotices(this.home, [notice]);
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

  showNotices(tab: Tab, notices: readonly texts.Notice[]): void {
    for (const notice of notices) {
      if (notice.warning) tab.log.warn(notice.text);
      else tab.log.notice(notice.text);
    }
  }

  /** What could not be saved since the last look, as warnings on the tab the person sees. */
  private showSaveWarnings(): void {
    this.saveWarnings.checkHistory(this.settings.history);
    for (const warning of this.saveWarnings.take()) this.currentTab.log.warn(warning);
  }

  tabOf(conversation: Conversation): Tab | undefined {
    return this.tabs.find((t) => t.conversation === conversation);
  }
}

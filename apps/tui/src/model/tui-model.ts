/**
 * The TUI's state, with no terminal in it: the tabs (a home tab plus one per conversation) and
 * which one is shown, the input, and what each tab shows as the client's updates come. The
 * conversations, the queue of waiting requests, message fates, trust, what a typed name means
 * (resolveTarget), one chat per peer, the warnings for files that cannot be saved and the wording
 * come from @netchat/client, shared with the CLI; each tab reads its conversation. What typed
 * commands do is in command-runner.ts, the tabs and which is shown in tab-list.ts, the request
 * dialog in request-dialog.ts, the status bar in status-fields.ts, the tab bar in tab-bar.ts, a
 * tab's lines in tab-log.ts, earlier chats in history-pages.ts, when the bell rings in bells.ts.
 * The view renders this model; the app feeds it peer events and key presses.
 */
import {
  actionOf,
  type ChatClient,
  type Conversation,
  resolveTarget,
  type Target,
  type TargetResult,
  texts,
  type WaitingRequest,
  watchStorage,
} from '@netchat/client';
import type { NetchatEvent } from '@netchat/core';
import { Bells } from './bells.js';
import { tuiChatClient } from './chat-client-setup.js';
import { ClientUpdates } from './client-updates.js';
import { runCommand, whereToReach } from './command-runner.js';
import { COMMAND_NAMES, type Command, parseInput } from './commands.js';
import { Completer } from './completion.js';
import type { LineEditor } from './line-editor.js';
import { RequestDialog } from './request-dialog.js';
import type { Viewport } from './scroll.js';
import type { ModelSettings, PeerPort } from './settings.js';
import { modelStatusFields, SEPARATOR, type StatusField } from './status-fields.js';
import type { Tab } from './tab.js';
import {
  type Crowd,
  requestNick,
  type TabBarEntry,
  tabBarEntries,
  tabLabel,
  targetLabel,
} from './tab-bar.js';
import { TabList } from './tab-list.js';
import { TuiFiles } from './tui-files.js';

export type { WaitingRequest } from '@netchat/client';
export { REQUEST_BELL_GAP_MS } from './bells.js';
export { HISTORY_LINES, HISTORY_PAGE_LINES } from './history-pages.js';
export type { ModelSettings, PeerPort } from './settings.js';
export { clockTime, Tab, type TabState } from './tab.js';
export type { TabBarEntry } from './tab-bar.js';
export type { ChatLine, LineKind, Mark } from './tab-log.js';

export class TuiModel {
  /** The tabs and which one is shown. */
  readonly tabList: TabList;
  /** Conversations, waiting requests, message fates and trust: shared with the CLI. */
  readonly client: ChatClient;
  readonly dialog: RequestDialog;
  /** File transfers (the client's Transfers): undefined when the app was started without them. */
  readonly files: TuiFiles | undefined;
  helpOpen = false;
  /** Ctrl+C with chats open: the question "close them all and quit?" is up. */
  confirmingQuit = false;
  /** When the terminal's bell rings (requests, offers, messages in other tabs). */
  readonly bells: Bells;
  nick: string;
  readonly completer = new Completer();
  readonly clock: () => Date;
  /** Files of the netchat home that could not be saved, until said on the tab the person sees. */
  private storageWarnings: string[] = [];
  private readonly updates = new ClientUpdates(this);

  constructor(
    readonly port: PeerPort,
    readonly settings: ModelSettings,
  ) {
    this.nick = settings.nick;
    this.clock = settings.clock ?? (() => new Date());
    this.bells = new Bells(settings.bell ?? true, this.clock);
    this.client = tuiChatClient(port, settings, () => this.clock().getTime());
    // One warning per file for the run, as the CLI words it; shown once the action that failed is done.
    watchStorage({ knownPeers: settings.knownPeers, history: settings.history }, (w) =>
      this.storageWarnings.push(w.text),
    );
    this.tabList = new TabList(this.clock, (left) => this.client.stopTyping(left));
    this.client.subscribe((u) => this.updates.apply(u));
    this.client.subscribePresence((u) => this.updates.presence(u));
    this.dialog = new RequestDialog(() => this.requests);
    this.files = settings.files ? new TuiFiles(this, settings.files) : undefined;
    this.home.log.notice(
      `netchat: listening on ${settings.localAddress}. /connect IP PORT to chat, F1 for help.`,
    );
    // What to tell a friend, as netchat says it at start: where, and the key's fingerprint.
    if (settings.reachableAt)
      for (const line of whereToReach(settings.reachableAt, port)) this.home.log.notice(line);
  }

  get tabs(): readonly Tab[] {
    return this.tabList.tabs;
  }

  /** The index of the tab shown. */
  get current(): number {
    return this.tabList.current;
  }

  get currentTab(): Tab {
    return this.tabList.currentTab;
  }

  /** The current tab's input. */
  get editor(): LineEditor {
    return this.currentTab.editor;
  }

  get home(): Tab {
    return this.tabList.home;
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
    const used = this.run(parseInput(text));
    // A message that could not be sent (too large, chat not open) goes back to the input: nothing typed is lost.
    if (!used && editor.length === 0) editor.insert(text);
  }

  /** Runs a command; false if it was a message that could not be sent. */
  run(command: Command): boolean {
    const used = runCommand(this, command);
    this.showSaveWarnings();
    return used;
  }

  /** The file offer the dialog asks about, when no request is asked first. */
  get dialogOffer() {
    return this.dialog.request ? undefined : this.files?.dialogOffer;
  }

  /** Alt+Y / Alt+N on the dialog (the view takes them only once it has been seen). */
  answerDialog(accept: boolean): void {
    const request = this.dialog.request;
    const offer = this.dialogOffer;
    if (request) this.answer(request, accept);
    else if (offer) this.files?.answer(offer, accept);
  }

  /** Esc on the dialog: leave the request (or the file offer) waiting. */
  dismissDialog(): void {
    if (!this.dialog.request) {
      this.files?.dismiss();
      return;
    }
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
    this.tabList.next();
  }

  previousTab(): void {
    this.tabList.previous();
  }

  selectTab(index: number): void {
    this.tabList.select(index);
  }

  /**
   * Scrolls the current tab by `rows` (positive: back in time); new lines then leave the view
   * still. Scrolling up past the top first reads older history above it, HISTORY_PAGE_LINES at
   * a time, so the view moves by `rows` into it as into any other lines.
   */
  scroll(rows: number, view: Viewport): void {
    const tab = this.currentTab;
    if (rows > 0) tab.history?.readAbove(tab.log, rows, view);
    tab.log.scroll(rows, view);
    this.showSaveWarnings();
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

  /** Tab: complete the command, nick or (after /send) path before the cursor. */
  complete(): void {
    const nicks = [...this.tabs.map((t) => t.nick), ...this.port.contacts().map((c) => c.nick)].filter(
      (n) => n !== '',
    );
    const paths = this.settings.paths;
    this.completer.complete(
      this.editor,
      COMMAND_NAMES,
      nicks,
      paths && { list: paths.list, home: paths.home, cwd: paths.cwd() },
    );
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

  /** Whether the bell rings at all (`/bell on|off`). */
  get bell(): boolean {
    return this.bells.on;
  }

  set bell(on: boolean) {
    this.bells.on = on;
  }

  /** Whether to ring the bell now (bells.ts). */
  takeBell(): boolean {
    return this.bells.take();
  }

  // ---- what the view shows ------------------------------------------------------------------

  /** Who else is around, for telling peers with the same nick apart. */
  get crowd(): Crowd {
    return { tabs: this.tabs, requests: this.requests };
  }

  /** The status bar's fields, ranked so a narrow screen drops the least important first. */
  statusFields(): StatusField[] {
    return modelStatusFields(this);
  }

  /** The status bar's full text (the view fits it to the width). */
  statusBar(): string {
    return this.statusFields()
      .map((f) => f.text)
      .join(SEPARATOR);
  }

  tabBar(): TabBarEntry[] {
    return tabBarEntries(
      this.crowd,
      this.current,
      (tab) => this.files?.waitingIn(tab.conversation).length ?? 0,
    );
  }

  labelOf(tab: Tab): string {
    return tabLabel(tab, this.crowd);
  }

  requestNick(request: WaitingRequest): string {
    return requestNick(request, this.crowd);
  }

  // ---- for the commands ---------------------------------------------------------------------

  /** A new tab for a conversation, not yet in the list. */
  newTab(conversation?: Conversation, label?: string): Tab {
    return this.tabList.newTab(conversation, label);
  }

  /** Shows `tab` (added at the end if new). */
  show(tab: Tab): void {
    this.tabList.show(tab);
  }

  removeTab(tab: Tab): void {
    this.tabList.remove(tab);
  }

  /** What a typed name means (the client's resolveTarget, as in the CLI): the known peers, the rendezvous, our own key. */
  resolve(name: string): TargetResult {
    return resolveTarget(name, {
      contacts: this.port.contacts(),
      rendezvous: this.settings.rendezvous ?? false,
      ownFingerprint: this.port.fingerprint(),
    });
  }

  /**
   * Opens a tab for `target` and asks the peer; the outcome comes as an update. A peer already in
   * a chat or a request with us is not asked again: the client ends this one as a duplicate, and
   * the tab of the one there is is shown instead (see ClientUpdates).
   */
  connect(target: Target): Tab {
    const tab = this.newTab(this.client.connect(target), targetLabel(target));
    this.show(tab);
    tab.log.notice(texts.connectingText(target).replace(/\.\.\.$/, '…'));
    return tab;
  }

  /**
   * Sends `text` as it goes on the wire in an open tab and shows it, marked until its fate is
   * known. A text with the action marker (`/me waves`, also when typed as `//me waves`) is shown
   * as the action the peer sees: `* me waves`.
   */
  send(tab: Tab, conversation: Conversation, text: string): void {
    const message = this.client.send(conversation, text);
    const action = actionOf(text);
    const line = tab.log.add({
      kind: action === undefined ? 'own' : 'own_action',
      sender: this.nick || 'you',
      text: action ?? text,
      mark: 'pending',
    });
    this.updates.track(message, line);
    tab.log.scrollToBottom();
  }

  // ---- peer events --------------------------------------------------------------------------

  onEvent(e: NetchatEvent): void {
    this.client.handle(e);
    this.showSaveWarnings();
  }

  /** What could not be saved since the last look, as warnings on the tab the person sees. */
  private showSaveWarnings(): void {
    const warnings = this.storageWarnings;
    this.storageWarnings = [];
    for (const warning of warnings) this.currentTab.log.warn(warning);
  }

  tabOf(conversation: Conversation): Tab | undefined {
    return this.tabList.tabOf(conversation);
  }
}

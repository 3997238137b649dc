/**
 * The TUI's state and logic, with no terminal in it: tabs (a home tab plus one per
 * conversation), the queue of waiting requests and its dialog, the input line, what each
 * conversation shows (with pending / delivered / failed marks), unread counts and the text of
 * the status and tab bars. The view renders it; the app feeds it peer events and key presses.
 */
import {
  type Address,
  describeTrust,
  formatAddress,
  type PeerTrust,
  type MessageId,
  type NetchatEvent,
  type SessionId,
  type SessionInfo,
  terminalSafe,
} from '@netchat/core';
import { type Command, parseInput } from './commands.js';
import { LineEditor } from './line-editor.js';

/** What the model needs from the peer; NetchatPeer in the app, a fake in tests. */
export interface PeerPort {
  resolve(host: string, port: number): Promise<Address>;
  connectTo(address: Address): SessionId;
  accept(session: SessionId): void;
  decline(session: SessionId): void;
  send(session: SessionId, text: string): MessageId;
  close(session: SessionId): void;
  setNick(nick: string): void;
  session(session: SessionId): SessionInfo | undefined;
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

export type Mark = 'pending' | 'delivered' | 'failed';
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
}

export interface WaitingRequest {
  readonly session: SessionId;
  readonly peer: Address;
  readonly nick: string;
  readonly time: Date;
  readonly publicKey: string;
  readonly fingerprint: string;
  /** The fingerprint and whether the key is known; a warning first if it takes a known nick. */
  readonly trustLines: string[];
}

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
}

const ACTION_PREFIX = '/me ';
const MAX_LINES_PER_TAB = 5000;

export class TuiModel {
  readonly tabs: Tab[];
  current = 0;
  readonly requests: WaitingRequest[] = [];
  /** Requests whose dialog was put aside with Esc: answered later with /accept N. */
  private readonly dismissed = new Set<SessionId>();
  helpOpen = false;
  readonly editor = new LineEditor();
  nick: string;
  private readonly clock: () => Date;
  private readonly sentLines = new Map<MessageId, ChatLine>();
  private nextTabId = 1;

  constructor(
    private readonly port: PeerPort,
    private readonly settings: ModelSettings,
  ) {
    this.nick = settings.nick;
    this.clock = settings.clock ?? (() => new Date());
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

  /** The request the dialog asks about, if any. */
  get dialogRequest(): WaitingRequest | undefined {
    return this.requests.find((r) => !this.dismissed.has(r.session));
  }

  // ---- input --------------------------------------------------------------------------------

  /** Enter: run what is on the input line. */
  submit(): void {
    this.run(parseInput(this.editor.take()));
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
        void this.connect(command.peer.host, command.peer.port);
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
      `Request from ${spaced(request.peer)} is waiting: /accept or /decline (see /requests).`,
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
    switch (e.type) {
      case 'request':
        this.onRequest(e);
        return;
      case 'accepted': {
        const tab = this.tabFor(e.session, e.peer);
        if (!tab) return;
        tab.session = e.session;
        tab.state = 'open';
        tab.peerNick = e.nick;
        this.notice(tab, `Connected to ${spaced(e.peer)}${e.nick ? ` (${terminalSafe(e.nick)})` : ''}.`);
        this.showTrust(tab, describeTrust(e.fingerprint, e.nick, this.port.trust(e.publicKey, e.nick)));
        this.port.remember(e.publicKey, e.nick, e.fingerprint);
        return;
      }
      case 'declined':
        this.endTab(
          e.session,
          `Connection declined by ${spaced(e.peer)} (${e.reason}${e.detail ? `: ${terminalSafe(e.detail)}` : ''}).`,
        );
        return;
      case 'no_answer':
        this.endTab(e.session, `No answer from ${spaced(e.peer)}.`);
        return;
      case 'message':
        this.onMessage(e.session, e.text);
        return;
      case 'delivered':
      case 'failed':
        this.markSent(e.messageId, e.type);
        return;
      case 'heartbeat_sent':
        if (this.settings.verbose) {
          const tab = this.tabFor(e.session);
          if (tab) this.notice(tab, `Heartbeat sent to ${formatAddress(e.peer)}`);
        }
        return;
      case 'heartbeat_missed': {
        const tab = this.tabFor(e.session);
        if (tab) tab.missed = e.count;
        return;
      }
      case 'lost':
        if (this.dropRequest(e.session, 'expired')) return;
        this.endTab(e.session, `Missed ${e.missed} heartbeats. Connection lost. Ending session.`, true);
        return;
      case 'closed':
        if (this.dropRequest(e.session, e.reason === 'peer_restarted' ? 'ended: the peer restarted' : 'was withdrawn'))
          return;
        this.endTab(
          e.session,
          e.reason === 'peer_restarted' ? 'The peer restarted: this session ended.' : 'The peer closed the session.',
        );
        return;
      default: {
        // The compiler flags an event type this switch does not handle.
        const unhandled: never = e;
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

  private onRequest(e: Extract<NetchatEvent, { type: 'request' }>): void {
    const { session, peer, nick } = e;
    const who = `${spaced(peer)}${nick ? ` (${terminalSafe(nick)})` : ''}`;
    const request: WaitingRequest = {
      session,
      peer,
      nick,
      time: this.clock(),
      publicKey: e.publicKey,
      fingerprint: e.fingerprint,
      trustLines: describeTrust(e.fingerprint, nick, this.port.trust(e.publicKey, nick)),
    };
    if (this.settings.acceptAll) {
      this.port.accept(session);
      this.port.remember(e.publicKey, nick, e.fingerprint);
      this.openTabFor(session, peer, nick, `Accepted a request from ${who} (--yes).`);
      this.showTrust(this.currentTab, request.trustLines);
      return;
    }
    this.requests.push(request);
    this.notice(
      this.home,
      `Connection request from: ${who}. y/n in the dialog, or /accept ${this.requests.length}.`,
    );
    this.showTrust(this.home, request.trustLines);
  }

  private showTrust(tab: Tab, lines: string[]): void {
    for (const line of lines) {
      if (line.startsWith('WARNING')) this.warn(tab, line);
      else this.notice(tab, line);
    }
  }

  private answer(request: WaitingRequest | undefined, accept: boolean, index: number): void {
    if (!request) {
      this.warn(this.currentTab, `no waiting request ${index}: see /requests`);
      return;
    }
    this.requests.splice(this.requests.indexOf(request), 1);
    this.dismissed.delete(request.session);
    const who = spaced(request.peer);
    if (accept) {
      this.port.accept(request.session);
      this.port.remember(request.publicKey, request.nick, request.fingerprint);
      this.openTabFor(request.session, request.peer, request.nick, `Accepted the request from ${who}.`);
      this.showTrust(this.currentTab, request.trustLines);
    } else {
      this.port.decline(request.session);
      this.notice(this.home, `Declined the request from ${who}.`);
    }
  }

  private openTabFor(session: SessionId, peer: Address, nick: string, text: string): void {
    const tab = this.makeTab('open', formatAddress(peer));
    Object.assign(tab, { session, peer, peerNick: nick });
    this.tabs.push(tab);
    this.notice(tab, text);
    this.selectTab(this.tabs.length - 1);
  }

  private dropRequest(session: SessionId, what: string): boolean {
    const index = this.requests.findIndex((r) => r.session === session);
    if (index < 0) return false;
    const [request] = this.requests.splice(index, 1);
    if (request) this.notice(this.home, `The request from ${spaced(request.peer)} ${what}.`);
    return true;
  }

  private listRequests(tab: Tab): void {
    if (this.requests.length === 0) {
      this.notice(tab, 'No requests are waiting.');
      return;
    }
    this.requests.forEach((r, i) => {
      this.notice(
        tab,
        `${i + 1}. ${spaced(r.peer)}${r.nick ? ` (${terminalSafe(r.nick)})` : ''} since ${clockTime(r.time)}`,
      );
    });
  }

  private async connect(host: string, port: number): Promise<void> {
    const tab = this.makeTab('connecting', `${host}:${port}`);
    this.tabs.push(tab);
    this.selectTab(this.tabs.length - 1);
    this.notice(tab, `Sending connection request to ${host} ${port}…`);
    try {
      tab.peer = await this.port.resolve(host, port);
      const session = this.port.connectTo(tab.peer);
      // An immediate answer (the peer was already asking us) may have set it already.
      tab.session ??= session;
    } catch (error) {
      tab.state = 'ended';
      this.warn(tab, (error as Error).message);
    }
  }

  private sendText(tab: Tab, text: string, action: boolean): void {
    if (tab.state !== 'open' || tab.session === undefined) {
      const hint =
        tab.state === 'home'
          ? 'this is the home tab: /connect IP PORT to chat'
          : `this session is ${tab.state}`;
      this.warn(tab, `Not sent: ${hint}.`);
      return;
    }
    try {
      const messageId = this.port.send(tab.session, action ? `${ACTION_PREFIX}${text}` : text);
      const line = this.add(tab, {
        kind: action ? 'own_action' : 'own',
        sender: this.nick || 'you',
        text,
        mark: 'pending',
      });
      this.sentLines.set(messageId, line);
      tab.scrollUp = 0;
    } catch (error) {
      this.warn(tab, `Not sent: ${(error as Error).message}`);
    }
  }

  private onMessage(session: SessionId, text: string): void {
    const tab = this.tabFor(session);
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

  private markSent(messageId: MessageId, outcome: 'delivered' | 'failed'): void {
    const line = this.sentLines.get(messageId);
    if (!line) return;
    line.mark = outcome;
    this.sentLines.delete(messageId);
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
    if (tab.session !== undefined) this.port.close(tab.session);
    tab.state = 'ended';
    this.notice(tab, 'Closing session with peer...');
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

  private endTab(session: SessionId, text: string, warning = false): void {
    const tab = this.tabFor(session);
    if (!tab || tab.state === 'ended') return;
    tab.state = 'ended';
    tab.missed = 0;
    if (warning) this.warn(tab, text);
    else this.notice(tab, text);
  }

  /** The tab of a session; or, for an answer that came before connectTo returned, the connecting tab to that peer. */
  private tabFor(session: SessionId, peer?: Address): Tab | undefined {
    const bySession = this.tabs.find((t) => t.session === session);
    if (bySession || !peer) return bySession;
    const key = formatAddress(peer);
    return this.tabs.find(
      (t) => t.state === 'connecting' && t.session === undefined && t.peer && formatAddress(t.peer) === key,
    );
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

const spaced = (peer: Address) => `${peer.host} ${peer.port}`;

export function clockTime(time: Date): string {
  return time.toTimeString().slice(0, 5);
}

function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m`;
}

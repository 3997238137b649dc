/**
 * The conversation flow people know from the original netchat, as a state machine over typed
 * lines and peer events:
 *
 *   idle        "Start chat with? (IP Port): "      a line names a peer -> connecting
 *   connecting  (no prompt; typed lines wait)       accepted -> chatting; declined/no answer -> idle
 *   asking      "[IP:PORT] Accept connection? (y/n): "  y -> chatting; n -> idle
 *   chatting    "[IP:PORT] Your message: "          "exit", peer closed, lost -> idle
 *
 * Requests arriving while not idle are declined as busy. When input ends, the flow lets
 * pending work finish (a connect in progress, messages not yet delivered), closes and quits.
 * It knows nothing of terminals: it talks to a FlowConsole.
 */
import {
  type Address,
  describeTrust,
  type EventOf,
  type KnownPeers,
  formatAddress,
  type MessageId,
  type NetchatEvent,
  type NetchatPeer,
  type PeerSpec,
  parsePeerSpec,
  type SessionId,
  terminalSafe,
} from '@netchat/core';

export interface FlowConsole {
  /** A line of conversation or status for the person. */
  say(line: string): void;
  /** A one-line complaint about what the person typed. */
  warn(line: string): void;
  /** Waits for the next line behind this prompt. */
  prompt(text: string): void;
  /** No more prompts: the program is quitting. */
  stopPrompting(): void;
}

export interface FlowOptions {
  yes: boolean;
  verbose: boolean;
  /** Connect to this peer at start instead of prompting. */
  connect?: PeerSpec;
  /** After input ends, how long to wait for undelivered messages before closing anyway. */
  drainTimeoutMs: number;
}

type State =
  | { name: 'idle' }
  | { name: 'connecting'; address?: Address; session?: SessionId }
  | { name: 'asking'; session: SessionId; peer: Address; request: EventOf<'request'> }
  | { name: 'chatting'; session: SessionId; peer: Address };

const spaced = (peer: Address) => `${peer.host} ${peer.port}`;
const withNick = (nick: string) => (nick ? ` (${terminalSafe(nick)})` : '');

export class ChatFlow {
  private state: State = { name: 'idle' };
  private readonly lines: string[] = [];
  private inputEnded = false;
  private quitting = false;
  /** Texts sent and not yet delivered or failed, to name them if they fail. */
  private readonly undelivered = new Map<MessageId, string>();
  private drainTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly peer: NetchatPeer,
    private readonly out: FlowConsole,
    private readonly options: FlowOptions,
    private readonly knownPeers: KnownPeers,
    private readonly onQuit: () => void,
  ) {
    peer.on('event', (e) => this.onEvent(e));
  }

  /** Every peer event, by type: the compiler flags an event type this does not handle. */
  private onEvent(e: NetchatEvent): void {
    switch (e.type) {
      case 'request':
        this.onRequest(e);
        return;
      case 'accepted':
        this.onAccepted(e);
        return;
      case 'declined':
        this.onConnectFailed(
          e.session,
          `Connection declined by ${spaced(e.peer)} (${e.reason}${e.detail ? `: ${terminalSafe(e.detail)}` : ''}).`,
        );
        return;
      case 'no_answer':
        this.onConnectFailed(e.session, `No answer from ${spaced(e.peer)}.`);
        return;
      case 'message':
        this.onMessage(e);
        return;
      case 'delivered':
        this.settle(e.messageId);
        return;
      case 'failed':
        this.onFailed(e);
        return;
      case 'heartbeat_sent':
        if (this.options.verbose) this.out.say(`Heartbeat sent to ${formatAddress(e.peer)}`);
        return;
      case 'heartbeat_missed':
        this.onHeartbeatMissed(e);
        return;
      case 'lost':
        this.onLost(e);
        return;
      case 'closed':
        this.onClosed(e);
        return;
      default: {
        const unhandled: never = e;
        void unhandled;
      }
    }
  }

  start(): void {
    if (this.options.connect) void this.connect(this.options.connect);
    else this.becomeIdle();
  }

  /** A line the person typed (or that came down the pipe). */
  line(text: string): void {
    this.lines.push(text);
    this.consumeLines();
  }

  /** End of input (Ctrl-D, or the pipe closed). */
  endOfInput(): void {
    this.inputEnded = true;
    this.consumeLines();
    this.finishIfDone();
  }

  /** Ctrl-C or a signal: close whatever is open and quit now. */
  interrupt(): void {
    void this.quit();
  }

  // ---- lines --------------------------------------------------------------------------------

  private consumeLines(): void {
    while (this.lines.length > 0 && !this.quitting && this.state.name !== 'connecting') {
      this.handleLine((this.lines.shift() as string).trim());
    }
  }

  private handleLine(text: string): void {
    switch (this.state.name) {
      case 'idle':
        this.onStartLine(text);
        return;
      case 'asking':
        this.onAnswer(text, this.state);
        return;
      case 'chatting':
        this.onChatLine(text, this.state);
        return;
      default:
        return;
    }
  }

  private onStartLine(text: string): void {
    if (text === '') {
      this.becomeIdle();
      return;
    }
    if (text === 'exit') {
      void this.quit();
      return;
    }
    let spec: PeerSpec;
    try {
      spec = parsePeerSpec(text);
    } catch (error) {
      this.out.warn(`${(error as Error).message}`);
      this.becomeIdle();
      return;
    }
    void this.connect(spec);
  }

  private onAnswer(text: string, state: Extract<State, { name: 'asking' }>): void {
    const answer = text.toLowerCase();
    if (answer === 'y' || answer === 'yes') {
      this.peer.accept(state.session);
      this.trust(state.request);
      this.becomeChatting(state.session, state.peer);
    } else if (answer === 'n' || answer === 'no') {
      this.peer.decline(state.session, 'declined');
      this.out.say('Connection declined.');
      this.becomeIdle();
    } else {
      this.out.warn('Please answer y or n.');
      this.out.prompt(`[${formatAddress(state.peer)}] Accept connection? (y/n): `);
    }
  }

  private onChatLine(text: string, state: Extract<State, { name: 'chatting' }>): void {
    if (text === 'exit') {
      this.out.say('Closing session with peer...');
      this.peer.closeSession(state.session);
      this.becomeIdle();
      return;
    }
    if (text !== '') {
      try {
        this.undelivered.set(this.peer.send(state.session, text), text);
      } catch (error) {
        this.out.warn(`Not sent: ${(error as Error).message}`);
      }
    }
    this.promptChat(state.peer);
  }

  private async connect(spec: PeerSpec): Promise<void> {
    const state: Extract<State, { name: 'connecting' }> = { name: 'connecting' };
    this.state = state;
    this.out.say(`Sending connection request to ${spec.host} ${spec.port}...`);
    try {
      state.address = await this.peer.resolve(spec.host, spec.port);
      if (this.state !== state) return;
      state.session = this.peer.connectTo(state.address);
    } catch (error) {
      if (this.state !== state) return;
      this.out.warn(`${(error as Error).message}`);
      this.becomeIdle();
    }
  }

  // ---- events -------------------------------------------------------------------------------

  private onRequest(e: EventOf<'request'>): void {
    if (this.state.name !== 'idle' || this.quitting) {
      this.peer.decline(e.session, 'busy', 'in another chat');
      this.out.say(`Declined a connection request from ${spaced(e.peer)}${withNick(e.nick)}: busy.`);
      return;
    }
    this.out.say(`Connection request from: ${spaced(e.peer)}`);
    if (e.nick) this.out.say(`Nick: ${terminalSafe(e.nick)}`);
    this.showIdentity(e);
    if (this.options.yes) {
      this.peer.accept(e.session);
      this.trust(e);
      this.out.say('Accepted (--yes).');
      this.becomeChatting(e.session, e.peer);
      return;
    }
    this.state = { name: 'asking', session: e.session, peer: e.peer, request: e };
    this.out.prompt(`[${formatAddress(e.peer)}] Accept connection? (y/n): `);
    this.consumeLines();
  }

  private onAccepted(e: EventOf<'accepted'>): void {
    const s = this.state;
    const ours =
      s.name === 'connecting' &&
      (s.session === e.session || (s.address && formatAddress(s.address) === formatAddress(e.peer)));
    if (!ours) return;
    this.out.say(`Connected to ${spaced(e.peer)}${withNick(e.nick)}.`);
    this.showIdentity(e);
    this.trust(e);
    this.becomeChatting(e.session, e.peer);
  }

  /** The peer's verified key: known, new, or (loudly) a new key using a known nick. */
  private showIdentity(e: EventOf<'request'> | EventOf<'accepted'>): void {
    for (const line of describeTrust(e.fingerprint, e.nick, this.knownPeers.check(e.publicKey, e.nick))) {
      this.out.say(line);
    }
  }

  /** Chatting with a key is trusting it from now on (trust on first use). */
  private trust(e: EventOf<'request'> | EventOf<'accepted'>): void {
    this.knownPeers.remember(e.publicKey, e.nick, e.fingerprint);
  }

  private onConnectFailed(session: SessionId, message: string): void {
    if (this.state.name !== 'connecting' || this.state.session !== session) return;
    this.out.say(message);
    this.becomeIdle();
  }

  private onMessage(e: EventOf<'message'>): void {
    if (!this.isCurrent(e.session)) return;
    const nick = this.peer.session(e.session)?.peerNick;
    this.out.say(
      `[${formatAddress(e.peer)}] ${nick ? `${terminalSafe(nick)}: ` : ''}${terminalSafe(e.text)}`,
    );
  }

  private onFailed(e: EventOf<'failed'>): void {
    const text = this.undelivered.get(e.messageId);
    if (text !== undefined) this.out.say(`Not delivered: ${text}`);
    this.settle(e.messageId);
  }

  private onHeartbeatMissed(e: EventOf<'heartbeat_missed'>): void {
    if (this.options.verbose && this.isCurrent(e.session)) {
      this.out.say(`Missed ${e.count} heartbeat${e.count === 1 ? '' : 's'} from ${formatAddress(e.peer)}`);
    }
  }

  private onLost(e: EventOf<'lost'>): void {
    if (this.state.name === 'asking' && this.state.session === e.session) {
      this.out.say(`The connection request from ${spaced(e.peer)} expired.`);
      this.becomeIdle();
      return;
    }
    if (!this.isCurrent(e.session)) return;
    this.out.say(`Missed ${e.missed} heartbeats`);
    this.out.say('Connection lost. Ending session.');
    this.becomeIdle();
  }

  private onClosed(e: EventOf<'closed'>): void {
    if (this.state.name === 'asking' && this.state.session === e.session) {
      this.out.say(`The connection request from ${spaced(e.peer)} was withdrawn.`);
      this.becomeIdle();
      return;
    }
    if (this.state.name === 'connecting' && this.state.session === e.session) {
      this.out.say(`${spaced(e.peer)} ended the session.`);
      this.becomeIdle();
      return;
    }
    if (!this.isCurrent(e.session)) return;
    this.out.say(
      e.reason === 'peer_restarted' ? 'The peer restarted: this session ended.' : 'Peer closed the session.',
    );
    this.becomeIdle();
  }

  // ---- states -------------------------------------------------------------------------------

  private isCurrent(session: SessionId): boolean {
    return this.state.name === 'chatting' && this.state.session === session;
  }

  private becomeIdle(): void {
    this.state = { name: 'idle' };
    if (this.quitting) return;
    if (this.inputEnded && this.lines.length === 0) {
      this.finishIfDone();
      return;
    }
    this.out.prompt('Start chat with? (IP Port): ');
    this.consumeLines();
  }

  private becomeChatting(session: SessionId, peer: Address): void {
    this.state = { name: 'chatting', session, peer };
    this.promptChat(peer);
    this.consumeLines();
    this.finishIfDone();
  }

  private promptChat(peer: Address): void {
    this.out.prompt(`[${formatAddress(peer)}] Your message: `);
  }

  private settle(messageId: MessageId): void {
    this.undelivered.delete(messageId);
    if (this.undelivered.size === 0 && this.drainTimer) this.finishIfDone();
  }

  /** With input over and nothing queued: quit once the current state has nothing left to do. */
  private finishIfDone(): void {
    if (!this.inputEnded || this.lines.length > 0 || this.quitting) return;
    switch (this.state.name) {
      case 'connecting':
        return; // its outcome decides
      case 'chatting':
        if (this.undelivered.size > 0) {
          this.drainTimer ??= setTimeout(() => void this.quit(), this.options.drainTimeoutMs);
          return;
        }
        void this.quit();
        return;
      default:
        void this.quit();
        return;
    }
  }

  private async quit(): Promise<void> {
    if (this.quitting) return;
    this.quitting = true;
    clearTimeout(this.drainTimer);
    this.out.stopPrompting();
    if (this.state.name === 'chatting') this.out.say('Closing session with peer...');
    await this.peer.close(1000);
    this.onQuit();
  }
}

/**
 * The conversation flow people know from the original netchat, as a state machine over typed
 * lines and the client's updates:
 *
 *   idle        "Start chat with? (IP Port): "          a line names a peer -> connecting
 *   connecting  (no prompt)                              accepted -> chatting; declined, no answer,
 *                                                        "cancel" -> idle
 *   asking      "[IP:PORT] Accept connection? (y/n): "   y -> chatting; n -> idle
 *   chatting    "[IP:PORT] Your message: "               "exit", peer closed, lost -> idle
 *
 * Lines are never re-purposed: typed while connecting they are refused (at a terminal) or held
 * for the chat (piped); the first line after a chat ended under the person's fingers is not
 * taken as an address unless it is one. A script (`--connect` with piped input) only ever sends
 * its lines as messages: when its chat cannot open or ends early, the program quits with a code
 * that says so. Input is read only as fast as it can be sent (the console pauses).
 * Requests arriving while not idle are declined as busy (the client's capacity is 1). When input
 * ends, every message is delivered or reported, the chat is closed (the peer is always told),
 * and then the flow quits. It knows nothing of terminals: it talks to a FlowConsole.
 */
import {
  ChatClient,
  type ClientUpdate,
  type Conversation,
  neverOpened,
  type PeerPort,
  type PresenceUpdate,
  resolveTarget,
  type Target,
  type TrustStore,
  texts,
  type WaitingRequest,
  watchStorage,
} from '@netchat/client';
import { readChatLine, setLog, showHistory } from './chat-commands.js';
import { EXIT, FlowOutcome, notSentReason } from './flow-outcome.js';
import type { FlowConsole, FlowOptions } from './flow-console.js';
import { LineIntake } from './line-intake.js';
import { QuietWait } from './quiet-wait.js';

export { EXIT } from './flow-outcome.js';
export type { FlowConsole, FlowOptions } from './flow-console.js';

type State =
  | { name: 'idle' }
  | { name: 'connecting'; conversation: Conversation }
  | { name: 'asking'; request: WaitingRequest }
  | { name: 'chatting'; conversation: Conversation }
  | { name: 'quitting' };

export class ChatFlow {
  readonly client: ChatClient;
  private state: State = { name: 'idle' };
  /** The lines read and not yet taken, and which were begun for a chat that then ended. */
  private readonly intake: LineIntake;
  /** The last `Missed N heartbeats` said, so a loss does not say it again. */
  private missedShown = 0;
  /** The exit code so far, the undelivered lines, and the events of this side. */
  private readonly outcome: FlowOutcome;
  private quitReported = false;
  /** --wait: closes the chat once the peer has been quiet long enough after the input ended. */
  private readonly quiet: QuietWait | undefined;

  constructor(
    port: PeerPort,
    private readonly out: FlowConsole,
    private readonly options: FlowOptions,
    trustStore: TrustStore,
    private readonly onQuit: (code: number) => void,
  ) {
    this.client = new ChatClient(port, trustStore, {
      capacity: 1,
      acceptAll: options.yes,
      oneChatPerPeer: true,
      ...(options.history && { history: options.history }),
    });
    this.outcome = new FlowOutcome(out);
    this.intake = new LineIntake(out);
    this.quiet =
      options.waitMs === undefined
        ? undefined
        : new QuietWait(options.waitMs, options.timers, () => {
            if (this.state.name === 'chatting') this.quit();
          });
    this.client.subscribe((u) => this.onUpdate(u));
    this.client.subscribePresence((u) => this.onPresence(u));
    if (options.storage) watchStorage(options.storage, (w) => this.out.warn(w.text));
  }

  /** A script: its lines are only ever messages for the one peer named by --connect. */
  private get script(): boolean {
    return this.options.connect !== undefined && !this.options.interactive;
  }

  start(): void {
    const first = this.options.connect;
    if (first) this.connect('kind' in first ? first : { kind: 'address', spec: first });
    else this.becomeIdle();
  }

  /** A line the person typed (or that came down the pipe). */
  line(text: string): void {
    this.intake.push(text);
    this.consumeLines();
  }

  /** End of input (Ctrl-D, or the pipe closed). */
  endOfInput(): void {
    if (this.intake.inputEnded) return;
    this.intake.end();
    if (this.options.interactive) {
      // Ctrl-D: the person wants to quit. Say what happens to what is pending.
      const s = this.state;
      if (s.name === 'connecting') {
        this.out.say('Quitting: withdrawing the connection request.');
        this.client.cancel(s.conversation);
      } else if (s.name === 'asking') {
        this.out.say(`Quitting: declining the request from ${texts.spaced(s.request.peer)}.`);
        this.decline(s.request, 'busy', 'quitting');
        this.becomeIdle();
      }
    }
    this.consumeLines();
    this.finishIfDone();
  }

  /**
   * Ctrl-C (on an empty line) or a signal: close whatever is open and quit now. A request that
   * waits (ours or the peer's), or a script whose input had not ended, was stopped before it was
   * done: the exit code says so (128 + the signal's number) and --json prints `interrupted`.
   */
  interrupt(signal: NodeJS.Signals = 'SIGINT'): void {
    if (this.state.name === 'quitting') return;
    const name = this.state.name;
    if (name === 'connecting' || name === 'asking' || (this.script && !this.intake.inputEnded))
      this.outcome.interrupted(signal);
    this.outcome.dropped(this.intake.takeAll(), 'chat_ended', 'the program was stopped first');
    this.quit();
  }

  // ---- lines --------------------------------------------------------------------------------

  private consumeLines(): void {
    this.intake.drain(
      () => this.readyForLine(),
      (text, endedChat) => this.handleLine(text, endedChat),
      () => this.state.name === 'chatting' && !this.client.hasRoom(this.state.conversation),
    );
  }

  /** Whether the next line can be taken now; if not it waits (and input pauses). */
  private readyForLine(): boolean {
    const s = this.state;
    if (s.name === 'quitting') return false;
    if (s.name === 'connecting') return this.options.interactive;
    if (s.name === 'chatting') return this.client.hasRoom(s.conversation);
    return true;
  }

  /**
   * One line, as typed: `text` is a message's exact text; `command` the same, trimmed, for
   * everything else. `endedChat`: the chat it was begun for ended under the person's fingers.
   */
  private handleLine(text: string, endedChat: Conversation | undefined): void {
    const s = this.state;
    const command = text.trim();
    switch (s.name) {
      case 'idle':
        this.onStartLine(command, endedChat);
        return;
      case 'connecting':
        if (command === 'cancel') this.client.cancel(s.conversation);
        else
          this.outcome.notSent(
            text,
            'waiting',
            `still waiting for ${texts.spaced(s.conversation.target)} to answer`,
            undefined,
            'Type "cancel" to stop waiting.',
          );
        return;
      case 'asking':
        this.onAnswer(command, s.request);
        return;
      case 'chatting':
        this.onChatLine(text, s.conversation);
        return;
      case 'quitting':
        return;
    }
  }

  private onStartLine(text: string, ended: Conversation | undefined): void {
    if (text === '') {
      this.becomeIdle();
      return;
    }
    if (text === 'exit') {
      this.quit();
      return;
    }
    const resolved = resolveTarget(text, {
      contacts: this.options.contacts?.() ?? [],
      rendezvous: this.options.rendezvous ?? false,
      ownFingerprint: this.options.ownFingerprint,
    });
    if (!resolved.ok) {
      // A line meant for a chat that ended as it was typed: say so, rather than "invalid address".
      if (ended)
        this.outcome.notSent(
          text,
          'chat_ended',
          `the chat with ${texts.who(ended.peer ?? ended.target, ended.nick)} had ended`,
        );
      else this.out.warn(resolved.problem.message);
      this.becomeIdle();
      return;
    }
    this.connect(resolved.target);
  }

  private onAnswer(text: string, request: WaitingRequest): void {
    const answer = text.toLowerCase();
    if (answer === 'y' || answer === 'yes') {
      this.client.accept(request);
    } else if (answer === 'n' || answer === 'no') {
      this.decline(request, 'declined', '');
      this.out.say('Connection declined.');
      this.becomeIdle();
    } else {
      this.out.warn('Please answer y or n.');
      this.promptAnswer(request);
    }
  }

  private onChatLine(text: string, conversation: Conversation): void {
    const command = readChatLine(text);
    switch (command.name) {
      case 'exit':
        this.client.close(conversation);
        return;
      case 'message':
        try {
          this.client.send(conversation, command.text);
        } catch (error) {
          this.outcome.notSent(command.text, notSentReason(error), (error as Error).message, conversation);
        }
        break;
      case 'history':
        showHistory(this.out, this.options.history, conversation, command.count);
        break;
      case 'log':
        setLog(this.out, this.options.history, command.on);
        break;
      case 'invalid':
        this.out.warn(command.message);
        break;
      case 'nothing':
        break;
    }
    if (this.state === this.stateOf(conversation)) this.promptChat(conversation);
  }

  private connect(target: Target): void {
    this.out.say(texts.connectingText(target.spec));
    this.out.hidePrompt();
    // The outcome (opened, or ended: a bad address, no answer, declined) comes as an update.
    this.state = { name: 'connecting', conversation: this.client.connect(target) };
  }

  // ---- updates ------------------------------------------------------------------------------

  private onUpdate(u: ClientUpdate): void {
    switch (u.type) {
      case 'request':
        this.onRequest(u.request);
        return;
      case 'request_refused':
        this.out.say(texts.refusedText(u.request));
        return;
      case 'request_gone':
        if (this.state.name === 'asking' && this.state.request === u.request) {
          this.out.say(texts.requestGoneText(u.request, u.why));
          this.becomeIdle();
        }
        return;
      case 'opened':
        this.onOpened(u.conversation, u.how, u.request);
        return;
      case 'ended':
        this.onEnded(u.conversation);
        return;
      case 'message':
        if (!this.isCurrent(u.conversation)) return;
        this.out.say(texts.messageText(u.conversation, u.text));
        // --wait: the peer is not quiet yet.
        this.quiet?.heard();
        return;
      case 'delivered':
        this.finishIfDone();
        return;
      case 'not_delivered':
        this.outcome.notDelivered(u.message);
        this.finishIfDone();
        return;
      case 'room':
        this.consumeLines();
        this.finishIfDone();
        return;
      case 'heartbeat_sent':
        if (this.options.verbose && u.conversation.peer)
          this.out.say(texts.heartbeatSentText(u.conversation.peer));
        return;
      case 'heartbeat_missed':
        if (this.options.verbose && this.isCurrent(u.conversation)) {
          this.out.say(texts.missedText(u.count, u.conversation.peer));
          this.missedShown = u.count;
        }
        return;
      default: {
        const unhandled: never = u;
        void unhandled;
      }
    }
  }

  private onRequest(request: WaitingRequest): void {
    for (const notice of texts.requestNotices(request)) this.notice(notice);
    this.state = { name: 'asking', request };
    this.promptAnswer(request);
    this.consumeLines();
  }

  private onOpened(
    conversation: Conversation,
    how: 'connected' | 'accepted' | 'auto',
    request?: WaitingRequest,
  ): void {
    if (how === 'auto' && request) for (const notice of texts.requestNotices(request)) this.notice(notice);
    if (request) this.outcome.accepted(conversation, request);
    if (how !== 'accepted') for (const notice of texts.openedNotices(conversation, how)) this.notice(notice);
    this.state = { name: 'chatting', conversation };
    this.missedShown = 0;
    this.promptChat(conversation);
    this.consumeLines();
    this.finishIfDone();
  }

  private onEnded(conversation: Conversation): void {
    const current = this.stateOf(conversation) === this.state;
    if (!current && this.state.name !== 'quitting') return;
    const why = conversation.ended;
    this.outcome.ended(conversation);
    if (why?.kind === 'lost' && why.missed !== this.missedShown) this.out.say(texts.missedText(why.missed));
    if (why?.kind !== 'closed' || this.state.name !== 'quitting')
      this.notice(texts.endedNotice(conversation));
    if (this.state.name === 'quitting') return;
    if (this.script) {
      // A script has one peer: when its chat cannot open or ends, the rest of its lines have nowhere to go.
      if (neverOpened(conversation)) {
        this.outcome.fail(EXIT.notConnected);
        this.outcome.dropped(this.intake.takeAll(), 'not_connected', 'the chat never opened');
      } else if (why?.kind !== 'closed' && !this.intake.done) {
        this.outcome.fail(EXIT.notDelivered);
        this.outcome.dropped(this.intake.takeAll(), 'chat_ended', 'the chat ended before it could be sent');
      }
      this.quit();
      return;
    }
    if (why?.kind === 'lost' || why?.kind === 'peer_closed' || why?.kind === 'peer_restarted')
      this.intake.chatEnded(conversation);
    this.becomeIdle();
  }

  // ---- states -------------------------------------------------------------------------------

  private stateOf(conversation: Conversation): State | undefined {
    const s = this.state;
    return (s.name === 'connecting' || s.name === 'chatting') && s.conversation === conversation
      ? s
      : undefined;
  }

  /** A peer's nick change is a line ("bob is now known as robert"); typing is not shown here. */
  private onPresence(u: PresenceUpdate): void {
    if (u.type === 'nick' && this.isCurrent(u.conversation))
      for (const notice of texts.nickChangeNotices(u)) this.notice(notice);
  }

  private isCurrent(conversation: Conversation): boolean {
    return this.state.name === 'chatting' && this.state.conversation === conversation;
  }

  private becomeIdle(): void {
    this.state = { name: 'idle' };
    if (this.intake.done) {
      this.finishIfDone();
      return;
    }
    this.out.prompt('Start chat with? (IP Port): ');
    this.consumeLines();
  }

  private promptChat(conversation: Conversation): void {
    if (conversation.peer) this.out.prompt(`${texts.peerTag(conversation.peer)} Your message: `);
  }

  private promptAnswer(request: WaitingRequest): void {
    this.out.prompt(`${texts.peerTag(request.peer)} Accept connection? (y/n): `, 'question');
  }

  private decline(request: WaitingRequest, reason: 'declined' | 'busy', detail: string): void {
    this.client.decline(request, reason, detail);
    this.outcome.declined(request, reason, detail);
  }

  private notice(notice: texts.Notice): void {
    if (notice.warning) this.out.warn(notice.text);
    else this.out.say(notice.text);
  }

  /** With input over and every line taken: close what is done, then quit once every message is settled. */
  private finishIfDone(): void {
    const s = this.state;
    if (s.name === 'quitting') {
      if (this.client.unsettled().length === 0 && !this.quitReported) {
        this.quitReported = true;
        this.onQuit(this.outcome.exitCode());
      }
      return;
    }
    if (!this.intake.done) return;
    switch (s.name) {
      case 'connecting':
        return; // its outcome decides
      case 'asking':
        // No answer can come any more: quitting declines it.
        this.quit();
        return;
      case 'chatting':
        if (!this.client.hasRoom(s.conversation)) return; // the rest is still being sent
        if (this.quiet) this.quiet.start();
        else this.quit();
        return;
      case 'idle':
        this.quit();
        return;
    }
  }

  /** Closes everything (the peer is told), then quits once every message is delivered or reported. */
  private quit(): void {
    if (this.state.name === 'quitting') return;
    const chatting = this.state.name === 'chatting';
    if (this.state.name === 'asking') this.decline(this.state.request, 'busy', 'quitting');
    this.quiet?.stop();
    this.state = { name: 'quitting' };
    this.out.hidePrompt();
    if (chatting) this.out.say('Closing session with peer...');
    this.client.closeAll();
    this.finishIfDone();
  }
}

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
 * and then the flow quits. The flow decides; TypedLines reads each line in the state it finds
 * (typed-lines.ts), FlowView says it on a FlowConsole (no terminal here), FlowOutcome keeps the
 * account (the exit code, the --json events of this side), and unfinished-work.ts says what an
 * interrupt leaves undone.
 */
import {
  ChatClient,
  type ClientUpdate,
  type Conversation,
  type PeerPort,
  type Target,
  type TrustStore,
  texts,
  type WaitingRequest,
  watchStorage,
} from '@netchat/client';
import { FileFlow } from './file-flow.js';
import type { FlowConsole, FlowOptions } from './flow-console.js';
import { EXIT, FlowOutcome } from './flow-outcome.js';
import type { FlowState } from './flow-state.js';
import { FlowView } from './flow-view.js';
import { LineIntake } from './line-intake.js';
import { QuietWait } from './quiet-wait.js';
import { TypedLines } from './typed-lines.js';
import {
  anythingUnfinished,
  transfersLeftText,
  transfersOf,
  type UnfinishedWork,
  unfinishedText,
} from './unfinished-work.js';

export type { FlowConsole, FlowOptions } from './flow-console.js';
export { EXIT } from './flow-outcome.js';

export class ChatFlow {
  readonly client: ChatClient;
  private state: FlowState = { name: 'idle' };
  /** The lines read and not yet taken, and which were begun for a chat that then ended. */
  private readonly intake: LineIntake;
  /** The prompts, and the lines that say what happens. */
  private readonly view: FlowView;
  /** The exit code so far, the undelivered lines, and the events of this side. */
  private readonly outcome: FlowOutcome;
  private quitReported = false;
  /** quit() has begun (the state is 'quitting' once it has closed what it closes). */
  private quitStarted = false;
  /** --wait: closes the chat once the peer has been quiet long enough after the input ended. */
  private readonly quiet: QuietWait | undefined;
  /** File transfers, when the peer takes files (`options.files`). */
  readonly files: FileFlow | undefined;
  /** What a typed line does in each state. */
  private readonly lines: TypedLines;

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
    this.view = new FlowView(out, options.verbose);
    this.intake = new LineIntake(out, {
      ready: () => this.readyForLine(),
      take: (text, endedChat) => this.lines.take(text, endedChat),
      busy: () => this.state.name === 'chatting' && !this.client.hasRoom(this.state.conversation),
    });
    this.quiet =
      options.waitMs === undefined
        ? undefined
        : new QuietWait(options.waitMs, options.timers, () => {
            if (this.state.name === 'chatting') this.quit();
          });
    this.client.subscribe((u) => this.onUpdate(u));
    this.files = FileFlow.forChat(
      out,
      options,
      this.script,
      () => this.client.conversations,
      (prompt) => this.filesChanged(prompt),
    );
    // The peer's nick changes, in the current chat.
    this.client.subscribePresence((u) => this.isCurrent(u.conversation) && this.view.presence(u));
    if (options.storage) watchStorage(options.storage, (w) => this.out.warn(w.text));
    this.lines = new TypedLines(
      {
        state: () => this.state,
        script: () => this.script,
        connect: (target) => this.connect(target),
        quit: () => this.quit(),
        becomeIdle: () => this.becomeIdle(),
        decline: (request, reason, detail) => this.decline(request, reason, detail),
        promptAgainIn: (conversation) => {
          if (this.state === this.stateOf(conversation)) this.chatPrompt(conversation);
        },
      },
      { client: this.client, out, view: this.view, outcome: this.outcome, options, files: this.files },
    );
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
    this.intake.drain();
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
    this.intake.drain();
    this.finishIfDone();
  }

  /**
   * Ctrl-C (on an empty line) or a signal: close whatever is open and quit now. Anything asked for
   * and not finished (a request that waits, ours or the peer's; a script whose input had not
   * ended; a line not sent; an offer or a transfer not ended; a message not yet confirmed) was
   * stopped before it was done: one line says what, the exit code says so (128 + the signal's
   * number) and --json prints `interrupted`. With nothing pending the quit is a clean one.
   */
  interrupt(signal: NodeJS.Signals = 'SIGINT'): void {
    const s = this.state;
    if (s.name === 'quitting') return;
    const lines = this.intake.takeAll();
    const work: UnfinishedWork = {
      ...(s.name === 'connecting' && { request: { ours: true, peer: texts.spaced(s.conversation.target) } }),
      ...(s.name === 'asking' && { request: { ours: false, peer: texts.spaced(s.request.peer) } }),
      inputOpen: this.script && !this.intake.inputEnded,
      lines: lines.length,
      ...transfersOf(this.files),
      messages: this.client.unsettled().length,
    };
    if (anythingUnfinished(work)) {
      this.out.warn(unfinishedText(work));
      this.outcome.interrupted(signal);
    }
    this.outcome.dropped(lines, 'chat_ended', 'the program was stopped first');
    this.quit(true);
  }

  // ---- lines --------------------------------------------------------------------------------

  /** Whether the next line can be taken now; if not it waits (and input pauses). */
  private readyForLine(): boolean {
    const s = this.state;
    if (s.name === 'quitting') return false;
    if (s.name === 'connecting') return this.options.interactive;
    if (s.name === 'chatting') return this.client.hasRoom(s.conversation);
    return true;
  }

  /** The chat's prompt, or the question of an offer waiting for an answer. */
  private chatPrompt(conversation: Conversation): void {
    if (this.files?.asking) this.files.ask();
    else this.view.chatPrompt(conversation);
  }

  /** A transfer ended or an offer was answered: prompt again, and see whether the run is done. */
  private filesChanged(prompt: boolean): void {
    const s = this.state;
    if (prompt && s.name === 'chatting') this.chatPrompt(s.conversation);
    this.finishIfDone();
  }

  private connect(target: Target): void {
    this.out.say(texts.connectingText(target));
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
        this.view.refused(u.request);
        this.outcome.declined(u.request, u.reason, u.detail);
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
        this.view.message(u.conversation, u.text);
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
        this.intake.drain();
        this.finishIfDone();
        return;
      case 'heartbeat_sent':
        this.view.heartbeatSent(u.conversation);
        return;
      case 'heartbeat_missed':
        if (this.isCurrent(u.conversation)) this.view.heartbeatMissed(u.conversation, u.count);
        return;
      default: {
        const unhandled: never = u;
        void unhandled;
      }
    }
  }

  private onRequest(request: WaitingRequest): void {
    this.view.request(request);
    this.state = { name: 'asking', request };
    this.view.answerPrompt(request);
    this.intake.drain();
  }

  private onOpened(
    conversation: Conversation,
    how: 'connected' | 'accepted' | 'auto',
    request?: WaitingRequest,
  ): void {
    this.view.opened(conversation, how, request);
    if (request) this.outcome.accepted(conversation, request);
    this.state = { name: 'chatting', conversation };
    this.view.chatPrompt(conversation);
    this.files?.opened(conversation);
    this.intake.drain();
    this.finishIfDone();
  }

  private onEnded(conversation: Conversation): void {
    const current = this.stateOf(conversation) === this.state;
    if (!current && this.state.name !== 'quitting') return;
    const why = conversation.ended;
    this.outcome.ended(conversation);
    this.view.ended(conversation, this.state.name === 'quitting');
    if (this.state.name === 'quitting') return;
    if (this.script) {
      this.outcome.scriptChatEnded(conversation, this.intake);
      this.quit();
      return;
    }
    if (why?.kind === 'lost' || why?.kind === 'peer_closed' || why?.kind === 'peer_restarted')
      this.intake.chatEnded(conversation);
    this.becomeIdle();
  }

  // ---- states -------------------------------------------------------------------------------

  private stateOf(conversation: Conversation): FlowState | undefined {
    const s = this.state;
    return (s.name === 'connecting' || s.name === 'chatting') && s.conversation === conversation
      ? s
      : undefined;
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
    this.view.startPrompt();
    this.intake.drain();
  }

  private decline(request: WaitingRequest, reason: 'declined' | 'busy', detail: string): void {
    this.client.decline(request, reason, detail);
    this.outcome.declined(request, reason, detail);
  }

  /** With input over and every line taken: close what is done, then quit once every message is settled. */
  private finishIfDone(): void {
    const s = this.state;
    // Inside quit: declining the offers that ask y/n ends their transfers, which asks this; the
    // quit itself asks it once everything is closed (else it ran again inside itself).
    if (this.quitStarted && s.name !== 'quitting') return;
    if (s.name === 'quitting') {
      if (this.client.unsettled().length === 0 && !this.quitReported) {
        this.quitReported = true;
        // --send-file: 4 unless every file was received and verified.
        this.onQuit(this.outcome.exitCode() || (this.files?.exitCode() ?? 0));
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
        if (this.files && !this.files.settled()) return; // files still being offered or moving
        if (this.quiet) this.quiet.start();
        else this.quit();
        return;
      case 'idle':
        this.quit();
        return;
    }
  }

  /**
   * Closes everything (the peer is told), then quits once every message is delivered or reported.
   * `interrupted`: a signal's quit, which has said what it left unfinished already.
   */
  private quit(interrupted = false): void {
    if (this.state.name === 'quitting' || this.quitStarted) return;
    this.quitStarted = true;
    const chatting = this.state.name === 'chatting';
    // Quitting (Ctrl-D, the end of input) while a transfer asked for has not ended leaves
    // it unfinished (it goes on when offered again): said, and the exit code is 4, not 0.
    const left = interrupted ? undefined : transfersLeftText(this.files);
    if (left) {
      this.out.warn(left);
      this.outcome.fail(EXIT.notDelivered);
    }
    if (this.state.name === 'asking') this.decline(this.state.request, 'busy', 'quitting');
    this.quiet?.stop();
    this.files?.quitting();
    this.state = { name: 'quitting' };
    this.out.hidePrompt();
    if (chatting) this.out.say('Closing session with peer...');
    this.client.closeAll();
    this.finishIfDone();
  }
}

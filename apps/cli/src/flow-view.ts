/**
 * What the person sees of the chat flow: its three prompts, and a line for each thing that
 * happens (a request, a chat opened or ended, a message, heartbeats with --verbose, a nick
 * change), in the client's words (`texts`). The flow decides what happens; this says it.
 */
import type { Conversation, PresenceUpdate, WaitingRequest } from '@netchat/client';
import { texts } from '@netchat/client';
import type { FlowConsole } from './flow-console.js';

/** Busy declines said one by one before the rest are only counted (a stranger's flood of requests). */
export const BUSY_DECLINES_SAID = 3;

export class FlowView {
  /** The last `Missed N heartbeats` said, so a loss does not say it again. */
  private missedShown = 0;
  /** Requests declined as busy since the person was last free (at the start prompt). */
  private busyDeclines = 0;

  constructor(
    private readonly out: FlowConsole,
    private readonly verbose: boolean,
  ) {}

  startPrompt(): void {
    if (this.busyDeclines > BUSY_DECLINES_SAID)
      this.out.say(texts.moreDeclinedText(this.busyDeclines - BUSY_DECLINES_SAID));
    this.busyDeclines = 0;
    this.out.prompt('Start chat with? (IP Port): ');
  }

  chatPrompt(conversation: Conversation): void {
    if (conversation.peer) this.out.prompt(`${texts.peerTag(conversation.peer)} Your message: `);
  }

  answerPrompt(request: WaitingRequest): void {
    this.out.prompt(`${texts.peerTag(request.peer)} Accept connection? (y/n): `, 'question');
  }

  /** Who asks: address, nick, and what their key is to us (a warning first for an impersonation). */
  request(request: WaitingRequest): void {
    for (const notice of texts.requestNotices(request)) this.notice(notice);
  }

  /** A request declined at once: busy, or (a warning) a new key with a verified peer's nick. */
  refused(request: WaitingRequest): void {
    const text = texts.refusedText(request);
    if (request.trust.level === 'impersonation' && request.trust.verified) {
      this.out.warn(text);
      return;
    }
    // The first few are said; the rest only counted, and their number said at the next start prompt.
    this.busyDeclines++;
    if (this.busyDeclines <= BUSY_DECLINES_SAID) this.out.say(text);
    else if (this.busyDeclines === BUSY_DECLINES_SAID + 1) this.out.say(texts.MORE_DECLINES_TEXT);
  }

  /** A chat opened: `auto` (--yes) says who asked; one we asked for says whom we reached. */
  opened(conversation: Conversation, how: 'connected' | 'accepted' | 'auto', request?: WaitingRequest): void {
    if (how === 'auto' && request) this.request(request);
    if (how !== 'accepted') for (const notice of texts.openedNotices(conversation, how)) this.notice(notice);
    this.missedShown = 0;
  }

  /**
   * How a chat ended. A chat we closed, or a request we withdrew, is not news while quitting: the
   * quit said so already (`Closing session…`, `Interrupted: the request to … withdrawn.`).
   */
  ended(conversation: Conversation, quitting: boolean): void {
    const why = conversation.ended;
    if (why?.kind === 'lost' && why.missed !== this.missedShown) this.out.say(texts.missedText(why.missed));
    const ours = why?.kind === 'closed' || why?.kind === 'cancelled';
    if (!ours || !quitting) this.notice(texts.endedNotice(conversation));
  }

  message(conversation: Conversation, text: string): void {
    this.out.say(texts.messageText(conversation, text));
  }

  heartbeatSent(conversation: Conversation): void {
    if (this.verbose && conversation.peer) this.out.say(texts.heartbeatSentText(conversation.peer));
  }

  /** Heartbeats missed in the current chat (with --verbose). */
  heartbeatMissed(conversation: Conversation, count: number): void {
    if (!this.verbose) return;
    this.out.say(texts.missedText(count, conversation.peer));
    this.missedShown = count;
  }

  /** The peer's nick change is a line ("bob is now known as robert"); typing is not shown here. */
  presence(update: PresenceUpdate): void {
    if (update.type === 'nick') for (const notice of texts.nickChangeNotices(update)) this.notice(notice);
  }

  notice(notice: texts.Notice): void {
    if (notice.warning) this.out.warn(notice.text);
    else this.out.say(notice.text);
  }
}

/**
 * The lines read from a person or a pipe, taken one at a time when the flow is ready for them.
 * Input is read only as fast as lines can be taken (the console is paused while any wait), so
 * nothing piles up and nothing is dropped. It also knows which lines were begun for a chat that
 * then ended under the person's fingers (already read, or half typed at that moment): those are
 * not taken as addresses by accident, while a line begun later is read at its own prompt.
 */
import type { Conversation } from '@netchat/client';
import type { FlowConsole } from './flow-console.js';

/** Who takes the lines: the flow. */
export interface LineTaker {
  /** Whether the next line can be taken now; if not it waits (and input pauses). */
  ready(): boolean;
  /** One line, and the chat it was begun for if that chat ended under it. */
  take(text: string, endedChat: Conversation | undefined): void;
  /** Lines taken are still being sent (a chat's backlog): input pauses meanwhile. */
  busy(): boolean;
}

export class LineIntake {
  private readonly waiting: string[] = [];
  private paused = false;
  private ended = false;
  /** The chat that just ended, and how many lines were begun for it then. */
  private begunFor: { conversation: Conversation; lines: number } | undefined;

  constructor(
    private readonly out: Pick<FlowConsole, 'pauseInput' | 'resumeInput' | 'hasDraft'>,
    private readonly taker: LineTaker,
  ) {}

  push(text: string): void {
    this.waiting.push(text);
  }

  /** The input ended (Ctrl-D, or the pipe closed). */
  end(): void {
    this.ended = true;
  }

  get inputEnded(): boolean {
    return this.ended;
  }

  /** Lines read and not yet taken. */
  get count(): number {
    return this.waiting.length;
  }

  /** Every line of the input was read and taken. */
  get done(): boolean {
    return this.ended && this.waiting.length === 0;
  }

  /**
   * Hands the taker each waiting line while it is ready, with only its line ending taken off (a
   * message keeps its indentation), and the chat it was begun for if that chat ended under it.
   * Then pauses the input while lines wait or the taker is busy, else resumes it.
   */
  drain(): void {
    while (this.waiting.length > 0 && this.taker.ready()) {
      const text = (this.waiting.shift() as string).replace(/\r$/, '');
      const begun = this.begunFor;
      if (begun && --begun.lines <= 0) this.begunFor = undefined;
      this.taker.take(text, begun?.conversation);
    }
    const hold = this.waiting.length > 0 || this.taker.busy();
    if (hold && !this.paused) this.out.pauseInput();
    if (!hold && this.paused) this.out.resumeInput();
    this.paused = hold;
  }

  /** Takes every waiting line out (to report them not sent). */
  takeAll(): string[] {
    return this.waiting.splice(0);
  }

  /** A chat ended under the person's fingers: the lines read or half typed now were meant for it. */
  chatEnded(conversation: Conversation): void {
    const begun = this.waiting.length + (this.out.hasDraft() ? 1 : 0);
    this.begunFor = begun > 0 ? { conversation, lines: begun } : undefined;
  }
}

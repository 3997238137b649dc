/**
 * What the chat flow needs of a terminal (or of a test's recording): lines to show, prompts,
 * whether something is half typed, backpressure on the input, and the events --json prints.
 * LineConsole is the real one.
 */
import type { LocalEvent } from './json-events.js';

export interface FlowConsole {
  /** A line of conversation or status for the person. */
  say(line: string): void;
  /** A one-line complaint, or news that should stand out. */
  warn(line: string): void;
  /** Waits for the next line behind this prompt. A `question` sets a half-typed line aside. */
  prompt(text: string, kind?: 'line' | 'question'): void;
  /** No prompt (while connecting, and when quitting). */
  hidePrompt(): void;
  /** Whether a line is half typed at this moment (at a terminal; never down a pipe). */
  hasDraft(): boolean;
  /** Backpressure: stop reading input until `resumeInput`. */
  pauseInput(): void;
  resumeInput(): void;
  /** What only this side knows of (printed with --json; the words above say it to a person). */
  event(event: LocalEvent): void;
}

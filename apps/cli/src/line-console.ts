/**
 * The terminal edge of the CLI: reads lines (from a person at a terminal, or a pipe) and
 * shows prompts and messages without garbling what the person is typing.
 *
 * At a terminal: a message is printed above the prompt and the half-typed draft (however many
 * rows it wraps over), which are then drawn again; a question (y/n) sets the draft aside and
 * gives it back at the same prompt afterwards; Ctrl-C clears a half-typed line as shells do, and
 * quits on an empty line.
 */
import readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { texts } from '@netchat/client';
import type { FlowConsole } from './chat-flow.js';
import { type LocalEvent, localEventToJson } from './json-events.js';
import { LineCap } from './line-cap.js';

export interface ConsoleStreams {
  input: Readable & { isTTY?: boolean };
  output: Writable & { isTTY?: boolean; columns?: number };
  errors: Writable;
}

export interface ConsoleHandlers {
  line(text: string): void;
  end(): void;
  interrupt(): void;
}

/** readline's editing state, which its typings leave out. */
interface EditableLine {
  line: string;
  cursor: number;
  /** Rows above the cursor readline moves up before it redraws: 0 once we cleared them. */
  prevRows: number;
}

/** Human-readable output: prompts and messages on stdout. */
export class LineConsole implements FlowConsole {
  private readonly rl: readline.Interface;
  readonly interactive: boolean;
  /** Piped mode: a prompt was written and no newline followed it yet. */
  private midLine = false;
  private prompting = false;
  private promptText = '';
  /** At a terminal: the status line (a transfer's progress) shown above the prompt, if any. */
  private statusLine: string | undefined;
  /** Whether it is on the screen now (one row above the prompt's first). */
  private statusShown = false;
  /** A draft set aside for a question, and the prompt it was typed at. */
  private stashed: { prompt: string; text: string } | undefined;

  constructor(
    private readonly streams: ConsoleStreams,
    handlers: ConsoleHandlers,
    private readonly quiet = false,
    /** Told each local event printed (--json: the sessions ended here, json-session-ends.ts). */
    private readonly printed?: (event: LocalEvent) => void,
  ) {
    this.interactive = Boolean(streams.input.isTTY && streams.output.isTTY) && !quiet;
    this.rl = readline.createInterface({
      // A person types at a terminal; a pipe may bring a "line" with no end (line-cap.ts).
      input: this.interactive ? streams.input : streams.input.pipe(new LineCap()),
      output: this.interactive ? streams.output : undefined,
      terminal: this.interactive,
      historySize: 100,
    });
    this.rl.on('line', (text) => {
      this.statusAboveEcho(text);
      // The entered line is the terminal's now, and the cursor on a fresh row: nothing of the old
      // prompt is to be cleared any more (a prompt that wrapped would have its echo's rows erased).
      if (this.interactive) this.rl.setPrompt('');
      handlers.line(text);
    });
    this.rl.on('close', handlers.end);
    // The terminal went away (its window closed): readline, leaving raw mode as the input ends,
    // gets EIO. Not a crash: the hangup's SIGHUP, and the close that follows, end the chat.
    this.rl.on('error', (error: NodeJS.ErrnoException) => {
      if (!terminalGone(error)) throw error;
    });
    // At a terminal readline turns Ctrl-C into this event instead of a signal.
    this.rl.on('SIGINT', () => {
      if (this.draft() === '') {
        handlers.interrupt();
        return;
      }
      // As shells do: ^C drops the half-typed line and gives a fresh prompt.
      this.moveToEndOfDraft();
      this.streams.output.write('^C\n');
      (this.rl as unknown as EditableLine).prevRows = 0;
      this.setDraft('');
      if (this.prompting) this.rl.prompt();
    });
  }

  say(line: string): void {
    if (this.quiet) return;
    this.writeLine(this.streams.output, line);
  }

  warn(line: string): void {
    this.writeLine(this.quiet ? this.streams.errors : this.streams.output, line);
  }

  /** With --json (quiet), one JSON object a line on stdout; a person reads the words instead. */
  event(event: LocalEvent): void {
    if (!this.quiet) return;
    this.printed?.(event);
    this.streams.output.write(`${localEventToJson(event)}\n`);
  }

  /** One line redrawn in place above the prompt (at a terminal only; cut to its width by the caller). */
  status(line: string | undefined): void {
    if (!this.interactive || this.quiet) return;
    if (line === this.statusLine && this.statusShown === (line !== undefined)) return;
    this.clearShown();
    this.statusLine = line;
    this.redraw();
  }

  prompt(text: string, kind: 'line' | 'question' = 'line'): void {
    if (this.quiet) return;
    if (!this.interactive) {
      // Piped input is not echoed: start each prompt on a line of its own.
      this.prompting = true;
      this.streams.output.write(this.midLine ? `\n${text}` : text);
      this.midLine = true;
      return;
    }
    this.clearShown();
    if (kind === 'question') {
      // What was half typed belongs to the prompt it was typed at, not to the answer.
      const draft = this.draft();
      if (draft !== '') this.stashed = { prompt: this.promptText, text: draft };
      this.setDraft('');
    } else if (this.stashed && this.stashed.prompt === text) {
      this.setDraft(this.stashed.text);
      this.stashed = undefined;
    }
    this.prompting = true;
    this.promptText = text;
    this.rl.setPrompt(text);
    this.showStatus();
    this.rl.prompt(true);
  }

  hidePrompt(): void {
    if (!this.prompting) return;
    if (this.interactive) {
      this.clearShown();
      this.rl.setPrompt('');
    } else if (this.midLine) {
      this.streams.output.write('\n');
      this.midLine = false;
    }
    this.prompting = false;
    this.promptText = '';
  }

  hasDraft(): boolean {
    return this.draft() !== '';
  }

  pauseInput(): void {
    this.rl.pause();
  }

  resumeInput(): void {
    this.rl.resume();
  }

  /** Ends any half-written line and stops reading. */
  close(): void {
    if (this.midLine) this.streams.output.write('\n');
    if (this.interactive && this.prompting) this.streams.output.write('\n');
    this.midLine = false;
    this.prompting = false;
    this.rl.removeAllListeners('close');
    this.rl.close();
  }

  private writeLine(stream: Writable, line: string): void {
    if (this.interactive && stream === this.streams.output) {
      // Clear the prompt and the draft (every row it wraps over), print, then draw them again below.
      this.clearShown();
      stream.write(`${line}\n`);
      this.redraw();
      return;
    }
    if (this.midLine && stream === this.streams.output) stream.write('\n');
    this.midLine = false;
    stream.write(`${line}\n`);
  }

  /**
   * A line was entered: the terminal keeps its echo (the prompt and the text, over as many rows
   * as they wrap to) below the status line. The status goes, and the echo is written again in
   * its place, so the status is drawn anew below it, never left stale above a message.
   */
  private statusAboveEcho(text: string): void {
    if (!this.interactive || !this.statusShown) return;
    const out = this.streams.output;
    const echo = `${this.promptText}${text}`;
    const rows = Math.max(1, Math.ceil(texts.columnsOf(echo) / (out.columns || 80)));
    readline.moveCursor(out, 0, -(rows + 1));
    readline.cursorTo(out, 0);
    readline.clearScreenDown(out);
    out.write(`${echo}\n`);
    this.statusShown = false;
  }

  /** The status line (if any), then the prompt and the draft, below what was printed. */
  private redraw(): void {
    this.showStatus();
    if (this.prompting || this.draft() !== '') this.rl.prompt(true);
  }

  private showStatus(): void {
    if (this.statusLine === undefined || this.statusShown) return;
    this.streams.output.write(`${this.statusLine}\n`);
    this.statusShown = true;
  }

  /** Erases the status line, the prompt and the draft from the screen, from their first row down. */
  private clearShown(): void {
    const out = this.streams.output;
    const rows = this.rl.getCursorPos().rows + (this.statusShown ? 1 : 0);
    this.statusShown = false;
    if (rows > 0) readline.moveCursor(out, 0, -rows);
    readline.cursorTo(out, 0);
    readline.clearScreenDown(out);
    // The rows are gone: readline must not move up over them (onto our line) when it redraws.
    (this.rl as unknown as EditableLine).prevRows = 0;
  }

  private draft(): string {
    return this.interactive ? (this.rl as unknown as EditableLine).line : '';
  }

  private setDraft(text: string): void {
    const editable = this.rl as unknown as EditableLine;
    editable.line = text;
    editable.cursor = text.length;
  }

  private moveToEndOfDraft(): void {
    const editable = this.rl as unknown as EditableLine;
    const end = this.rl.getCursorPos();
    editable.cursor = editable.line.length;
    const after = this.rl.getCursorPos();
    readline.moveCursor(this.streams.output, after.cols - end.cols, after.rows - end.rows);
  }
}

/** An error that says the terminal is gone (EIO from a pty whose window closed, EPIPE). */
export function terminalGone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EIO' || code === 'EPIPE';
}

/**
 * The terminal edge of the CLI: reads lines (from a person at a terminal, or a pipe) and
 * shows prompts and messages without garbling what the person is typing.
 */
import readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { FlowConsole } from './chat-flow.js';

export interface ConsoleStreams {
  input: Readable & { isTTY?: boolean };
  output: Writable & { isTTY?: boolean };
  errors: Writable;
}

export interface ConsoleHandlers {
  line(text: string): void;
  end(): void;
  interrupt(): void;
}

/** Human-readable output: prompts and messages on stdout. */
export class LineConsole implements FlowConsole {
  private readonly rl: readline.Interface;
  private readonly interactive: boolean;
  /** Piped mode: a prompt was written and no newline followed it yet. */
  private midLine = false;
  private prompting = false;

  constructor(
    private readonly streams: ConsoleStreams,
    handlers: ConsoleHandlers,
    private readonly quiet = false,
  ) {
    this.interactive = Boolean(streams.input.isTTY && streams.output.isTTY) && !quiet;
    this.rl = readline.createInterface({
      input: streams.input,
      output: this.interactive ? streams.output : undefined,
      terminal: this.interactive,
      historySize: 100,
    });
    this.rl.on('line', handlers.line);
    this.rl.on('close', handlers.end);
    // At a terminal readline turns Ctrl-C into this event instead of a signal.
    this.rl.on('SIGINT', handlers.interrupt);
  }

  say(line: string): void {
    if (this.quiet) return;
    this.writeLine(this.streams.output, line);
  }

  warn(line: string): void {
    this.writeLine(this.quiet ? this.streams.errors : this.streams.output, line);
  }

  prompt(text: string): void {
    if (this.quiet) return;
    this.prompting = true;
    if (this.interactive) {
      this.rl.setPrompt(text);
      this.rl.prompt(true);
    } else {
      // Piped input is not echoed: start each prompt on a line of its own.
      this.streams.output.write(this.midLine ? `\n${text}` : text);
      this.midLine = true;
    }
  }

  stopPrompting(): void {
    if (this.interactive && this.prompting) {
      this.streams.output.write('\n');
    }
    this.prompting = false;
  }

  /** Ends any half-written line and stops reading. */
  close(): void {
    if (this.midLine) this.streams.output.write('\n');
    this.midLine = false;
    this.prompting = false;
    this.rl.removeAllListeners('close');
    this.rl.close();
  }

  private writeLine(stream: Writable, line: string): void {
    if (this.interactive && stream === this.streams.output) {
      // Clear the prompt and the half-typed input, print, then draw them again below.
      readline.clearLine(stream, 0);
      readline.cursorTo(stream, 0);
      stream.write(`${line}\n`);
      if (this.prompting) this.rl.prompt(true);
      return;
    }
    if (this.midLine && stream === this.streams.output) stream.write('\n');
    this.midLine = false;
    stream.write(`${line}\n`);
  }
}

/** Runs the built `netchat-bot` as a child process and reads its JSON log lines. */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export type LogLine = Record<string, unknown> & { event?: string };

export class BotProcess {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [bin, ...args], { stdio: 'pipe' });
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
    });
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  logs(): LogLine[] {
    return this.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line));
  }

  /** Waits (at most `ms`) for `count` log lines that satisfy `match`. */
  async waitForLogs(match: (line: LogLine) => boolean, count = 1, ms = 10_000): Promise<LogLine[]> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.logs().filter(match);
      if (found.length >= count) return found;
      if (Date.now() > deadline) {
        throw new Error(
          `timed out waiting for ${count} log lines\n--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The port it listens on, from its first log line. */
  async port(): Promise<number> {
    const [listening] = await this.waitForLogs((l) => l.event === 'listening');
    return listening?.port as number;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode === null) this.child.kill(signal);
  }
}

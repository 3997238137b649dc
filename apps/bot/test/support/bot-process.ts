/** Runs the built `netchat-bot` as a child process and reads its JSON log lines. */
import { fileURLToPath } from 'node:url';
import { ProgramProcess } from '@netchat/testkit';

const bin = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export type LogLine = Record<string, unknown> & { event?: string };

export class BotProcess extends ProgramProcess {
  /** `env` may name a NETCHAT_HOME (a bot started again with the same key); else a new one. */
  constructor(args: string[], env: Record<string, string> = {}) {
    super(bin, args, env);
  }

  /** The log lines written whole so far (a long line may arrive in parts: the last is left until its end). */
  logs(): LogLine[] {
    return this.stdout
      .split('\n')
      .slice(0, -1)
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line));
  }

  /** Waits (at most `ms`) for `count` log lines that satisfy `match`. */
  async waitForLogs(match: (line: LogLine) => boolean, count = 1, ms = 10_000): Promise<LogLine[]> {
    await this.until(() => this.logs().filter(match).length >= count, `${count} log lines`, ms);
    return this.logs().filter(match);
  }

  /** The port it listens on, from its first log line. */
  async port(): Promise<number> {
    const [listening] = await this.waitForLogs((l) => l.event === 'listening');
    return listening?.port as number;
  }
}

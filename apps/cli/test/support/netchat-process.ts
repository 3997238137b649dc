/** Runs the built `netchat` as a child process and talks to it through its stdin and stdout. */
import { fileURLToPath } from 'node:url';
import { type ProgramOptions, ProgramProcess } from '@netchat/testkit';

const bin = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export class NetchatProcess extends ProgramProcess {
  constructor(args: string[], env: Record<string, string> = {}, options: ProgramOptions = {}) {
    super(bin, args, env, options);
  }

  /** Waits (at most `ms`) until stdout matches `pattern` at least `times` times. */
  waitFor(pattern: RegExp | string, ms = 10_000, times = 1): Promise<void> {
    const count = () =>
      typeof pattern === 'string'
        ? this.stdout.split(pattern).length - 1
        : (this.stdout.match(new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`)) ?? []).length;
    return this.until(() => count() >= times, String(pattern), ms);
  }

  /** The port it listens on, as it reports at start (a line, or a `listening` event with --json). */
  async port(ms = 10_000): Promise<number> {
    const reported = /^Listening on UDP port (\d+)\.|^\{"type":"listening","port":(\d+)/m;
    await this.until(() => reported.test(this.stdout), 'the port it listens on', ms);
    const [, line, json] = reported.exec(this.stdout) ?? [];
    return Number(line ?? json);
  }

  /** Waits (at most `ms`) until a JSON event of this type was printed (with --json). */
  waitForEvent(type: string, ms = 10_000): Promise<void> {
    return this.until(() => this.events().some((e) => e.type === type), `a ${type} event`, ms);
  }

  /** The JSON events printed so far (with --json). */
  events(): Record<string, unknown>[] {
    return this.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line));
  }
}

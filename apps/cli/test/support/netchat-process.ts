/** Runs the built `netchat` as a child process and talks to it through its stdin and stdout. */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export class NetchatProcess {
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

  type(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  endInput(): void {
    this.child.stdin.end();
  }

  /** Waits (at most `ms`) until stdout matches `pattern` at least `times` times. */
  async waitFor(pattern: RegExp | string, ms = 10_000, times = 1): Promise<void> {
    const deadline = Date.now() + ms;
    const count = () =>
      typeof pattern === 'string'
        ? this.stdout.split(pattern).length - 1
        : (this.stdout.match(new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`)) ?? []).length;
    while (count() < times) {
      if (Date.now() > deadline) {
        throw new Error(
          `timed out waiting for ${pattern}\n--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The JSON events printed so far (with --json). */
  events(): Record<string, unknown>[] {
    return this.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line));
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.child.exitCode === null) this.child.kill(signal);
  }
}

export { freePort } from '@netchat/testkit';

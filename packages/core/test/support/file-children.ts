/**
 * The test's side of file-process.ts: a child program run (optionally inside a network namespace,
 * `ip netns exec`), its JSON lines collected, waits for a line bounded in time, and a kill that
 * waits for the exit. `stopAll` ends every child started, for an afterEach.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./file-process.ts', import.meta.url));
const packageRoot = fileURLToPath(new URL('../..', import.meta.url));

export type Line = Record<string, unknown> & { type: string };

/** A file-process.ts child: its JSON lines, and waits for one. */
export class FileProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: Line[] = [];
  private output = '';
  private errors = '';

  /** `namespace`: run inside that network namespace; `env`: added to the environment. */
  constructor(args: string[], options: { namespace?: string; env?: Record<string, string> } = {}) {
    const command = [process.execPath, '--import', 'tsx', script, ...args];
    const [file, ...rest] = options.namespace
      ? ['ip', 'netns', 'exec', options.namespace, ...command]
      : command;
    this.child = spawn(file as string, rest, { cwd: packageRoot, env: { ...process.env, ...options.env } });
    started.add(this);
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.output += chunk;
      for (let newline = this.output.indexOf('\n'); newline >= 0; newline = this.output.indexOf('\n')) {
        this.lines.push(JSON.parse(this.output.slice(0, newline)) as Line);
        this.output = this.output.slice(newline + 1);
      }
    });
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.errors += chunk;
    });
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  send(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** The first line since `from` that `match` takes, waiting at most `ms`. */
  async waitFor(match: (line: Line) => boolean, ms = 20_000, from = 0): Promise<Line> {
    const deadline = performance.now() + ms;
    for (;;) {
      const found = this.lines.slice(from).find(match);
      if (found) return found;
      if (this.exited || performance.now() > deadline)
        throw new Error(
          `${this.exited ? 'exited' : 'timed out'} waiting; lines:\n${this.lines.map((l) => JSON.stringify(l)).join('\n')}\n${this.errors}`,
        );
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async kill(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await gone;
  }
}

const started = new Set<FileProcess>();

/** Kills every child still running (afterEach). */
export async function stopAll(): Promise<void> {
  const all = [...started];
  started.clear();
  await Promise.all(all.map((p) => p.kill()));
}

/** Matches a line of this type. */
export const type = (t: string) => (line: Line) => line.type === t;

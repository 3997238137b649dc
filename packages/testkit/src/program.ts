/** A program run as a child process, its stdin written to and its stdout and stderr collected. */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { freshHome } from './fresh-home.js';

export interface ProgramOptions {
  /**
   * A command (and its arguments) that runs the program, as `unshare -m sh -c '…' …` does: node
   * and the script are appended to it. The program runs straight under node without one.
   */
  wrapper?: string[];
}

export class ProgramProcess {
  /** Every program started and not yet exited: `stopAll` ends them when a test file ends. */
  private static readonly running = new Set<ProgramProcess>();
  readonly child: ChildProcessWithoutNullStreams;
  /** Its netchat home: `env`'s NETCHAT_HOME, else a new one that is removed once it exits. */
  readonly home: string;
  stdout = '';
  stderr = '';
  /** The exit code (null if killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Set once the child has exited: waits stop at once instead of running out their time. */
  private exitCode: number | null | undefined;

  /** Runs `node script ...args`, with its own new netchat home unless `env` names one. */
  constructor(
    script: string,
    args: string[],
    env: Record<string, string> = {},
    options: ProgramOptions = {},
  ) {
    const madeHome = env.NETCHAT_HOME === undefined;
    this.home = env.NETCHAT_HOME ?? freshHome();
    const [command = process.execPath, ...prefix] = options.wrapper ?? [];
    const argv = options.wrapper ? [...prefix, process.execPath, script, ...args] : [script, ...args];
    this.child = spawn(command, argv, {
      stdio: 'pipe',
      env: { ...process.env, ...env, NETCHAT_HOME: this.home },
    });
    ProgramProcess.running.add(this);
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
    });
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code) => {
        // The home it made goes with it: a test that looks inside afterwards names its own.
        if (madeHome) rmSync(this.home, { recursive: true, force: true });
        this.exitCode = code;
        ProgramProcess.running.delete(this);
        resolve(code);
      }),
    );
  }

  /** Kills every program still running (SIGKILL) and waits until each has exited. */
  static async stopAll(): Promise<void> {
    const programs = [...ProgramProcess.running];
    for (const program of programs) program.kill();
    await Promise.all(programs.map((program) => program.exited));
  }

  type(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  endInput(): void {
    this.child.stdin.end();
  }

  /** Settles as `promise` does, unless the program exits first: then fails at once, with its stderr. */
  whileRunning<T>(promise: Promise<T>): Promise<T> {
    const exit = this.exited.then((code) => {
      throw new Error(
        `the program exited (${code}) while a test waited on it\n--- stderr ---\n${this.stderr}`,
      );
    });
    return Promise.race([promise, exit]);
  }

  /** Sends `signal` if it still runs; resolves with its exit code once it has exited (and its home is gone). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }

  /**
   * Waits (at most `ms`) until `done()` holds. Fails at once if the program exits first (after a
   * last look at what it printed); the error shows what the program printed.
   */
  protected async until(done: () => boolean, what: string, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done()) {
      const gone = this.exitCode !== undefined;
      if (gone || Date.now() > deadline) {
        const why = gone ? `the program exited (${this.exitCode}) before` : 'timed out waiting for';
        throw new Error(`${why} ${what}\n--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

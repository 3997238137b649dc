/** A program run as a child process, its stdin written to and its stdout and stderr collected. */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { freshHome } from './fresh-home.js';

export class ProgramProcess {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  /** The exit code (null if killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Set once the child has exited: waits stop at once instead of running out their time. */
  private exitCode: number | null | undefined;

  /** Runs `node script ...args`, with its own new netchat home unless `env` names one. */
  constructor(script: string, args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [script, ...args], {
      stdio: 'pipe',
      env: { ...process.env, NETCHAT_HOME: freshHome(), ...env },
    });
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
    });
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code) => {
        this.exitCode = code;
        resolve(code);
      }),
    );
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

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
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

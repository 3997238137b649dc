/**
 * The built package installed as a person installs it (`npm install -g`), into a temporary
 * npm prefix, offline and with an empty npm cache: proof that the tarball needs nothing from
 * the network. The commands are then run as processes straight from that prefix's bin folder.
 */
import { type ChildProcessWithoutNullStreams, execFileSync, spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshHome, temporaryDirectory } from '@netchat/testkit';

export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
export const tarball = join(repoRoot, 'packages', 'release', 'dist', 'netchat.tgz');

export interface Installation {
  prefix: string;
  bin: string;
  /** The environment a person would have after the install: the prefix's bin first on PATH. */
  env: NodeJS.ProcessEnv;
}

/** `npm install -g <tarball>` with npm_config_prefix set to a new temporary folder. */
export function installGlobally(target = tarball): Installation {
  // Removed with its npm cache when the test file ends (the testkit's cleanUp).
  const dir = temporaryDirectory('netchat-install-');
  const prefix = join(dir, 'prefix');
  const env = {
    ...process.env,
    npm_config_prefix: prefix,
    npm_config_cache: join(dir, 'npm-cache'),
    npm_config_update_notifier: 'false',
  };
  execFileSync('npm', ['install', '-g', '--offline', '--no-audit', '--no-fund', '--loglevel=error', target], {
    env,
    cwd: dir,
    stdio: 'pipe',
    timeout: 120_000,
  });
  const bin = join(prefix, 'bin');
  return { prefix, bin, env: { ...env, PATH: `${bin}:${process.env.PATH}`, NETCHAT_HOME: home() } };
}

/** A new, empty netchat home (removed when the test file ends). */
export function home(): string {
  return freshHome();
}

/** Runs a command to its end (at most 30 s) from a directory that is not the repository. */
export function run(command: string, args: string[], env: NodeJS.ProcessEnv) {
  const result = spawnSync(command, args, { env, cwd: tmpdir(), encoding: 'utf8', timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A command started as a process (no `node` in front: its shebang runs it). */
export class Running {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(command: string, args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(command, args, { env, cwd: tmpdir(), stdio: 'pipe' });
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

  /** Waits (at most `ms`) until stdout matches; the error shows what was printed. */
  async waitFor(pattern: RegExp | string, ms = 15_000): Promise<void> {
    const deadline = Date.now() + ms;
    const found = () =>
      typeof pattern === 'string' ? this.stdout.includes(pattern) : pattern.test(this.stdout);
    while (!found()) {
      if (this.child.exitCode !== null || Date.now() > deadline)
        throw new Error(`no ${pattern} in\n--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** The exit code, or an error if it has not exited within `ms`. */
  async exit(ms = 10_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`still running after ${ms} ms\n${this.stdout}\n${this.stderr}`)),
        ms,
      );
    });
    try {
      return await Promise.race([this.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

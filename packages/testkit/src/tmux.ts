/**
 * Runs a program in a real terminal (a tmux window on a private tmux server) so a test can type
 * into it and read the screen as a person would. Prints BEFORE before the program and
 * `AFTER-EXIT <code>` after it, so a test can see the exit code and what the terminal shows then.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshHome } from './fresh-home.js';

export const hasTmux = spawnSync('tmux', ['-V']).status === 0;

export class TmuxTerminal {
  private static count = 0;
  /** Every terminal not yet closed: `closeAll` ends them when a test file ends. */
  private static readonly open = new Set<TmuxTerminal>();
  readonly name = `w${TmuxTerminal.count++}`;
  /** A tmux server of its own: one terminal's trouble (or its server's exit) never reaches another test's. */
  private readonly socket = `netchat-test-${process.pid}-${this.name}`;

  /** `argv` is run by sh after the env assignments (a new netchat home unless `env` names one). */
  constructor(argv: string[], env: Record<string, string> = {}, size = { columns: 80, rows: 20 }) {
    const vars = Object.entries({ ...env, NETCHAT_HOME: env.NETCHAT_HOME ?? freshHome() })
      .map(([k, v]) => `${k}=${v} `)
      .join('');
    const command = `printf 'BEFORE\\n'; ${vars}${argv.join(' ')}; echo AFTER-EXIT $?; sleep 60`;
    const { columns, rows } = size;
    this.tmux(
      '-u',
      'new-session',
      '-d',
      '-s',
      this.name,
      '-x',
      String(columns),
      '-y',
      String(rows),
      'sh',
      '-c',
      command,
    );
    TmuxTerminal.open.add(this);
  }

  /** Ends every terminal not closed yet, and its tmux server. */
  static closeAll(): void {
    for (const terminal of [...TmuxTerminal.open]) terminal.close();
  }

  /** Types text literally (no key names). */
  type(text: string): void {
    this.tmux('send-keys', '-t', this.name, '-l', text);
  }

  /**
   * Pastes text as a terminal does: in bracketed-paste markers if the program asked for them
   * (tmux paste-buffer -p), all at once.
   */
  paste(text: string): void {
    const folder = mkdtempSync(join(tmpdir(), 'netchat-paste-'));
    try {
      const file = join(folder, 'buffer');
      writeFileSync(file, text);
      this.tmux('load-buffer', '-b', 'paste', file);
      this.tmux('paste-buffer', '-p', '-d', '-b', 'paste', '-t', this.name);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }

  /** Presses keys by tmux name: Enter, C-c, C-d, Escape, F1… */
  press(...keys: string[]): void {
    this.tmux('send-keys', '-t', this.name, ...keys);
  }

  screen(): string {
    return this.tmux('capture-pane', '-p', '-t', this.name);
  }

  /** Waits (at most `ms`) until the screen shows `text`; returns the screen. */
  waitFor(text: string, ms = 10_000): Promise<string> {
    return this.waitUntil((shown) => shown.includes(text), `"${text}"`, ms);
  }

  /**
   * Waits (at most `ms`) until the screen satisfies `check` (what a person would see once the
   * program has caught up with the keys typed); returns the screen.
   */
  async waitUntil(check: (screen: string) => boolean, what: string, ms = 10_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const shown = this.screen();
      if (check(shown)) return shown;
      if (Date.now() > deadline) throw new Error(`${what} never appeared; the screen:\n${shown}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * The pid of the program the terminal runs (the shell's child: the shell runs it, then prints
   * AFTER-EXIT), so a test can signal that very process, never one found by its name.
   */
  programPid(): number {
    const shell = this.tmux('display-message', '-p', '-t', this.name, '#{pane_pid}').trim();
    const child = spawnSync('pgrep', ['-P', shell], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
    if (!child) throw new Error(`the terminal ${this.name} runs no program now`);
    return Number(child);
  }

  /** "alternate-screen cursor-visible mouse": "0 1 0" is a terminal in its normal state. */
  state(): string {
    return this.tmux(
      'display-message',
      '-p',
      '-t',
      this.name,
      '#{alternate_on} #{cursor_flag} #{mouse_any_flag}',
    ).trim();
  }

  /** Ends the program's terminal and its tmux server. */
  close(): void {
    TmuxTerminal.open.delete(this);
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
    // A killed server leaves its socket file behind (thousands of them over many runs).
    rmSync(this.socketPath, { force: true });
  }

  /** Where tmux keeps this server's socket (`-L name`: $TMUX_TMPDIR or /tmp, then tmux-UID). */
  get socketPath(): string {
    return join(process.env.TMUX_TMPDIR || '/tmp', `tmux-${process.getuid?.() ?? 0}`, this.socket);
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  }
}

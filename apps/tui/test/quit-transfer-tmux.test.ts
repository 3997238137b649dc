/**
 * Quitting netchat-tui (a real one, in a real terminal at 40×10) while a transfer to it is
 * accepted and not done: the quit question names the transfer, and once the terminal is the
 * shell's again one line says it is unfinished and the exit code is 4, never 0. The sender is
 * another netchat-tui, stopped (SIGSTOP) once its offer is out so the transfer cannot end by
 * itself first; it is killed at the end whatever happens. Every terminal, home and folder is removed.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasTmux, type TmuxTerminal } from '@netchat/testkit';
import { describe, expect, it } from 'vitest';
import { pressUntil, removeAfter, tui } from './tmux-tui.js';

/** Text without its blanks: a line wrapped on a narrow screen reads whole. */
const squashed = (text: string) => text.replace(/\s+/g, '');
const shows = (screen: string, line: string) => squashed(screen).includes(squashed(line));

/** Signals `pid` if it still runs (a program that crashed has exited). */
function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {}
}

function folder(prefix: string): string {
  const path = mkdtempSync(join(tmpdir(), prefix));
  removeAfter(path);
  return path;
}

/**
 * bob (40×10) takes alice's offer of big.bin while alice is stopped (SIGSTOP): the transfer is
 * accepted and moving at bob, at 0%, and cannot end by itself.
 */
async function acceptedWhileSenderStopped() {
  const source = folder('netchat-tui-src-');
  const downloads = folder('netchat-tui-dl-');
  writeFileSync(join(source, 'big.bin'), randomBytes(300_000));
  const receiver = tui(['0', '--host', '127.0.0.1', '--nick', 'bob', '--download-dir', downloads], {
    size: { columns: 40, rows: 10 },
  });
  const listening = squashed(
    await receiver.waitUntil((s) => /listeningon[\d.]+:\d+\./.test(squashed(s)), 'the port'),
  );
  const port = Number(/listeningon[\d.]+:(\d+)\./.exec(listening)?.[1]);
  const sender = tui(['0', '--host', '127.0.0.1', '--nick', 'alice', '--connect', `127.0.0.1:${port}`]);
  await receiver.waitFor('Connection request');
  await pressUntil(receiver, 'M-y', (s) => s.includes(' 1 alice'));
  await sender.waitUntil((s) => shows(s, 'Connected to'), 'the chat open');
  sender.type(`/send ${join(source, 'big.bin')}`);
  sender.press('Enter');
  await receiver.waitFor('File offer');
  const stopped = sender.programPid();
  process.kill(stopped, 'SIGSTOP');
  return { receiver, sender, stopped };
}

/** bob quits (Ctrl+C, y) with the transfer unfinished; the terminal once netchat-tui exited. */
async function quitMidTransfer(receiver: TmuxTerminal): Promise<{ question: string; after: string }> {
  await pressUntil(receiver, 'M-y', (s) => shows(s, 'Receiving "big.bin"'));
  receiver.press('C-c');
  const question = await receiver.waitUntil((s) => shows(s, 'and quit? (y/n)'), 'the quit question');
  receiver.press('y');
  // The quit waits for the (stopped) peer's goodbye a few seconds at most.
  const after = await receiver.waitUntil((s) => s.includes('AFTER-EXIT'), 'the exit', 20_000);
  return { question, after };
}

describe.skipIf(!hasTmux)('quitting netchat-tui with a transfer unfinished', () => {
  it('the question names it; after the quit one line says so and the exit code is 4', async () => {
    const { receiver, stopped } = await acceptedWhileSenderStopped();
    try {
      const { question, after } = await quitMidTransfer(receiver);
      // Inside the box's borders, read as one text.
      expect(shows(question.replace(/│/g, ''), 'It stops transfer 1 ("big.bin", 0%) unfinished:')).toBe(true);
      const left =
        'netchat-tui: Quit with transfer 1 ("big.bin", 0%) unfinished: it goes on when offered again.';
      expect(shows(after, left)).toBe(true);
      // Before: exit 0, as if everything asked for had happened.
      expect(after).toContain('AFTER-EXIT 4');
    } finally {
      // Not let go: run again it would crash (the test below); its terminal ends after the test.
      signal(stopped, 'SIGKILL');
    }
  }, 60_000);

  // The sender, frozen while its receiver quit mid-transfer, used to crash when it ran again:
  // "NetchatError: no session 1" thrown out of the file engine's readStream (a stream event told
  // after its session ended; core's test/file-stale-events.test.ts), written to
  // $TMPDIR/netchat-tui-PID.log. It goes on, the transfer interrupted and kept for a resume.
  it('the sender, frozen while the receiver quit mid-transfer, runs on without a crash', async () => {
    const { receiver, sender, stopped } = await acceptedWhileSenderStopped();
    const crashLog = join(tmpdir(), `netchat-tui-${stopped}.log`);
    try {
      await quitMidTransfer(receiver);
      process.kill(stopped, 'SIGCONT');
      await sender.waitUntil(
        (s) => shows(s, 'Peer closed the session') || existsSync(crashLog),
        'the close',
        20_000,
      );
      expect(existsSync(crashLog)).toBe(false);
      expect(sender.screen()).not.toContain('AFTER-EXIT');
    } finally {
      rmSync(crashLog, { force: true });
      signal(stopped, 'SIGKILL');
    }
  }, 60_000);
});

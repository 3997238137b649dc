/**
 * The terminal going away (its window closed, an ssh connection dropped, tmux killed) is a
 * hangup: netchat gets SIGHUP, and its terminal answers with EIO. It closes the chat as for any
 * signal, declining the offer it was asking about, so the peer is told at once. It used to die
 * on readline's EIO (an unhandled 'error' event, as readline left raw mode) with the chat open:
 * the peer heard nothing until three heartbeats went missing (75 s by default), and then took the
 * offer for interrupted, to be made again.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasTmux, TmuxTerminal } from '@netchat/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { NetchatProcess } from './support/netchat-process.js';

const bin = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0).reverse()) f();
});

function folder(): string {
  const made = mkdtempSync(join(tmpdir(), 'netchat-hangup-'));
  cleanup.push(() => rmSync(made, { recursive: true, force: true }));
  return made;
}

/**
 * bob in a real terminal, asked by alice (a script: `--connect` and `--send-file`) whether he
 * takes a file. alice keeps her input open (a script's lines are messages): she stays until bob
 * ends the chat.
 */
async function bobAskedAboutAFile(): Promise<{ t: TmuxTerminal; a: NetchatProcess }> {
  const src = folder();
  writeFileSync(join(src, 'big.bin'), randomBytes(100_000));
  const t = new TmuxTerminal(
    [process.execPath, bin, '0', '--host', '127.0.0.1', '--nick', 'bob', '--download-dir', folder()],
    {},
    { columns: 100, rows: 20 },
  );
  cleanup.push(() => t.close());
  const portB = Number(/Listening on UDP port (\d+)\./.exec(await t.waitFor('Start chat with?'))?.[1]);
  const a = new NetchatProcess([
    '0',
    '--host',
    '127.0.0.1',
    '--nick',
    'alice',
    '--connect',
    `127.0.0.1:${portB}`,
    '--send-file',
    join(src, 'big.bin'),
  ]);
  cleanup.push(() => void a.kill());
  await t.waitFor('Accept connection? (y/n):');
  t.type('y');
  t.press('Enter');
  await t.waitFor('Accept file "big.bin"');
  return { t, a };
}

describe.skipIf(!hasTmux)('the terminal going away', () => {
  it('while an offer asks y/n: the peer is told "declined" and the chat closed, at once', async () => {
    const { t, a } = await bobAskedAboutAFile();
    t.close(); // the terminal is gone: SIGHUP, and EIO from the pty
    // Within seconds, not the 75 s three missed heartbeats take.
    await a.waitFor('Peer closed the session.', 15_000).catch((error) => {
      throw new Error(`${error}; alice said:\n${a.stdout}`);
    });
    expect(a.stdout).toContain('bob declined "big.bin".');
    expect(a.stdout).not.toContain('interrupted');
  }, 60_000);

  it('a second SIGHUP while closing (tmux, then the kernel, each send one) does not cut the close short', async () => {
    const { t, a } = await bobAskedAboutAFile();
    // alice frozen: bob's close waits (lingers) for her to take the decline.
    const alicePid = a.child.pid as number;
    process.kill(alicePid, 'SIGSTOP');
    try {
      const bob = t.programPid();
      process.kill(bob, 'SIGHUP');
      await t.waitFor('Closing session with peer...');
      process.kill(bob, 'SIGHUP');
      // Give a wrongly quick exit its moment to show.
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      process.kill(alicePid, 'SIGCONT');
    }
    await a.waitFor('Peer closed the session.', 15_000).catch((error) => {
      throw new Error(`${error}; alice said:\n${a.stdout}`);
    });
    expect(a.stdout).toContain('bob declined "big.bin".');
  }, 60_000);
});

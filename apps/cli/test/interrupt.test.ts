/**
 * Ctrl-C in an interactive chat, at a real terminal (tmux): with something asked for still
 * unfinished (a transfer, a message not yet confirmed) one line says what, and netchat exits 130
 * (128 + SIGINT, as the shell reports an interrupt); with nothing pending it is a clean quit, 0.
 * Ctrl-D (a quit, not an interrupt) that leaves a transfer unfinished says so too, and exits 4.
 * The peer is a real netchat on loopback, frozen (SIGSTOP) where a test needs work left pending,
 * so nothing depends on how fast the machine is. Every process, terminal and folder is removed.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
  const made = mkdtempSync(join(tmpdir(), 'netchat-interrupt-'));
  cleanup.push(() => rmSync(made, { recursive: true, force: true }));
  return made;
}

async function peer(...args: string[]): Promise<[NetchatProcess, number]> {
  const p = new NetchatProcess(['0', '--host', '127.0.0.1', ...args]);
  // SIGKILL ends it even while it is stopped.
  cleanup.push(() => void p.kill());
  return [p, await p.port()];
}

/**
 * alice at a terminal. Her heartbeats are 1 s apart, so a frozen bob is lost (and a message he
 * never confirmed is settled as not delivered) in seconds, not a minute or more: the quit waits for that.
 */
function terminal(): TmuxTerminal {
  const argv = ['0', '--host', '127.0.0.1', '--nick', 'alice', '--heartbeat-interval', '1'];
  const t = new TmuxTerminal([process.execPath, bin, ...argv], {}, { columns: 100, rows: 20 });
  cleanup.push(() => t.close());
  return t;
}

/** The screen's rows joined (a long line wraps at the terminal's width). */
const joined = (screen: string) => screen.split('\n').join('');

describe.skipIf(!hasTmux)('Ctrl-C in an interactive chat', () => {
  it('with our offer unanswered and a message unconfirmed: one line says so, exit 130', async () => {
    const src = folder();
    writeFileSync(join(src, 'big.bin'), randomBytes(1_000_000));
    const [b, portB] = await peer('--yes', '--nick', 'bob', '--download-dir', folder());
    const t = terminal();
    await t.waitFor('Start chat with? (IP Port):');
    t.type(`127.0.0.1 ${portB}`);
    t.press('Enter');
    await t.waitFor(`[127.0.0.1:${portB}] Your message:`);
    // bob freezes: nothing we send now is answered or acknowledged.
    process.kill(b.child.pid as number, 'SIGSTOP');
    t.type('are you there?');
    t.press('Enter');
    t.type(`/send ${join(src, 'big.bin')}`);
    t.press('Enter');
    await t.waitFor('waiting for an answer (transfer 1)', 30_000);
    t.press('C-c');
    const end = await t.waitFor('AFTER-EXIT', 60_000);
    expect(joined(end)).toContain(
      'Interrupted: transfer 1 ("big.bin") not yet answered, 1 message not yet confirmed delivered.',
    );
    expect(end).toContain('AFTER-EXIT 130');
  }, 90_000);

  for (const way of [
    { key: 'C-c', what: 'Ctrl-C', lead: 'Interrupted', code: 130 },
    { key: 'C-d', what: 'Ctrl-D (a quit, not an interrupt)', lead: 'Quitting', code: 4 },
  ]) {
    it(`${way.what} while a file comes in: the transfer is named with how far it got, exit ${way.code}`, async () => {
      const src = folder();
      const dl = folder();
      writeFileSync(join(src, 'big.bin'), randomBytes(1_000_000));
      const t = new TmuxTerminal(
        [process.execPath, bin, '0', '--host', '127.0.0.1', '--nick', 'bob', '--download-dir', dl],
        {},
        { columns: 100, rows: 20 },
      );
      cleanup.push(() => t.close());
      const portB = Number(/Listening on UDP port (\d+)\./.exec(await t.waitFor('Start chat with?'))?.[1]);
      const sending = [
        '--nick',
        'alice',
        '--connect',
        `127.0.0.1:${portB}`,
        '--send-file',
        join(src, 'big.bin'),
      ];
      const [a] = await peer(...sending);
      await t.waitFor('Accept connection? (y/n):');
      t.type('y');
      t.press('Enter');
      await t.waitFor('Accept file "big.bin" (1 MB) from alice? (y/n):', 30_000);
      // alice freezes before our answer reaches her: the transfer is accepted here, and stays unfinished.
      process.kill(a.child.pid as number, 'SIGSTOP');
      t.type('y');
      t.press('Enter');
      await t.waitFor('Receiving "big.bin"');
      t.press(way.key);
      const end = await t.waitFor('AFTER-EXIT', 60_000);
      expect(joined(end)).toMatch(
        new RegExp(`${way.lead}: transfer 1 \\("big\\.bin", \\d+%\\) unfinished\\.`),
      );
      expect(end).toContain(`AFTER-EXIT ${way.code}`);
      expect(readdirSync(dl).filter((name) => !name.startsWith('.'))).toEqual([]);
    }, 90_000);
  }

  it('with nothing pending: a clean quit, no such line, exit 0', async () => {
    const [b, portB] = await peer('--yes', '--nick', 'bob');
    const t = terminal();
    await t.waitFor('Start chat with? (IP Port):');
    t.type(`127.0.0.1 ${portB}`);
    t.press('Enter');
    await t.waitFor(`[127.0.0.1:${portB}] Your message:`);
    t.type('hello');
    t.press('Enter');
    await b.waitFor('hello');
    // bob answers after his acknowledgement of "hello" went (loopback keeps their order): once the
    // answer is on the screen, "hello" is confirmed and nothing is pending.
    b.type('got it');
    await t.waitFor('got it');
    t.press('C-c');
    const end = await t.waitFor('AFTER-EXIT', 60_000);
    expect(end).not.toContain('Interrupted');
    expect(end).toContain('AFTER-EXIT 0');
  }, 90_000);
});

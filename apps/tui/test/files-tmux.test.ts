/**
 * A file sent between two real netchat-tui programs on loopback, each in a real terminal (tmux,
 * a private server per terminal), at 100×30 and 40×10: /send with the path typed, the offer's
 * dialog at the receiver, Alt+Y, the end lines on both sides, and the file on disk the same,
 * byte for byte. Every terminal, home and folder is removed after each test, whatever its outcome.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasTmux, type TmuxTerminal } from '@netchat/testkit';
import { describe, expect, it } from 'vitest';
import { removeAfter, tui } from './tmux-tui.js';

/** A folder of its own, removed after the test. */
function folder(prefix: string): string {
  const path = mkdtempSync(join(tmpdir(), prefix));
  removeAfter(path);
  return path;
}

/**
 * Presses `key` until the screen shows `done` (the dialog takes keys only once it has been on
 * screen for half a second: a key before that is ignored, so it is pressed again), at most 40 times.
 */
async function pressUntil(t: TmuxTerminal, key: string, done: string): Promise<string> {
  for (let i = 0; i < 40; i++) {
    t.press(key);
    try {
      return await t.waitFor(done, 250);
    } catch {}
  }
  return t.waitFor(done, 1000);
}

/** Text without its blanks: a line wrapped on a narrow screen (anywhere, under an indent) reads whole. */
const squashed = (text: string) => text.replace(/\s+/g, '');

/** Whether `screen` shows `line`, however it was wrapped. */
const shows = (screen: string, line: string) => squashed(screen).includes(squashed(line));

describe.skipIf(!hasTmux)('files between two netchat-tui in terminals', () => {
  for (const size of [
    { columns: 100, rows: 30 },
    { columns: 40, rows: 10 },
  ]) {
    it(`at ${size.columns}x${size.rows}: /send, the dialog, Alt+Y, the end lines, the file verified on disk`, async () => {
      const source = folder('netchat-tui-src-');
      const downloads = folder('netchat-tui-dl-');
      const content = randomBytes(300_000);
      const name = 'a b.bin';
      writeFileSync(join(source, name), content);
      const receiver = tui(['0', '--host', '127.0.0.1', '--nick', 'bob', '--download-dir', downloads], {
        size,
      });
      const listening = squashed(
        await receiver.waitUntil((s) => /listeningon[\d.]+:\d+\./.test(squashed(s)), 'the port'),
      );
      const port = Number(/listeningon[\d.]+:(\d+)\./.exec(listening)?.[1]);
      expect(port).toBeGreaterThan(0);
      const sender = tui(['0', '--host', '127.0.0.1', '--nick', 'alice', '--connect', `127.0.0.1:${port}`], {
        size,
      });
      await receiver.waitFor('Connection request');
      await pressUntil(receiver, 'M-y', ' 1 alice');
      await sender.waitUntil((s) => shows(s, 'Connected to'), 'the chat open');
      // The path typed as a person would: the blank escaped.
      sender.type(`/send ${join(source, 'a\\ b.bin')}`);
      sender.press('Enter');
      const offered = await receiver.waitFor('File offer');
      expect(offered).toContain('Alt+Y yes');
      // `!1` on the chat's tab while the offer waits (the tab bar is the last row).
      expect(offered.trimEnd().split('\n').at(-1)).toMatch(/1 alice !1/);
      await pressUntil(receiver, 'M-y', 'Receiving');
      // One line each: the path, size, time and average rate.
      const rate = /\(300kB\)in\d+:\d\d,[\d.]+[kMG]?B\/saverage/;
      const received = await receiver.waitUntil(
        (s) => shows(s, `Received ${join(downloads, name)}`) && shows(s, 'verified.'),
        'the end line at the receiver',
        30_000,
      );
      expect(squashed(received)).toMatch(rate);
      const sent = await sender.waitUntil(
        (s) => shows(s, 'Sent') && shows(s, 'bob verified it.'),
        'the end line at the sender',
        30_000,
      );
      expect(squashed(sent)).toMatch(rate);
      expect(readdirSync(downloads)).toEqual([name]); // nothing partial left beside it
      expect(readFileSync(join(downloads, name)).equals(content)).toBe(true);
      // The offer was answered: no `!` on the tab any more.
      expect(receiver.screen().trimEnd().split('\n').at(-1)).not.toMatch(/!1/);
    }, 90_000);
  }
});

/**
 * Sending a file as a person at a 40-column terminal (tmux): the progress is one line redrawn in
 * place (never two on the screen, never left behind above a message typed meanwhile), a name
 * with emoji and CJK fits, and the end is one line. The file is large enough (80 MB) for progress
 * to show on an idle machine; the waits are long enough for a loaded one (several suites at once).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

const PROGRESS = /^\[1\] +\d+%/;

describe.skipIf(!hasTmux)('a file sent at a 40-column terminal', () => {
  it('shows one progress line, redrawn in place, and one line at the end', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'netchat-files-tty-'));
    cleanup.push(() => rmSync(folder, { recursive: true, force: true }));
    const name = '照片照片 🎉 résumé.bin';
    const data = randomBytes(80_000_000);
    writeFileSync(join(folder, name), data);
    const b = new NetchatProcess([
      '0',
      '--yes',
      '--accept-files',
      '--download-dir',
      join(folder, 'in'),
      '--nick',
      'bob',
    ]);
    cleanup.push(() => b.kill());
    const portB = await b.port();
    const t = new TmuxTerminal([process.execPath, bin, '0'], {}, { columns: 40, rows: 16 });
    cleanup.push(() => t.close());
    await t.waitFor('Start chat with? (IP Port):');
    t.type(`127.0.0.1 ${portB}`);
    t.press('Enter');
    await t.waitUntil((s) => s.includes('Your message:'), 'the chat prompt');
    t.type(`/send ${join(folder, name).replace(/ /g, '\\ ')}`);
    t.press('Enter');
    await t.waitUntil((s) => s.split('\n').some((l) => PROGRESS.test(l)), 'a progress line', 120_000);
    // While it runs: never two progress lines on the screen; a line typed meanwhile leaves none above it.
    t.type('typed while sending');
    t.press('Enter');
    let seen = 0;
    for (let sample = 0; sample < 400; sample++) {
      const screen = t.screen();
      const lines = screen.split('\n');
      expect(lines.filter((l) => PROGRESS.test(l)).length, screen).toBeLessThanOrEqual(1);
      if (lines.some((l) => PROGRESS.test(l))) seen++;
      if (screen.includes('bob verified')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(seen).toBeGreaterThan(0);
    const end = await t.waitUntil((s) => s.includes('bob verified'), 'the end line', 240_000);
    expect(end.split('\n').filter((l) => PROGRESS.test(l))).toEqual([]);
    // (tmux drops a space where a row wraps: the words are checked without them.)
    expect(end.replace(/\n/g, '').replace(/ /g, '')).toMatch(
      /Sent照片照片🎉résumé\.bin\(80MB\)in\d+:\d\d,[\d.]+[kMG]?B\/saverage:bobverifiedit\./,
    );
    expect(end.replace(/\n/g, '').replace(/ /g, '')).toContain('Yourmessage:typedwhilesending');
    await b.waitFor('typed while sending');
    expect(readFileSync(join(folder, 'in', name)).equals(data)).toBe(true);
  }, 400_000);
});

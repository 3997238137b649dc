/**
 * The request dialog and the file offer dialog of the built netchat-tui in a real terminal
 * (tmux, a private server per terminal), at 40×10 and 100×30: every line of the dialog, its keys
 * last, is on the screen between the box's borders (at 40×10 in fewer words, at 100×30 whole).
 * The requester is a real peer on loopback; the offer comes from the real netchat CLI. Every
 * terminal, process, home and folder is removed after each test, whatever its outcome.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fingerprint, NetchatPeer } from '@netchat/core';
import { hasTmux, ProgramProcess, type TmuxTerminal } from '@netchat/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAfter, pressUntil, removeAfter, tui } from './tmux-tui.js';

const cli = fileURLToPath(new URL('../../cli/dist/main.js', import.meta.url));
const programs: ProgramProcess[] = [];
afterEach(async () => {
  await Promise.all(programs.splice(0).map((p) => p.kill()));
});

const KEYS = 'Accept? Alt+Y yes, Alt+N no, Esc later';

/** The text rows inside the dialog's box (between its side borders), once its bottom border shows. */
function dialogLines(screen: string): string[] {
  const rows = screen.split('\n');
  const top = rows.findIndex((r) => r.includes('┌'));
  const bottom = rows.findIndex((r) => r.includes('└'));
  if (top < 0 || bottom < top) return [];
  return rows.slice(top + 1, bottom).map((r) => r.slice(r.indexOf('│') + 1, r.lastIndexOf('│')).trimEnd());
}

/** The terminal's screen once the dialog, all of it to its keys, is drawn. */
function dialogShown(t: TmuxTerminal, label: string): Promise<string> {
  return t.waitUntil(
    (s) => s.includes(label) && dialogLines(s).at(-1) === KEYS,
    `the ${label} dialog, keys last`,
    20_000,
  );
}

/** netchat-tui listening on loopback in a terminal of `size`, and the port it reports. */
async function receiver(size: { columns: number; rows: number }, args: string[] = []) {
  const t = tui(['0', '--host', '127.0.0.1', '--nick', 'bob', ...args], { size });
  const screen = await t.waitUntil((s) => /listening on[\s\S]*?:\d+\./.test(s), 'the port');
  const port = Number(/127\.0\.0\.1:(\d+)/.exec(screen)?.[1]);
  expect(port).toBeGreaterThan(0);
  return { t, port };
}

describe.skipIf(!hasTmux)('the dialogs in a real terminal', () => {
  for (const { size, lines } of [
    {
      // The full texts fit in 38x6, wrapped at spaces, the address and its port on one row.
      size: { columns: 40, rows: 10 },
      lines: (port: number, print: string) => [
        'Connection request from:',
        `127.0.0.1 ${port}`,
        'Nick: alice',
        `Fingerprint: ${print} (new:`,
        'this key has not been seen before)',
      ],
    },
    {
      size: { columns: 100, rows: 30 },
      lines: (port: number, print: string) => [
        `Connection request from: 127.0.0.1 ${port}`,
        'Nick: alice',
        `Fingerprint: ${print} (new: this key has not been seen before)`,
      ],
    },
  ])
    it(`at ${size.columns}x${size.rows} the request dialog shows every line, the keys last`, async () => {
      const { t, port } = await receiver(size);
      const alice = closeAfter(await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick: 'alice' }));
      alice.connectTo({ host: '127.0.0.1', port });
      const screen = await dialogShown(t, 'Connection request');
      expect(dialogLines(screen)).toEqual([...lines(alice.address.port, fingerprint(alice.publicKey)), KEYS]);
    });

  for (const size of [
    { columns: 40, rows: 10 },
    { columns: 100, rows: 30 },
  ]) {
    it(`at ${size.columns}x${size.rows} an offer of three files shows where they go and the keys`, async () => {
      const source = mkdtempSync(join(tmpdir(), 'netchat-tui-src-'));
      removeAfter(source);
      const downloads = mkdtempSync(join(tmpdir(), 'netchat-tui-dl-'));
      removeAfter(downloads);
      mkdirSync(join(source, 'photos'));
      for (const name of ['a.jpg', 'b.jpg', 'c.jpg']) writeFileSync(join(source, 'photos', name), name);
      const { t, port } = await receiver(size, ['--download-dir', downloads]);
      const alice = new ProgramProcess(cli, [
        '0',
        '--host',
        '127.0.0.1',
        '--nick',
        'alice',
        '--connect',
        `127.0.0.1:${port}`,
        '--send-file',
        join(source, 'photos'),
      ]);
      programs.push(alice);
      await dialogShown(t, 'Connection request');
      await pressUntil(t, 'M-y', (s) => s.includes('File offer'));
      const lines = dialogLines(await dialogShown(t, 'File offer'));
      const names = ['  photos/a.jpg  5 bytes', '  photos/b.jpg  5 bytes', '  photos/c.jpg  5 bytes'];
      const into = `Into ${downloads}`;
      if (size.columns === 100) expect(lines.slice(1)).toEqual([...names, into, KEYS]);
      else {
        // The test's folder is long: on one row, its end, which names it.
        expect(lines.slice(-4)).toEqual([names[0], '  … and 2 more', expect.stringMatching(/^Into …/), KEYS]);
        expect(downloads.endsWith(lines.at(-2)?.slice('Into …'.length) ?? '-')).toBe(true);
        expect(lines.at(-2)?.length).toBe(38);
      }
      expect(lines.join(' ')).toMatch(/^3 files \(15 bytes\) from .* \(transfer 1\)/);
    });
  }
});

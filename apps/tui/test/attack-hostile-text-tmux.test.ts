/**
 * The attacker's test for what netchat-tui draws of a stranger's words, in a real terminal (tmux,
 * whose own state is the oracle): a stranger with a nick of bidi and zero-width characters sends
 * texts made of terminal escapes: OSC 52 (tmux keeps what it sets as a paste buffer), OSC 2 (the
 * pane's title), BEL (the window's bell flag), CSI and C1 controls, bidi overrides, a 60,000
 * character line, 10,000 combining marks on one letter. None may act on the terminal, and the
 * person's next line must still go out and its answer be drawn promptly. Measured: the time from
 * the flood's last text drawn to the answer of a line typed after it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetchatPeer } from '@netchat/core';
import { HostileSender, hasTmux, type TmuxTerminal } from '@netchat/testkit';
import { describe, expect, it } from 'vitest';
import { closeAfter, removeAfter, tui } from './tmux-tui.js';

const CLIPBOARD = `\u001b]52;c;${Buffer.from('rm -rf ~').toString('base64')}\u0007`;
/** Short ones first: the screen is checked with them on it, before the long ones scroll them off. */
const SHORT_TEXTS = [
  `clipboard ${CLIPBOARD} end`,
  'title \u001b]2;PWNED\u0007 end',
  'title8 \u009d2;PWNED8\u009c end',
  'clear \u001b[2J\u001b[H end',
  'clear8 \u009b2J end',
  'bell \u0007\u0007\u0007 end',
  'bidi \u202eevil\u202c \u2067isolate\u2069 end',
  'zero\u200bwidth\u200d\ufeff end',
  'last short text',
];
const LONG_TEXTS = [
  `long ${'L'.repeat(60_000)} end`,
  `zalgo a${'\u0301'.repeat(10_000)} end`,
  'last hostile text',
];

/** Asks the tmux server behind `t` (by its socket) for `args`. */
function tmuxOf(t: TmuxTerminal, ...args: string[]): string {
  return execFileSync('tmux', ['-S', t.socketPath, ...args], { encoding: 'utf8' });
}

describe.skipIf(!hasTmux)('netchat-tui and a stranger whose words are terminal escapes', () => {
  it('sets no clipboard, title or bell, draws each control as U+FFFD, and the person still chats', async () => {
    const stranger = closeAfter(
      await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick: 'm\u202eyrollam\u200b' }),
    );
    stranger.on('request', (e) => stranger.accept(e.session));
    stranger.on('message', (e) => stranger.send(e.session, `echo: ${e.text}`));
    const opened = new Promise<number>((resolve) => stranger.once('request', (e) => resolve(e.session)));
    const t = tui(['0', '--nick', 'victim', '--connect', `127.0.0.1:${stranger.address.port}`], {
      size: { columns: 100, rows: 30 },
    });
    // As a terminal that lets programs set the clipboard would: tmux keeps it as a paste buffer.
    tmuxOf(t, 'set-option', '-g', 'set-clipboard', 'on');
    const titleBefore = tmuxOf(t, 'display-message', '-p', '#{pane_title}');
    await t.waitFor('Connected to 127.0.0.1');
    const session = await opened;
    for (const text of SHORT_TEXTS) stranger.send(session, text);
    const shown = await t.waitFor('last short text', 10_000);
    for (const text of LONG_TEXTS) stranger.send(session, text);
    await t.waitFor('last hostile text', 20_000);

    t.type('still here?');
    const started = performance.now();
    t.press('Enter');
    const after = await t.waitFor('echo: still here?', 10_000);
    const answeredMs = performance.now() - started;
    console.log(
      `hostile texts drawn; a line typed after them answered and drawn in ${answeredMs.toFixed(0)} ms`,
    );

    // The terminal was not acted on: no paste buffer, the same title, no bell.
    expect(tmuxOf(t, 'list-buffers')).toBe('');
    expect(tmuxOf(t, 'display-message', '-p', '#{pane_title}')).toBe(titleBefore);
    expect(tmuxOf(t, 'display-message', '-p', '#{window_bell_flag}').trim()).toBe('0');
    // The controls were drawn as U+FFFD: the texts are there to read, the escapes shown, not done.
    expect(shown).toContain('bell \ufffd\ufffd\ufffd end');
    expect(shown).toContain('clear8 \ufffd2J end');
    expect(shown).toContain('title \ufffd]2;PWNED\ufffd end');
    expect(shown).toContain('m\ufffdyrollam');
    expect(after).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
    // The screen was never cleared by the stranger (the texts before its CSI 2J are still drawn),
    // and the tab bar is where it was.
    expect(shown).toContain('clipboard \ufffd]52;c;cm0gLXJmIH4=\ufffd end');
    expect(after).toContain(' 0 home │ 1 m\ufffdyrollam');
    expect(answeredMs).toBeLessThan(5000);
  }, 60_000);

  it('a file offer whose names are terminal escapes sets no clipboard or title, and its names are drawn made safe', async () => {
    const source = mkdtempSync(join(tmpdir(), 'netchat-hostile-src-'));
    removeAfter(source);
    const downloads = mkdtempSync(join(tmpdir(), 'netchat-hostile-dl-'));
    removeAfter(downloads);
    writeFileSync(join(source, 'payload'), 'not what it says');
    const sender = await HostileSender.start();
    try {
      const takesFiles = sender.acceptAll();
      const t = tui(
        [
          '0',
          '--nick',
          'victim',
          '--download-dir',
          downloads,
          '--connect',
          `127.0.0.1:${sender.peer.address.port}`,
        ],
        { size: { columns: 100, rows: 30 } },
      );
      tmuxOf(t, 'set-option', '-g', 'set-clipboard', 'on');
      const titleBefore = tmuxOf(t, 'display-message', '-p', '#{pane_title}');
      const session = await takesFiles;
      await sender.offer(session, join(source, 'payload'), [
        `clip${CLIPBOARD}.txt`,
        'title\u001b]2;PWNED\u0007.txt',
        'report\u202etxt.exe',
        '\u009b2Jclear.txt',
      ]);
      const shown = await t.waitFor('File offer', 10_000);
      expect(tmuxOf(t, 'list-buffers')).toBe('');
      expect(tmuxOf(t, 'display-message', '-p', '#{pane_title}')).toBe(titleBefore);
      expect(shown).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
      expect(shown).toMatch(/clip.]52;c;cm0gLXJmIH4=.\.txt/);
    } finally {
      await sender.close();
    }
  }, 60_000);
});

/**
 * Issue 18 in a real terminal (tmux, which draws as a terminal does): every word of lines with
 * emoji, CJK and right-to-left text at 100×30 and 40×10 with no stale cell after redraws; the
 * request dialog while typing; and a netchat home the program cannot write.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatHistory } from '@netchat/client';
import { loadIdentity, NetchatPeer } from '@netchat/core';
import { hasTmux, type TmuxTerminal } from '@netchat/testkit';
import { describe, expect, it } from 'vitest';
import { closeAfter, echoPeer, newHome, tui } from './tmux-tui.js';

/** The screen's rows from the one that starts the echo of `first` down to the input line, as one text. */
function echoed(screen: string, first: string): string {
  const rows = screen.split('\n');
  const from = rows.findLastIndex((r) => r.includes(`<echo> echo: ${first}`));
  const input = rows.findLastIndex((r) => /^(>|…)( |$)/.test(r));
  if (from < 0 || input < from) return '';
  return rows
    .slice(from, input)
    .map((r) => r.trim())
    .join(' ')
    .trim();
}

const WORDS =
  'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen';
const LINES: { text: string; shown: string[] }[] = [
  { text: `basic ${'😀'.repeat(8)} ${WORDS}`, shown: ['basic', '😀'.repeat(8), ...WORDS.split(' ')] },
  { text: 'cjk 漢字テスト then 한국어 done', shown: ['cjk', '漢字テスト', 'then', '한국어', 'done'] },
  {
    text: 'rtl שלום עולם and مرحبا بالعالم end',
    shown: ['rtl', 'שלום', 'עולם', 'and', 'مرحبا', 'بالعالم', 'end'],
  },
  // tmux 3.3 joins ZWJ sequences and flags, but draws a skin tone as a second emoji: the TUI
  // keeps the rest of the row in place, so every word shows (👍 without its tone, in tmux).
  {
    text: 'clusters 👨‍👩‍👧 family 🇺🇸 flag 👍🏽 tone café last',
    shown: ['clusters', '👨‍👩‍👧', 'family', '🇺🇸', 'flag', 'tone', 'café', 'last'],
  },
];

/** The screen's text with its rows joined (a wrapped line read whole: rows break at spaces). */
function joined(screen: string): string {
  return screen
    .split('\n')
    .map((r) => r.trim())
    .join(' ');
}

/** Waits until the screen stops changing below the status bar (its "heard Ns ago" ticks). */
async function settled(t: TmuxTerminal): Promise<string> {
  let last = '';
  return t.waitUntil((screen) => {
    const body = screen.split('\n').slice(1).join('\n');
    const same = body === last;
    last = body;
    return same;
  }, 'a still screen');
}

describe.skipIf(!hasTmux)('netchat-tui in a terminal: issue 18', () => {
  it.each([
    [100, 30],
    [40, 10],
  ])(
    'at %i×%i shows every word of lines with emoji, CJK and right-to-left text; a redraw leaves no stale cell',
    async (columns, rows) => {
      const peer = await echoPeer('echo');
      const t = tui(['0', '--nick', 'zoe', '--connect', `127.0.0.1:${peer.address.port}`], {
        size: { columns, rows },
      });
      await t.waitFor('Connected to');
      for (const line of LINES) {
        t.type(line.text);
        t.press('Enter');
        const first = line.shown[0] as string;
        const shown = await t.waitUntil(
          (s) => echoed(s, first).endsWith(line.shown.at(-1) as string),
          `the echo of "${first} …"`,
        );
        const words = echoed(shown, first).split(/ +/);
        for (const word of line.shown) expect(words).toContain(word);
      }
      // A draft typed key by key (each key redraws the input line over itself), then deleted; the
      // help opened and closed over the conversation; a scroll: after each, Ctrl+L (clear the
      // terminal, draw every cell again) must show exactly what was there.
      const redrawSame = async () => {
        const drawn = await settled(t);
        // A key after Ctrl+L, seen on the input line, shows that the redraw has been done.
        t.press('C-l');
        t.type('¶');
        const redrawn = await t.waitFor('¶');
        // Compared below the status bar (its "heard Ns ago" ticks), but for the input line.
        const compared = (screen: string) => screen.split('\n').filter((_, i) => i > 0 && i !== rows - 2);
        expect(compared(redrawn)).toEqual(compared(drawn));
        t.press('BSpace');
        await t.waitUntil((shown) => !shown.includes('¶'), 'the ¶ deleted');
      };
      for (const ch of Array.from('draft 👨‍👩‍👧 漢字 👍🏽 heart ❤️ end שלום')) t.type(ch);
      const inputRow = (screen: string) => screen.split('\n')[rows - 2] ?? '';
      const typed = await t.waitUntil((screen) => inputRow(screen).includes('שלום'), 'the whole draft');
      // The input line, drawn over itself at every key, shows every word (👍 without its tone in
      // tmux) that fits: at 40 columns its end.
      const input = inputRow(typed);
      const words = ['draft', '👨‍👩‍👧', '漢字', 'heart', 'end', 'שלום'];
      for (const word of columns < 60 ? words.slice(-3) : words) expect(input).toContain(word);
      await redrawSame();
      t.press('C-u');
      t.press('F1');
      await t.waitFor('help: Esc closes');
      t.press('Escape');
      await t.waitUntil((s) => !s.includes('help: Esc closes'), 'the help closing');
      t.press('PageUp');
      t.press('End');
      await redrawSame();
    },
  );

  it('a request that arrives while "hello sunny day" is typed takes no key: the draft is exact, Alt+Y accepts', async () => {
    const t = tui(['0', '--nick', 'zoe'], { size: { columns: 100, rows: 30 } });
    const shown = await t.waitFor('netchat: listening on');
    const port = Number(/listening on \S+:(\d+)\./.exec(shown)?.[1]);
    const asker = closeAfter(await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick: 'asker' }));
    const answers: string[] = [];
    asker.on('accepted', () => answers.push('accepted'));
    asker.on('declined', () => answers.push('declined'));
    const typed = 'hello sunny day';
    for (const ch of typed.slice(0, 7)) t.type(ch);
    asker.connectTo({ host: '127.0.0.1', port });
    await t.waitFor('Connection request from: 127.0.0.1');
    // Typed on while the dialog is up: the n and the y of "sunny" and "day" among them.
    for (const ch of typed.slice(7)) t.type(ch);
    await t.waitUntil((s) => s.includes(`> ${typed}`) || answers.length > 0, 'the draft or an answer');
    expect(answers).toEqual([]);
    expect(t.screen()).toContain('Accept? Alt+Y yes');
    // Alt+Y answers once the dialog has been on screen a moment: press until it has.
    for (let i = 0; i < 30 && answers.length === 0; i++) {
      t.press('M-y');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(answers).toEqual(['accepted']);
    await t.waitFor('Accepted the request from');
    t.press('M-0');
    await t.waitFor(`> ${typed}`);
  });

  it('PgUp past the top of a chat reads its older history in, page by page, with no jump, down to its first line', async () => {
    const home = newHome();
    // A peer we chatted with before: 200 lines logged with its key.
    const key = loadIdentity(newHome()).keyPair;
    const history = new ChatHistory(home);
    for (let i = 1; i <= 200; i++)
      history.record(Buffer.from(key.publicKey).toString('hex'), {
        at: new Date(Date.UTC(2026, 10, 1, 0, 0, i)).toISOString(),
        direction: 'in',
        nick: 'old',
        text: `said ${i}`,
      });
    const peer = closeAfter(
      await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick: 'old', identity: key }),
    );
    peer.on('request', (e) => peer.accept(e.session));
    const rows = 20;
    const t = tui(['0', '--nick', 'zoe', '--connect', `127.0.0.1:${peer.address.port}`], {
      size: { columns: 80, rows },
      home,
    });
    await t.waitFor('Connected to');
    /** The numbers of the history lines on screen, top to bottom. */
    const said = (screen: string) => [...screen.matchAll(/<old> said (\d+)/g)].map((m) => Number(m[1]));
    const first = said(t.screen());
    expect(first).toEqual(Array.from({ length: 10 }, (_, i) => 191 + i));
    let previous = first;
    let fullPages = 0;
    for (let presses = 0; presses < 30 && !previous.includes(1); presses++) {
      t.press('PageUp');
      const screen = await t.waitUntil((s) => said(s)[0] !== previous[0], 'the view scrolled up');
      const now = said(screen);
      // Contiguous, and the row that was at the top is at the bottom now (a page is the height less one row).
      expect(now).toEqual(Array.from({ length: now.length }, (_, i) => (now[0] as number) + i));
      if (now.length === rows - 3 && previous.length === rows - 3) {
        expect(now.at(-1)).toBe(previous[0]);
        fullPages++;
      }
      previous = now;
    }
    expect(previous[0]).toBe(1);
    // 200 lines, 16 rows a page: most pages were whole screens of history, each checked.
    expect(fullPages).toBeGreaterThanOrEqual(10);
    expect(t.screen()).toContain('Earlier chats with this key: the last 200 lines, dimmed.');
    // End: back to the chat, and it goes on.
    t.press('End');
    t.type('/me waves');
    t.press('Enter');
    await t.waitFor('* zoe waves');
  });

  // Another owner's home (read-only to us). Root writes anywhere, so as root the program runs as
  // "nobody" (setpriv), as it would for a person whose home belongs to someone else.
  const asRoot = process.getuid?.() === 0;
  const canDropRoot = !asRoot || spawnSync('setpriv', ['--version']).status === 0;

  it.skipIf(!canDropRoot)(
    'with a netchat home it cannot write: one warning line, the chat goes on, the draft is kept',
    async () => {
      // The program runs as another user: it passes through this file's temp folder to its home.
      if (asRoot) chmodSync(tmpdir(), 0o711);
      const home = newHome();
      loadIdentity(home);
      const prefix = asRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
      if (asRoot) {
        chownSync(join(home, 'identity.key'), 65534, 65534);
        chmodSync(home, 0o755);
      } else {
        chmodSync(home, 0o500);
      }
      const peer = await echoPeer('echo');
      const t = tui(['0', '--nick', 'zoe', '--connect', `127.0.0.1:${peer.address.port}`], {
        size: { columns: 100, rows: 30 },
        home,
        prefix,
      });
      const shown = await t.waitFor('Could not save the known peers');
      // The client's words, as the CLI says them (wrapped rows joined again).
      expect(joined(shown)).toContain(
        `!! Could not save the known peers (${join(home, 'known_peers.json')}: permission denied): the chat goes on, but peers' keys and addresses are not remembered after you quit.`,
      );
      expect(shown).toContain('Connected to');
      t.type('hello from a read-only home');
      t.press('Enter');
      const after = await t.waitFor('<echo> echo: hello from a read-only home');
      expect(joined(after)).toMatch(
        /!! Could not write the chat history \([^)]+: permission denied\): the chat goes on without being logged\./,
      );
      t.type('draft kept');
      await t.waitFor('> draft kept');
      // One line per file for the run: a second message says nothing new.
      t.press('C-u');
      t.type('once more');
      t.press('Enter');
      const last = await t.waitFor('<echo> echo: once more');
      expect(joined(last).match(/Could not/g)).toHaveLength(2);
      expect(last).not.toContain('unexpected error');
    },
  );
});

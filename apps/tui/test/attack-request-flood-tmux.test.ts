/**
 * The attacker's test for the person behind netchat-tui: while they chat with a friend, strangers
 * (each a fresh key from an address of its own) ask to chat, five a second, and never go away.
 * In a real terminal (tmux): can the person still chat (a line typed every second, its echo drawn
 * within a bound)? Are the bells, tabs and dialogs bounded? tmux's alert-bell hook counts bells.
 * Measured: the echo's time, the bells rung, the TUI's memory. A bell rang for each request (50
 * here, five a second), and for each offer of a peer let in that offers and cancels five a second;
 * requests and offers now ring at most once in 5 s (tui-model.ts, REQUEST_BELL_GAP_MS).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NetchatPeer } from '@netchat/core';
import { HostileSender, hasTmux, type TmuxTerminal, temporaryDirectory } from '@netchat/testkit';
import { describe, expect, it } from 'vitest';
import { closeAfter, echoPeer, tui } from './tmux-tui.js';

const STRANGERS = 50;
const EVERY_MS = 200;

function tmuxOf(t: TmuxTerminal, ...args: string[]): string {
  return execFileSync('tmux', ['-S', t.socketPath, ...args], { encoding: 'utf8' });
}

/** Counts the bells the terminal rings from now on (tmux's alert-bell hook writes a line each). */
function countBells(t: TmuxTerminal): () => number {
  const file = join(temporaryDirectory('netchat-bells-'), 'bells');
  tmuxOf(t, 'set-option', '-g', 'monitor-bell', 'on');
  tmuxOf(t, 'set-option', '-g', 'bell-action', 'any');
  tmuxOf(t, 'set-hook', '-g', 'alert-bell', `run-shell 'echo bell >> ${file}'`);
  return () => {
    try {
      return readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
    } catch {
      return 0; // none rang: the hook never wrote the file
    }
  };
}

function rssKiB(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m)?.[1] ?? 0);
}

describe.skipIf(!hasTmux)('netchat-tui while strangers ask to chat five a second', () => {
  it(`${STRANGERS} strangers: the person's chat with a friend goes on, bells and tabs bounded`, async () => {
    const friend = await echoPeer('friend');
    const t = tui(
      ['0', '--host', '127.0.0.1', '--nick', 'victim', '--connect', `127.0.0.1:${friend.address.port}`],
      {
        size: { columns: 100, rows: 30 },
      },
    );
    const connected = await t.waitFor(`Connected to 127.0.0.1 ${friend.address.port} (friend).`);
    const port = Number(/victim@127\.0\.0\.1:(\d+)/.exec(connected)?.[1]);
    expect(port).toBeGreaterThan(0);
    // A chat of a screenful already: its newest lines are at the bottom, as in a chat under way.
    for (let i = 0; i < 30; i++) {
      t.type(`before ${i}`);
      t.press('Enter');
    }
    await t.waitFor('echo: before 29');
    const bellsRung = countBells(t);
    const pid = t.programPid();
    const rssBefore = rssKiB(pid);

    const echoMs: number[] = [];
    const started = performance.now();
    let line = 0;
    for (let i = 0; i < STRANGERS; i++) {
      const stranger = closeAfter(
        await NetchatPeer.listen({ port: 0, host: `127.0.2.${i + 1}`, nick: `stranger${i}` }),
      );
      stranger.connectTo({ host: '127.0.0.1', port });
      // Every second, the person says a line to the friend, and waits for its echo.
      if (i % 5 === 4) {
        const text = `to my friend ${line++}`;
        t.type(text);
        const typed = performance.now();
        t.press('Enter');
        await t.waitFor(`echo: ${text}`, 10_000);
        echoMs.push(performance.now() - typed);
      }
      const next = started + (i + 1) * EVERY_MS;
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
    }
    const floodSeconds = (performance.now() - started) / 1000;
    const screen = t.screen();
    const rssAfter = rssKiB(pid);
    const rung = bellsRung();
    const tabBar = screen.trimEnd().split('\n').at(-1) ?? '';
    console.log(
      `request flood: ${STRANGERS} strangers in ${floodSeconds.toFixed(1)} s; ` +
        `echo of a line to the friend: ${echoMs.map((ms) => ms.toFixed(0)).join(', ')} ms; ${rung} bells; ` +
        `RSS ${rssBefore} -> ${rssAfter} KiB; tab bar: ${tabBar}`,
    );
    // The person chats on: each line's echo drawn within a bound (about 100 ms measured).
    expect(echoMs).toHaveLength(STRANGERS / 5);
    expect(Math.max(...echoMs)).toBeLessThan(3000);
    expect(screen).toContain(`echo: to my friend ${line - 1}`);
    // One bell, then one in any 5 s (REQUEST_BELL_GAP_MS): 50 rang before, one a stranger.
    expect(rung).toBeGreaterThanOrEqual(1);
    expect(rung).toBeLessThanOrEqual(Math.ceil(floodSeconds / 5) + 1);
    // One tab for the friend; the strangers are counted on the home tab, one dialog at a time.
    expect(tabBar.trim()).toBe(`0 home !${STRANGERS} │ 1 friend`);
    expect(screen.split('Connection request from:').length - 1).toBe(1);
  }, 120_000);

  it('a peer let in offers files five a second, cancelling each: bells bounded, the chat goes on', async () => {
    const sender = await HostileSender.start();
    try {
      const takesFiles = sender.acceptAll();
      sender.peer.on('message', (e) => sender.peer.send(e.session, `echo: ${e.text}`));
      const downloads = temporaryDirectory('netchat-offers-dl-');
      const source = join(temporaryDirectory('netchat-offers-src-'), 'payload');
      writeFileSync(source, 'an offer');
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
      const session = await takesFiles;
      await t.waitFor('Connected to 127.0.0.1');
      const bellsRung = countBells(t);
      const started = performance.now();
      const OFFERS = 50;
      for (let i = 0; i < OFFERS; i++) {
        const transfer = await sender.offer(session, source, [`offer-${i}.txt`]);
        // Cancelled before the next: core lets 8 wait at once; this one never stops coming.
        setTimeout(() => sender.link.cancel(transfer), EVERY_MS / 2);
        const next = started + (i + 1) * EVERY_MS;
        await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
      }
      const floodSeconds = (performance.now() - started) / 1000;
      t.type('still there?');
      t.press('Enter');
      await t.waitFor('echo: still there?', 10_000);
      const rung = bellsRung();
      console.log(`offer flood: ${OFFERS} offers in ${floodSeconds.toFixed(1)} s; ${rung} bells`);
      expect(rung).toBeGreaterThanOrEqual(1);
      expect(rung).toBeLessThanOrEqual(Math.ceil(floodSeconds / 5) + 1);
    } finally {
      await sender.close();
    }
  }, 60_000);
});

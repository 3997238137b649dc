/**
 * The real netchat-tui in a real terminal (tmux), against a real peer on loopback: type, read
 * the reply off the screen, quit, and check the terminal was given back in its normal state.
 */
import { existsSync, readFileSync } from 'node:fs';
import { NetchatPeer } from '@netchat/core';
import { hasTmux } from '@netchat/testkit';
import { describe, expect, it } from 'vitest';
import { closeAfter, echoPeer, removeAfter, tui } from './tmux-tui.js';

describe.skipIf(!hasTmux)('netchat-tui in a terminal', () => {
  it('chats with a real peer, then quits on Ctrl+C (asked, then again) and restores the terminal', async () => {
    const peer = await echoPeer('echo-peer');
    const closed = new Promise((resolve) => peer.once('closed', resolve));
    const t = tui(['0', '--nick', 'zoe', '--connect', `127.0.0.1:${peer.address.port}`]);
    await t.waitFor(`Connected to 127.0.0.1 ${peer.address.port} (echo-peer).`);
    expect(t.state()).toBe('1 0 0'); // full screen: alternate screen, its own cursor, mouse not taken
    t.type('hello from tmux 😀');
    t.press('Enter');
    const shown = await t.waitFor('<echo-peer> echo: hello from tmux 😀');
    expect(shown).toContain('<zoe> hello from tmux 😀');
    expect(shown.split('\n')[0]).toContain('echo-peer │ 127.0.0.1:');
    t.press('C-c');
    await t.waitFor('Close 1 chat and quit? (y/n)'); // a chat is open: asked first
    t.press('C-c'); // again: yes
    const after = await t.waitFor('AFTER-EXIT 0');
    expect(after).toContain('BEFORE');
    expect(t.state()).toBe('0 1 0');
    await closed; // the peer was told the session closed
  });

  it('quits on /quit and restores the terminal', async () => {
    const t = tui(['0']);
    await t.waitFor('netchat: listening on');
    t.type('/quit');
    t.press('Enter');
    await t.waitFor('AFTER-EXIT 0');
    expect(t.state()).toBe('0 1 0');
  });

  it('quits on SIGTERM and restores the terminal', async () => {
    const t = tui(['0']);
    await t.waitFor('netchat: listening on');
    // This terminal's program itself (not every netchat-tui whose command line looks the same).
    process.kill(t.programPid(), 'SIGTERM');
    await t.waitFor('AFTER-EXIT 0');
    expect(t.state()).toBe('0 1 0');
  });

  it('on an uncaught error restores the terminal and prints where the details are', async () => {
    // Wide enough that the log's path is on one line.
    const t = tui(['0'], { env: { NETCHAT_TUI_CRASH_AFTER_MS: '500' }, size: { columns: 200, rows: 20 } });
    const shown = await t.waitFor('AFTER-EXIT 1');
    expect(t.state()).toBe('0 1 0');
    expect(shown).toContain('netchat-tui: unexpected error: crash requested by NETCHAT_TUI_CRASH_AFTER_MS');
    const path = /details written to (\S+)/.exec(shown)?.[1] ?? '';
    removeAfter(path);
    expect(existsSync(path)).toBe(true);
    expect(readFileSync(path, 'utf8')).toContain('crash requested');
  });

  it('sends a 20,000-character bracketed paste whole, at once, and the chat stays alive', async () => {
    const peer = closeAfter(await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick: 'counter' }));
    peer.on('request', (e) => peer.accept(e.session));
    peer.on('message', (e) => peer.send(e.session, `got ${e.text.length} characters`));
    const got = new Promise<string>((resolve) => peer.once('message', (e) => resolve(e.text)));
    const t = tui([
      '0',
      '--nick',
      'zoe',
      '--heartbeat-interval',
      '0.5',
      '--connect',
      `127.0.0.1:${peer.address.port}`,
    ]);
    await t.waitFor('Connected to');
    const text = `top line\n${'p'.repeat(20_000)}`;
    t.paste(text);
    await t.waitFor('[20009]');
    t.press('Enter');
    expect(await got).toBe(text);
    await t.waitFor('<counter> got 20009 characters');
    expect(t.screen()).not.toContain('missed');
    t.press('C-c');
    await t.waitFor('Close 1 chat and quit? (y/n)');
    t.type('y');
    await t.waitFor('AFTER-EXIT 0');
  });

  it('knows the round trip of an accepted chat before anything is sent', async () => {
    const t = tui(['0', '--yes']);
    const shown = await t.waitFor('netchat: listening on');
    const port = Number(/listening on \S+:(\d+)\./.exec(shown)?.[1]);
    const peer = closeAfter(await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick: 'asker' }));
    peer.connectTo({ host: '127.0.0.1', port });
    await t.waitFor('Accepted (--yes) the request');
    await t.waitUntil(
      (s) => /asker │ 127\.0\.0\.1:\d+ │ open │ direct │ rtt \d+ ms/.test(s),
      'an rtt in the status bar',
    );
  });

  it('shows the peer typing, and /nick reaches the peer', async () => {
    const peer = await echoPeer('echo-peer');
    const renamed = new Promise<string>((resolve) =>
      peer.on('presence', (e) => {
        if (e.nick === 'zed') resolve(e.nick);
      }),
    );
    const t = tui(['0', '--nick', 'zoe', '--connect', `127.0.0.1:${peer.address.port}`]);
    await t.waitFor('Connected to');
    const session = peer.listSessions()[0]?.id;
    if (session === undefined) throw new Error('no session at the peer');
    peer.setTyping(session, true);
    await t.waitFor('echo-peer is typing…');
    t.type('/nick zed');
    t.press('Enter');
    expect(await renamed).toBe('zed');
    await t.waitFor('You are now zed (your 1 open chat is told).');
  });
});

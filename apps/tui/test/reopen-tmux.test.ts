/**
 * A peer who comes back, as a person sees it in the built netchat-tui (tmux, a private server):
 * alice's chat ends, she asks again, the dialog asks first, and once accepted the chat goes on in
 * her tab, her earlier line above and "reopened" said; the bar shows one tab for her, not
 * "(ended)". Everything is removed after the test, whatever its outcome.
 */
import { NetchatPeer } from '@netchat/core';
import { hasTmux } from '@netchat/testkit';
import { describe, expect, it } from 'vitest';
import { closeAfter, pressUntil, tui } from './tmux-tui.js';

describe.skipIf(!hasTmux)('a peer who comes back, in a real terminal', () => {
  it('continues in its ended tab after the dialog asked, at 100x30', async () => {
    const t = tui(['0', '--host', '127.0.0.1', '--nick', 'bob'], { size: { columns: 100, rows: 30 } });
    const listening = await t.waitUntil((s) => /listening on[\s\S]*?:\d+\./.test(s), 'the port');
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(listening)?.[1]);
    const alice = closeAfter(await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick: 'alice' }));
    const ask = () => {
      const session = alice.connectTo({ host: '127.0.0.1', port });
      const accepted = new Promise<void>((resolve) =>
        alice.on('accepted', (e) => {
          if (e.session === session) resolve();
        }),
      );
      return { session, accepted };
    };

    const first = ask();
    await t.waitUntil((s) => s.includes('Connection request'), 'the first request');
    await pressUntil(t, 'M-y', (s) => s.includes(' 1 alice'));
    await first.accepted;
    alice.send(first.session, 'the first chat');
    await t.waitUntil((s) => s.includes('the first chat'), 'her first line');
    alice.closeSession(first.session);
    await t.waitUntil((s) => s.includes('1 alice (ended)'), 'her tab ended');

    const second = ask();
    // The dialog asks first: until accepted, her tab stays ended.
    const asking = await t.waitUntil((s) => s.includes('Connection request'), 'the second request');
    expect(asking).toContain('1 alice (ended)');
    const reopened = await pressUntil(t, 'M-y', (s) => s.includes('reopened'));
    await second.accepted;
    alice.send(second.session, 'the second chat');
    const screen = await t.waitUntil((s) => s.includes('the second chat'), 'her second line');
    expect(reopened).toContain(`Chat with 127.0.0.1 ${alice.address.port} (alice) reopened.`);
    expect(screen.indexOf('the first chat')).toBeLessThan(screen.indexOf('reopened'));
    expect(screen.trimEnd().split('\n').at(-1)).toMatch(/ 1 alice\b/);
    expect(screen).not.toContain('(ended)');
    expect(screen).not.toContain('2 alice');
  }, 60_000);
});

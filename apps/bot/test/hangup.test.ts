/**
 * The terminal the bot runs in going away (its window closed, an ssh connection dropped): the bot
 * gets SIGHUP, and its log lines, written to that terminal, fail with EIO. It closes every session
 * as on SIGTERM, so its peers are told at once. It used to die at the signal with its sessions
 * open (and, with a handler, on the EIO of its next log line): its peers heard nothing until three
 * heartbeats went missing (75 s by default).
 */
import { fileURLToPath } from 'node:url';
import { type EventOf, NetchatPeer } from '@netchat/core';
import { hasTmux, TmuxTerminal } from '@netchat/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe.skipIf(!hasTmux)('the bot in a terminal that goes away', () => {
  it('tells its peer the session closed, at once', async () => {
    const t = new TmuxTerminal(
      [process.execPath, bin, '0', '--host', '127.0.0.1'],
      {},
      { columns: 400, rows: 20 },
    );
    cleanup.push(() => t.close());
    const port = Number(/"port":(\d+)/.exec(await t.waitFor('"event":"listening"'))?.[1]);
    const p = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick: 'tester' });
    cleanup.push(() => p.close(100));
    const event = <T extends 'accepted' | 'message' | 'closed'>(type: T, ms: number) =>
      new Promise<EventOf<T>>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${type} within ${ms} ms`)), ms);
        p.once(type as 'message', (e) => {
          clearTimeout(timer);
          resolve(e as EventOf<T>);
        });
      });
    const accepted = event('accepted', 10_000);
    await p.connect('127.0.0.1', port);
    const session = (await accepted).session;
    const echoed = event('message', 10_000);
    p.send(session, 'hi');
    expect((await echoed).text).toBe('echo: hi');
    // Within seconds, not the 75 s three missed heartbeats take.
    const closed = event('closed', 15_000);
    t.close(); // SIGHUP (tmux, then the kernel: two), and EIO from the pty
    expect(await closed).toMatchObject({ session, reason: 'peer_closed' });
  }, 60_000);
});

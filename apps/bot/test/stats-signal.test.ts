/**
 * An operator asks a running bot what it is doing: SIGUSR1 logs `stats` (with the counters so far),
 * `rendezvous_stats` and `files_stats` at once, and the bot goes on (it answers after it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetchatPeer } from '@netchat/core';
import { afterEach, describe, expect, it } from 'vitest';
import { BotProcess } from './support/bot-process.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** The next `message` `p` receives, waiting at most 10 s. */
function nextMessage(p: NetchatPeer): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no message within 10 s')), 10_000);
    p.once('message', (e) => {
      clearTimeout(timer);
      resolve(e.text);
    });
  });
}

describe('SIGUSR1', () => {
  it('logs the stats now, with what the bot did so far, and the bot goes on', async () => {
    const inbox = mkdtempSync(join(tmpdir(), 'netchat-bot-usr1-'));
    cleanup.push(() => rmSync(inbox, { recursive: true, force: true }));
    const bot = new BotProcess(['0', '--host', '127.0.0.1', '--rendezvous', '--accept-files', inbox]);
    cleanup.push(() => bot.kill());
    const port = await bot.port();
    const p = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick: 'operator' });
    cleanup.push(() => p.close(100));
    const reply = nextMessage(p);
    p.on('accepted', (e) => p.send(e.session, 'hello'));
    p.connectTo({ host: '127.0.0.1', port });
    expect(await reply).toBe('echo: hello');

    bot.kill('SIGUSR1');
    const [stats] = await bot.waitForLogs((l) => l.event === 'stats');
    expect(stats).toMatchObject({ sessions: 1, sessionsServed: 1, messagesIn: 1, messagesOut: 1 });
    expect(stats?.security).toMatchObject({ handshakesCompleted: 1 });
    const [rendezvous] = await bot.waitForLogs((l) => l.event === 'rendezvous_stats');
    expect(rendezvous).toMatchObject({ registered: 0 });
    const [files] = await bot.waitForLogs((l) => l.event === 'files_stats');
    expect(files).toMatchObject({ offers: 0, used: 0, room: 1_000_000_000 });

    const again = nextMessage(p);
    const [session] = p.listSessions();
    p.send(session?.id ?? -1, 'still there?');
    expect(await again).toBe('echo: still there?');
    bot.kill('SIGTERM');
    expect(await bot.exited).toBe(0);
  });
});

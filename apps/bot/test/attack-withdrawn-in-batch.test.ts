/**
 * The attacker's test for a request whose session is gone before the bot hears of it. Node hands
 * the peer a batch of datagrams one callback at a time, and once a stream became readable in the
 * batch every later event waits until the batch is handled (core's held-events.ts). A stranger
 * with a chat that carries a stream (the bot takes files) sends, in one burst: stream bytes, a
 * request for a second chat, and its withdrawal. The bot hears the request after the withdrawal
 * forgot the session, and answers it. Against the real process on loopback (the bot stopped with
 * SIGSTOP while the burst goes, so the whole burst is one batch). Measured: whether the bot still
 * runs and answers an honest peer.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EventOf, NetchatPeer, type SessionId } from '@netchat/core';
import { afterEach, describe, expect, it } from 'vitest';
import { BotProcess } from './support/bot-process.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** Waits for `ok`, polling every 10 ms, at most `ms`. */
async function until(ok: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The process state letter from /proc (T: stopped). */
function processState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

describe('a request withdrawn in the same batch as stream bytes', () => {
  for (const burst of ['a request and its withdrawal', 'the chat closed at once'] as const)
    it(`stream bytes, then ${burst}, in one batch: the bot keeps running and still answers others`, async () => {
      const folder = mkdtempSync(join(tmpdir(), 'netchat-attack-withdrawn-'));
      cleanup.push(() => rmSync(folder, { recursive: true, force: true }));
      const b = new BotProcess(['0', '--host', '127.0.0.1', '--accept-files', folder]);
      cleanup.push(() => b.kill());
      const port = await b.port();
      const pid = b.child.pid ?? 0;

      const stranger = await NetchatPeer.listen({
        port: 0,
        host: '127.0.0.1',
        nick: 'stranger',
        streams: true,
      });
      cleanup.push(() => stranger.close(100));
      const accepted = new Promise<EventOf<'accepted'>>((resolve) => stranger.once('accepted', resolve));
      const first: SessionId = await stranger.connect('127.0.0.1', port);
      await accepted;
      await until(() => stranger.session(first)?.peerFeatures !== undefined, 'the bot’s features');
      const stream = stranger.openStream(first);

      process.kill(pid, 'SIGSTOP');
      cleanup.push(() => {
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          // Exited already.
        }
      });
      await until(() => processState(pid) === 'T', 'the bot stopped');
      // One burst while the bot reads nothing: stream bytes, a second request, its withdrawal.
      stranger.writeStream(first, stream, new Uint8Array(600).fill(7));
      if (burst === 'a request and its withdrawal') {
        const second = stranger.connectTo({ host: '127.0.0.1', port });
        stranger.closeSession(second);
      } else stranger.closeSession(first, { linger: false });
      process.kill(pid, 'SIGCONT');

      // The bot logs what it heard (or dies on it).
      const crashed = b.exited.then((code) => `exited ${code}`);
      const logged = b
        .waitForLogs(
          (l) => (burst === 'a request and its withdrawal' ? l.event === 'request' : l.event === 'closed'),
          burst === 'a request and its withdrawal' ? 2 : 1,
          10_000,
        )
        .then(() => 'logged')
        .catch(() => 'no second request logged');
      const outcome = await Promise.race([crashed, logged]);

      const honest = await NetchatPeer.listen({ port: 0, host: '127.0.0.2', nick: 'honest' });
      cleanup.push(() => honest.close(100));
      const answer = new Promise<string>((resolve) => {
        honest.once('accepted', () => resolve('accepted'));
        honest.once('declined', (e: EventOf<'declined'>) => resolve(e.reason));
      });
      const asked =
        outcome === 'logged' ? await honest.connect('127.0.0.1', port).then(() => answer) : undefined;
      const honestAnswer = await Promise.race([
        asked ?? Promise.resolve('not asked: the bot is gone'),
        b.exited.then((code) => `the bot exited (${code})`),
        new Promise<string>((resolve) => setTimeout(() => resolve('no answer in 10 s'), 10_000)),
      ]);
      console.log(
        `${burst} in the batch: ${outcome}; an honest peer after it: ${honestAnswer}; stderr: ${b.stderr.split('\n').slice(0, 3).join(' | ')}`,
      );
      expect(honestAnswer).toBe('accepted');
    }, 60_000);
});

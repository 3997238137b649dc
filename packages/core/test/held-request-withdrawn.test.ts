/**
 * A request whose session is gone before the application hears of it (node/held-events.ts: once
 * a stream became readable in a batch of datagrams, every later event of the batch waits until
 * the batch is handled). A stranger with a chat carrying a stream sends, in one burst, stream
 * bytes, a request for a second chat and its withdrawal: the application is told the request
 * after the withdrawal forgot the session, and answers it as it must (a bot accepts at once).
 * Real UDP on 127.0.0.1, in-process: the burst goes out in one tick, so the victim reads it as
 * one batch.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type EventOf, type NetchatEvent, NetchatPeer, type SessionId } from '../src/index.js';

const open: NetchatPeer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close(200)));
});

async function listen(nick: string): Promise<NetchatPeer> {
  const peer = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick, streams: true });
  open.push(peer);
  return peer;
}

async function until(ok: () => boolean, what: string, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('a request withdrawn in the batch that tells it', () => {
  for (const answer of ['accept', 'decline', 'close'] as const)
    it(`the application's ${answer} of it does not throw, and the session's end is told after the request`, async () => {
      const victim = await listen('victim');
      const stranger = await listen('stranger');
      const told: NetchatEvent[] = [];
      const thrown: unknown[] = [];
      victim.on('event', (e) => {
        told.push(e);
        if (e.type !== 'request') return;
        try {
          // The first request is always accepted (the chat that carries the stream).
          if (answer === 'accept' || told.filter((t) => t.type === 'request').length === 1)
            victim.accept(e.session);
          else if (answer === 'decline') victim.decline(e.session, 'busy');
          else victim.closeSession(e.session);
        } catch (error) {
          thrown.push(error);
        }
      });
      const accepted = new Promise<EventOf<'accepted'>>((resolve) => stranger.once('accepted', resolve));
      const first: SessionId = stranger.connectTo(victim.address);
      await accepted;
      await until(() => stranger.session(first)?.peerFeatures !== undefined, 'the features');
      const stream = stranger.openStream(first);
      // One tick: the victim reads all three in one batch.
      stranger.writeStream(first, stream, new Uint8Array(600).fill(7));
      const second = stranger.connectTo(victim.address);
      stranger.closeSession(second);
      const secondRequest = () => told.filter((e) => e.type === 'request')[1];
      await until(
        () => told.some((e) => e.type === 'closed' && e.session === secondRequest()?.session),
        'the second request and its end',
      );
      expect(thrown).toEqual([]);
      const ofSecond = told.filter((e) => 'session' in e && e.session === secondRequest()?.session);
      expect(ofSecond.map((e) => e.type)).toEqual(['request', 'closed']);
      expect(victim.session(first)?.state).toBe('open');
    });
});

/**
 * The attacker's test for what the bot keeps for a peer that never acknowledges: strangers (the
 * independent peer of packages/core/test/interop, written from PROTOCOL.md alone) send long
 * messages and play deaf to the echoes (they read the bot's acknowledgements, never its text),
 * so every reply waits in the bot's queue to be sent again. Core's queue bound, 1 MiB a session,
 * let 80 such strangers grow the bot by 129 MB (1.6 GB at --max-sessions 1000); the bot now lets
 * a peer leave at most 128 KiB of replies unacknowledged (main.ts, REPLY_BACKLOG_BYTES), past it
 * a reply fails (reply_failed). Measured: replies queued per deaf stranger, the bot's RSS, and an
 * honest peer's round trip afterwards.
 */
import { NetchatPeer } from '@netchat/core';
import { afterEach, describe, expect, it } from 'vitest';
import { IndependentPeer } from '../../../packages/core/test/interop/index.mjs';
import { BotProcess } from './support/bot-process.js';
import { rssKiB, watchPeakRss } from './support/victim-measures.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const STRANGERS = 40;
const MESSAGES = 10;
const TEXT_BYTES = 60_000;

describe('strangers that never acknowledge the echoes', () => {
  it(`${STRANGERS} deaf strangers x ${MESSAGES} messages of ${TEXT_BYTES} B: at most 128 KiB of replies queued for each`, async () => {
    // Every message's lines logged (--log-rate far past the flood): this test counts them.
    const b = new BotProcess(['0', '--host', '127.0.0.1', '--log-rate', '100000']);
    cleanup.push(() => b.kill());
    const port = await b.port();
    const pid = b.child.pid ?? 0;
    const before = rssKiB(pid);
    const peak = watchPeakRss(pid);
    const text = 'x'.repeat(TEXT_BYTES);
    for (let i = 0; i < STRANGERS; i++) {
      const p = await IndependentPeer.listen({ host: '127.0.0.1', dropMessage: (m) => m.type === 'text' });
      cleanup.push(() => p.stop());
      const accepted = new Promise<void>((resolve) => p.once('accepted', () => resolve()));
      const session = p.connect('127.0.0.1', port);
      await accepted;
      for (let k = 0; k < MESSAGES; k++) p.send(session, text);
    }
    // Every message arrives (the strangers hear the bot's acknowledgements), each answered or failed.
    const all = STRANGERS * MESSAGES;
    await b.waitForLogs((l) => l.event === 'message_in', all, 60_000);
    await b.waitForLogs((l) => l.event === 'reply_out' || l.event === 'reply_failed', all, 30_000);
    const peakKiB = peak.stop();
    const out = b.logs().filter((l) => l.event === 'reply_out');
    const failed = b.logs().filter((l) => l.event === 'reply_failed');
    const perPeer = new Map<string, number>();
    for (const l of out) perPeer.set(String(l.peer), (perPeer.get(String(l.peer)) ?? 0) + 1);
    const most = Math.max(...perPeer.values());

    // An honest peer is still answered at once.
    const honest = await NetchatPeer.listen({ port: 0, host: '127.0.0.2', nick: 'honest' });
    cleanup.push(() => honest.close(100));
    const opened = new Promise<number>((resolve) => honest.once('accepted', (e) => resolve(e.session)));
    await honest.connect('127.0.0.1', port);
    const session = await opened;
    const started = performance.now();
    const echo = new Promise<string>((resolve) => honest.on('message', (e) => resolve(e.text)));
    honest.send(session, 'still there?');
    expect(await b.whileRunning(echo)).toBe('echo: still there?');
    const roundTrip = performance.now() - started;
    console.log(
      `deaf strangers: ${all} messages in (${all * TEXT_BYTES} B); ${out.length} replies queued (at most ${most} for one peer), ` +
        `${failed.length} failed; bot RSS ${before} KiB before, ${peakKiB} KiB peak (+${((peakKiB - before) / STRANGERS).toFixed(0)} KiB a stranger); ` +
        `honest round trip ${roundTrip.toFixed(0)} ms`,
    );
    // Two replies of 60 kB fit in 128 KiB; a third waits for an acknowledgement that never comes.
    expect(most).toBeLessThanOrEqual(2);
    expect(failed[0]?.error).toMatch(/more than 131072 bytes are waiting/);
    // Memory: the queues hold at most 40 x 128 KiB; the rest is the traffic's garbage.
    expect(peakKiB - before).toBeLessThan(120 * 1024);
    expect(roundTrip).toBeLessThan(5000);
  }, 120_000);
});

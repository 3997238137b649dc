/**
 * The attacker's test for the drop box's receiving slots: core receives 32 transfers at once, in
 * all sessions together. A stranger (the independent peer of packages/core/test/interop, written
 * from PROTOCOL.md alone) offers 40 one-byte files, one offer each, and plays deaf to the bot's
 * streams, so it never hears the accept nor a want and never sends a byte: it used to hold all 32
 * slots for as long as it kept its session, and an honest peer's offer was declined
 * (`too_many_offers`). The bot now receives at most 4 transfers from one host at once
 * (drop-box.ts, MAX_RECEIVING_PER_HOST). Measured: the stranger's offers taken, and the honest
 * peer's file (from another loopback address) arriving whole.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileLink, type LinkEvent, NetchatPeer } from '@netchat/core';
import { afterEach, describe, expect, it } from 'vitest';
import { IndependentPeer } from '../../../packages/core/test/interop/index.mjs';
import { BotProcess } from './support/bot-process.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const OFFERS = 40;

describe('a stranger that holds the drop box’s receiving slots', () => {
  it(`${OFFERS} offers never sent: at most 4 taken from its host, and an honest peer's file still arrives`, async () => {
    const root = mkdtempSync(join(tmpdir(), 'netchat-attack-slots-'));
    cleanup.push(() => rmSync(root, { recursive: true, force: true }));
    const dir = join(root, 'drop');
    const b = new BotProcess(['0', '--host', '127.0.0.1', '--accept-files', dir]);
    cleanup.push(() => b.kill());
    const port = await b.port();
    const attacker = await IndependentPeer.listen({
      host: '127.0.0.1',
      streams: true,
      files: true,
      // Deaf to the bot's streams: it never hears the accept nor a want, so never sends a byte.
      dropMessage: (m) => m.type === 'stream_data',
    });
    cleanup.push(() => attacker.stop());
    const features = new Promise<void>((resolve) => attacker.once('features', () => resolve()));
    const session = attacker.connect('127.0.0.1', port);
    await features;
    const answered = (l: { event?: string }) => l.event === 'file_accepted' || l.event === 'file_refused';
    for (let i = 0; i < OFFERS; i++) {
      attacker.offerFiles(session, [{ path: `f${i}`, content: randomBytes(1) }]);
      // One at a time, as the bot answers (core declines, unlogged, what comes past its own limits).
      if (i < 32) await b.waitForLogs(answered, i + 1, 10_000);
    }
    const taken = b.logs().filter((l) => l.event === 'file_accepted').length;

    const honest = await NetchatPeer.listen({ port: 0, host: '127.0.0.2', streams: true, files: true });
    const link = new FileLink(honest);
    cleanup.push(async () => {
      await link.close();
      await honest.close(100);
    });
    const events: LinkEvent[] = [];
    link.on('event', (e) => events.push(e));
    const honestSession = new Promise<number>((resolve) =>
      honest.once('features', (e) => resolve(e.session)),
    );
    await honest.connect('127.0.0.1', port);
    const src = join(root, 'honest.bin');
    const data = randomBytes(10_000);
    writeFileSync(src, data);
    const transfer = await link.offer(await honestSession, [src]);
    const ends = (e: LinkEvent) =>
      e.transfer === transfer && (e.type === 'file_done' || e.type === 'file_declined');
    for (const deadline = Date.now() + 20_000; !events.some(ends) && Date.now() < deadline; )
      await new Promise((r) => setTimeout(r, 20));
    const end = events.find(ends);
    const refused = b.logs().filter((l) => l.event === 'file_refused' && l.reason === 'too_many_offers');
    console.log(
      `held slots: ${taken} of the stranger's ${OFFERS} offers taken, ${refused.length} refused (too_many_offers); ` +
        `the honest transfer: ${end?.type}${end?.type === 'file_declined' ? ` (${end.reason})` : ''}`,
    );
    expect(taken).toBeLessThanOrEqual(4);
    expect(end).toMatchObject({ type: 'file_done', verified: 1 });
    expect(readFileSync(join(dir, 'honest.bin')).equals(data)).toBe(true);
  }, 90_000);
});

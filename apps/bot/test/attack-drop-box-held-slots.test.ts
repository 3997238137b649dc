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
import { afterEach, describe, expect, it } from 'vitest';
import { IndependentPeer } from '../../../packages/core/test/interop/index.mjs';
import { BotProcess } from './support/bot-process.js';
import { FileSender } from './support/file-sender.js';

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

    const honest = await FileSender.connect(port, cleanup, '127.0.0.2');
    const src = join(root, 'honest.bin');
    const data = randomBytes(10_000);
    writeFileSync(src, data);
    const end = await honest.end(await honest.offer([src]));
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

/**
 * FileLink runs the engine's stall checks on a timer (its `nextDeadline`): two peers on loopback,
 * the sender held to 100 bytes a second (under the receiver's floor, here 4 KiB in 2 s windows so
 * the test is short), the receive ends `stalled` on both sides, its partial kept in the download
 * folder; and no timer is left once no receive runs (the process can exit).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FileLink, LinkEvent } from '../src/index.js';
import { type Cleanups, linkPair } from './support/link-pair.js';
import { randomData, temporaryFolder } from './support/partial-files.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("FileLink's stall timer", () => {
  it('ends a receive below the floor on both sides within its window and a check, the partial kept', async () => {
    const src = temporaryFolder('stall-src');
    const dst = temporaryFolder('stall-dst');
    cleanups.push(
      () => src.remove(),
      () => dst.remove(),
    );
    const limits = { stallWindowMs: 2_000, stallFloorBytes: 4_096, stallGraceMs: 500 };
    const { a, b, la, lb, chat } = await linkPair(cleanups, {
      downloadFolder: dst.folder,
      engine: { limits },
    });
    lb.on('file_offer', (e) => void lb.accept(e.transfer));
    writeFileSync(join(src.folder, 'slow.bin'), randomData(200_000, 3));
    const session = await chat();
    a.run((endpoint) => endpoint.setPathRateLimit(b.address, 100));
    const failed = (link: FileLink) =>
      new Promise<LinkEvent>((resolve) =>
        link.on('file_failed', (e) => {
          if (e.reason === 'stalled') resolve(e);
        }),
      );
    const sent = failed(la);
    const received = failed(lb);
    const accepted = new Promise<number>((r) => lb.on('file_accepted', () => r(performance.now())));
    await la.offer(session, [join(src.folder, 'slow.bin')]);
    const acceptedAt = await accepted;
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000).unref());
    const [atReceiver, atSender] = await Promise.race([
      Promise.all([received, sent]),
      timeout.then(() => []),
    ]);
    expect(atReceiver).toMatchObject({ reason: 'stalled', resumable: true });
    expect(atSender).toMatchObject({ reason: 'stalled', resumable: true });
    const seconds = (performance.now() - acceptedAt) / 1000;
    console.log(`[file-link-stall] stalled ${seconds.toFixed(2)} s after the accept`);
    expect(seconds).toBeGreaterThanOrEqual(1.9);
    // A partial kept for a resume (hidden in the download folder), nothing placed.
    expect(dst.entries().some((name) => name.endsWith('.part'))).toBe(true);
    expect(dst.entries()).not.toContain('slow.bin');
    // The sender keeps the offer for the next chat.
    expect(la.unfinishedOffers(Buffer.from(b.publicKey).toString('hex'))).toBe(1);
  }, 30_000);
});

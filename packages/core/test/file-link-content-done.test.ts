/**
 * A file sent anew and verified leaves the sender's unfinished offers of the same content to that
 * peer (it has it): before, an offer that had failed (a full disk, a peer that quit) was made
 * again at every chat with the peer even after the same file arrived by a new `/send`. Two
 * NetchatPeers with FileLinks on loopback.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileLink, NetchatPeer } from '../src/index.js';
import { nextEvent as next } from './support/file-link-events.js';
import { randomData, temporaryFolder } from './support/partial-files.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('an unfinished offer whose file the peer then received by another offer', () => {
  it('is no longer kept to be made again', async () => {
    const source = temporaryFolder('content-done-src');
    const downloads = temporaryFolder('content-done-dst');
    cleanups.push(() => {
      source.remove();
      downloads.remove();
    });
    const a = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', streams: true, files: true });
    const b = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', streams: true, files: true });
    const sending = new FileLink(a, {});
    const receiving = new FileLink(b, { downloadFolder: downloads.folder });
    cleanups.push(async () => {
      await sending.close();
      await receiving.close();
      await a.close(100);
      await b.close(100);
    });
    b.on('request', (e) => b.accept(e.session));
    const bKey = Buffer.from(b.publicKey).toString('hex');
    const path = join(source.folder, 'report.pdf');
    writeFileSync(path, randomData(200_000, 3));
    const features = new Promise<number>((resolve) => a.once('features', (e) => resolve(e.session)));
    a.connectTo(b.address);
    const session = await features;

    // The first offer is left unanswered: it is kept to be made again.
    const first = next(receiving, 'file_offer');
    await sending.offer(session, [path]);
    await first;
    expect(sending.outgoing.forPeer(bKey)).toHaveLength(1);

    // The same file offered anew, accepted and verified.
    const second = next(receiving, 'file_offer');
    await sending.offer(session, [path]);
    const offer = await second;
    const sent = next(sending, 'file_sent');
    await receiving.accept(offer.transfer);
    await sent;
    expect(sending.outgoing.forPeer(bKey)).toEqual([]);
  }, 30_000);
});

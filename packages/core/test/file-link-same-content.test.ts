/**
 * The same file offered again while it is still arriving (a person types `/send big.bin` twice,
 * or once while the program's own re-offer runs): the receiver takes the second offer up by
 * itself (it holds part of that content), and the second waits for the first, then is answered
 * from the file the first placed. Before, it started again from 0 once the first was placed
 * (the "already held" it showed was the first's partial), wrote every byte a second time and
 * made `big (1).bin`. Two NetchatPeers with FileLinks on loopback; the receiver's second sync is
 * held until the second offer is shown, so the first is still arriving then.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nextEvent } from './support/file-link-events.js';
import { type Cleanups, linkPair } from './support/link-pair.js';
import { randomData, temporaryFolder } from './support/partial-files.js';

const KiB = 1024;

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('the same file offered again while it is still arriving', () => {
  it('waits for the first and is answered from the file it placed: no byte written twice, no second copy', async () => {
    const source = temporaryFolder('same-content-src');
    const downloads = temporaryFolder('same-content-dst');
    cleanups.push(() => {
      source.remove();
      downloads.remove();
    });
    const data = randomData(2048 * KiB + 7, 11);
    const path = join(source.folder, 'big.bin');
    writeFileSync(path, data);

    // The first sync goes through (the state then says 256 KiB are held); the second waits for the gate.
    let syncs = 0;
    let openGate = () => {};
    const gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    let heldBack = () => {};
    const blocked = new Promise<void>((resolve) => {
      heldBack = resolve;
    });
    const sync = async (handle: FileHandle) => {
      syncs++;
      if (syncs === 2) {
        heldBack();
        await gate;
      }
      await handle.datasync();
    };

    const {
      la: sending,
      lb: receiving,
      chat,
    } = await linkPair(cleanups, {
      downloadFolder: downloads.folder,
      partialStore: { bufferBytes: 64 * KiB, syncEveryBytes: 256 * KiB, io: { sync } },
    });
    // Run first (cleanups run last to first): a sync held at the gate would hold the close.
    cleanups.push(() => openGate());
    const session = await chat();

    const received: string[] = [];
    receiving.on('file_received', (e) => received.push(e.path));
    const firstOffer = nextEvent(receiving, 'file_offer', (e) => e.direction === 'receive');
    const first = await sending.offer(session, [path]);
    await receiving.accept((await firstOffer).transfer);
    await blocked;

    // Offered again while the first is held at its second sync: taken up by itself.
    const secondOffer = nextEvent(receiving, 'file_offer', (e) => e.direction === 'receive');
    const bothSent = Promise.all([
      nextEvent(sending, 'file_done', (e) => e.transfer === first),
      nextEvent(sending, 'file_done', (e) => e.transfer !== first),
    ]);
    await sending.offer(session, [path]);
    const offer = await secondOffer;
    expect(offer.resuming).toBe(true);
    // What the second shows as held is what the first made durable: it never sends those again.
    expect(offer.held).toEqual([256 * KiB]);
    openGate();

    const done = await bothSent;
    expect(done.map((e) => e.verified)).toEqual([1, 1]);
    // One copy, received once: the second was answered from where the first placed it.
    expect(downloads.entries()).toEqual(['big.bin']);
    expect(readFileSync(join(downloads.folder, 'big.bin')).equals(data)).toBe(true);
    expect(received).toEqual([join(downloads.folder, 'big.bin'), join(downloads.folder, 'big.bin')]);
    expect(receiving.stats.bytesWritten).toBe(data.length);
  }, 30_000);
});

/**
 * The receiving program stops while a file's finish (its final fsync) is still pending, on the
 * disk, over loopback: the finish goes on and places the file, the link says so (`file_received`
 * with the absolute path), and when the receiver comes back (a new program, the same key and
 * download folder) the sender offers the file again by itself: it is taken as held whole, the
 * sender marks it sent, and the folder holds the one file, not `report (1).bin` beside it.
 * Fails without the engine's `close` of a finishing file and DiskStorage's record of where the
 * finish placed it. (file-finish-interrupted.test.ts pins the engine's part down on virtual time.)
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PartialStoreOptions } from '../src/index.js';
import { nextEvent as next } from './support/file-link-events.js';
import { randomData, temporaryFolder } from './support/partial-files.js';
import { returningReceiver } from './support/returning-receiver.js';
import { until } from './support/until.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A disk whose syncs wait while held (the file is smaller than a sync period: its only sync is the finish's). */
function heldDisk() {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let waiting = 0;
  const options: PartialStoreOptions = {
    syncEveryBytes: 64 * 1024 * 1024,
    io: {
      async sync(handle) {
        waiting++;
        await gate;
        await handle.datasync();
      },
    },
  };
  return { options, release, waiting: () => waiting };
}

describe('FileLink: the receiver stops while a file is being finished', () => {
  it('places it once, says so, and answers the re-offer at once', async () => {
    const source = temporaryFolder('finish-src');
    const downloads = temporaryFolder('finish-dst');
    cleanups.push(() => {
      source.remove();
      downloads.remove();
    });
    const data = randomData(3 * 1024 * 1024 + 11, 61);
    const path = join(source.folder, 'report.bin');
    writeFileSync(path, data);
    const disk = heldDisk();
    const { identity, alice, oldBob, newBob, sending, oldLink, newLink, firstSession } =
      await returningReceiver(downloads.folder, disk.options, cleanups);
    // Run before the links close (cleanups go last first): a finish held on the disk would keep them.
    cleanups.push(() => disk.release());
    await sending.offer(firstSession, [path]);
    const lateReceived = next(oldLink, 'file_received');
    // Every byte arrived; the finish waits on its fsync.
    await until(() => disk.waiting() > 0, 2_000, 10);
    expect(disk.waiting()).toBe(1);

    // The receiving program stops: its transfer is interrupted, then the finish completes.
    const interrupted = next(oldLink, 'file_failed', (e) => e.reason === 'interrupted');
    const closing = oldLink.close();
    await interrupted;
    disk.release();
    await closing;
    const received = await lateReceived;
    expect(received.path).toBe(join(downloads.folder, 'report.bin'));
    expect(readFileSync(received.path).equals(data)).toBe(true);
    const reoffered = next(sending, 'file_sent', () => true, 30_000);
    await oldBob.close(100);

    // It comes back: the sender offers the file again, and it is taken as held whole.
    const offered = next(newLink, 'file_offer');
    const again = next(newLink, 'file_received', () => true, 30_000);
    newBob.connectTo(alice.address);
    const offer = await offered;
    expect(offer.resuming).toBe(true);
    expect(offer.held).toEqual([data.length]);
    expect((await again).path).toBe(join(downloads.folder, 'report.bin'));
    const sent = await reoffered;
    expect(sent.size).toBe(data.length);
    expect(sending.outgoing.forPeer(Buffer.from(identity.publicKey).toString('hex'))).toEqual([]);
    // One file, written once, nothing hidden left.
    expect(readdirSync(downloads.folder)).toEqual(['report.bin']);
    expect(newLink.stats.bytesWritten).toBe(0);
  }, 60_000);
});

import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileLink, NetchatPeer, PartialStore, sizeText } from '../src/index.js';
import { nextEvent } from './support/file-link-events.js';
import { randomData, temporaryFolder } from './support/partial-files.js';
import { mountTinyDisk } from './support/tiny-disk.js';

const KiB = 1024;
const MiB = 1024 * KiB;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('a file transfer onto a disk that fills', () => {
  it('stops with disk_full, keeps what arrived, and resumes from there once there is room', async (ctx) => {
    const disk = mountTinyDisk('fullxfer', '8m', (reason) => ctx.skip(reason));
    cleanups.push(() => disk.remove());
    const { mountPoint } = disk;
    const source = temporaryFolder('fullxfer-src');
    cleanups.push(() => source.remove());
    const downloads = join(mountPoint, 'downloads');
    const data = randomData(6 * MiB + 3, 6);
    const path = join(source.folder, 'big.bin');
    writeFileSync(path, data);

    const alice = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', streams: true, files: true });
    const bob = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', streams: true, files: true });
    const sending = new FileLink(alice);
    const receiving = new FileLink(bob, {
      downloadFolder: downloads,
      // Synced every 512 KiB, so a disk that fills keeps most of what arrived.
      partialStore: { bufferBytes: 64 * KiB, syncEveryBytes: 512 * KiB, reserveBytes: 64 * KiB },
    });
    cleanups.push(async () => {
      await Promise.all([sending.close(), receiving.close()]);
      await Promise.all([alice.close(100), bob.close(100)]);
    });
    bob.on('request', (e) => bob.accept(e.session));
    const opened = new Promise<number>((resolve) => alice.once('features', (e) => resolve(e.session)));
    alice.connectTo(bob.address);
    const session = await opened;

    // Room for the offer when it is accepted; something else takes 5 MiB of the 8 right after.
    const filler = join(mountPoint, 'filler');
    receiving.once('file_offer', (e) => {
      void receiving.accept(e.transfer).then((outcome) => {
        expect(outcome.accepted).toBe(true);
        writeFileSync(filler, Buffer.alloc(5 * MiB));
      });
    });
    const failedHere = nextEvent(receiving, 'file_failed', (e) => e.direction === 'receive');
    const failedThere = nextEvent(sending, 'file_failed', (e) => e.direction === 'send');
    await sending.offer(session, [path]);
    const [here, there] = await Promise.all([failedHere, failedThere]);
    expect(here.reason).toBe('disk_full');
    expect(here.resumable).toBe(true);
    const keptText =
      /^no space left on the disk writing big\.bin: the first (.+) are kept, and it goes on from there when offered again$/.exec(
        here.message,
      )?.[1];
    expect(keptText).toBeDefined();
    expect(there.reason).toBe('disk_full');
    expect(there.resumable).toBe(true);
    // The sender claims nothing of what was kept (the verdict does not say; the receiver's line does).
    expect(there.message).toBe(
      "the receiver's disk is full: offered again, it goes on from what the receiver kept, or from the start if it kept nothing",
    );
    // Only the hidden partial and its state in the folder: no file in place, nothing else.
    const entries = () => readdirSync(downloads).sort();
    expect(entries().every((name) => name.startsWith('.'))).toBe(true);

    // Room made: the same file offered again is a resume from what was kept.
    rmSync(filler);
    const offered = nextEvent(receiving, 'file_offer', (e) => e.direction === 'receive');
    const accepted = nextEvent(receiving, 'file_accepted', (e) => e.direction === 'receive');
    const received = nextEvent(receiving, 'file_received', (e) => e.direction === 'receive', 30_000);
    await sending.offer(session, [path]);
    const offer = await offered;
    expect(offer.resuming).toBe(true);
    // What the message said was kept is what the resume starts from.
    const kept = offer.held[0] ?? 0;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(data.length);
    expect(sizeText(kept)).toBe(keptText);
    expect((await accepted).offset).toBe(kept);
    const file = await received;
    expect(readFileSync(file.path).equals(data)).toBe(true);
    expect(entries()).toEqual(['big.bin']);
    expect(await new PartialStore(downloads).list()).toEqual([]);
  });
});

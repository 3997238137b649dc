/**
 * Resume after a real process is killed: two node processes on loopback (support/file-process.ts),
 * the receiver killed with SIGKILL in the middle of a file, started again on the same identity
 * and download folder; it connects to the sender, whose FileLink offers the unfinished file again
 * by itself; the new receiver accepts it as a resume from the offset it holds durably, checks
 * what it holds once (from its state file: it does not read the held bytes again), and the file
 * arrives whole and verified. Every wait is for a condition, bounded.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { contentHash } from '../src/index.js';
import { FileProcess, stopAll, type } from './support/file-children.js';
import { randomData, temporaryFolder } from './support/partial-files.js';

const MiB = 1024 * 1024;
const folders: ReturnType<typeof temporaryFolder>[] = [];
afterEach(async () => {
  await stopAll();
  for (const f of folders.splice(0)) f.remove();
});

const run = (args: string[]) => new FileProcess(args);

describe('a file transfer between two processes', () => {
  it('goes on from what the receiver held after it was killed (SIGKILL) and started again', async () => {
    const source = temporaryFolder('restart-src');
    const downloads = temporaryFolder('restart-dst');
    folders.push(source, downloads);
    const size = 32 * MiB + 17;
    const data = randomData(size, 20);
    writeFileSync(join(source.folder, 'big.bin'), data);
    const receiverSecret = '11'.repeat(32);
    // A slow disk (25 ms a sync of 256 KiB: about 10 MB/s) so that the kill lands mid-file.
    const receiverArgs = ['receive', receiverSecret, '127.0.0.1', downloads.folder, '25'];

    const sender = run(['send', '22'.repeat(32), '127.0.0.1']);
    const first = run(receiverArgs);
    const [senderReady, firstReady] = await Promise.all([
      sender.waitFor(type('ready')),
      first.waitFor(type('ready')),
    ]);
    sender.send(`connect 127.0.0.1 ${firstReady.port}`);
    await sender.waitFor(type('open'));
    sender.send(`offer ${join(source.folder, 'big.bin')}`);
    const accepted = await first.waitFor(type('file_accepted'));
    expect(accepted.offset).toBe(0);
    // Killed once it has received more than a third (and well before the end).
    const progress = await first.waitFor(
      (l) => l.type === 'file_progress' && (l.bytes as number) >= 12 * MiB,
    );
    await first.kill();
    expect(first.lines.some(type('file_received'))).toBe(false);

    // Started again: same identity, same folder; it asks the sender for a chat.
    const second = run(receiverArgs);
    await second.waitFor(type('ready'));
    const opened = sender.lines.length;
    second.send(`connect 127.0.0.1 ${senderReady.port}`);
    // The sender offers the unfinished file again by itself; the receiver takes it as a resume.
    const offer = await second.waitFor(type('file_offer'), 30_000);
    expect(offer.resuming).toBe(true);
    const held = (offer.held as number[])[0] as number;
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(progress.bytes as number);
    const resumed = await second.waitFor(type('file_accepted'));
    expect(resumed.offset).toBe(held);
    const received = await second.waitFor(type('file_received'), 60_000);
    await sender.waitFor((l) => l.type === 'file_done' && l.direction === 'send', 20_000, opened);

    expect(received.hash).toBe(contentHash(data));
    expect(readFileSync(received.path as string).equals(data)).toBe(true);
    expect(downloads.entries()).toEqual(['big.bin']);
    // What it held was checked from its state, not read again: the whole process read less
    // (modules and all) than the bytes it held.
    const rchar = received.rchar as number;
    if (rchar >= 0) expect(rchar).toBeLessThan(held);
    // The sender sent again only what the receiver did not hold.
    const sent = sender.lines.filter((l) => l.type === 'file_started');
    expect(sent.map((l) => l.offset)).toEqual([0, held]);
  }, 120_000);
});

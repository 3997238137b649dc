/**
 * A storage answer that comes after its transfer was interrupted (the receiver's FileLink closed,
 * its chat ended) is dropped: it never becomes a verdict. On virtual time, with a slow disk: the
 * receiver is interrupted while a write is pending; that write then completes (a PartialFile
 * drains it before it closes) or fails (its handle was closed under it). Either way the sender
 * hears no verdict (a `write_failed` would tell it the file is done for, and it would never
 * offer it again), no more bytes are read off the stream or written, and the partial is kept
 * with what was written, for a resume. Fails without the engine's check that the transfer is
 * still accepted when a write's answer comes.
 */
import { describe, expect, it } from 'vitest';
import { contentHash } from '../src/index.js';
import { filePair } from './support/file-peers.js';
import { randomData } from './support/partial-files.js';

const SIZE = 12_000_000;

describe('a storage answer after the transfer was interrupted', () => {
  for (const how of ['interruptAll', 'chat closed'] as const)
    for (const late of ['drain', 'break'] as const)
      it(`is dropped (interrupted by ${how}, the pending write ${late === 'drain' ? 'completes' : 'fails'})`, () => {
        // A window smaller than the file: data is still on its way when the transfer is interrupted.
        const pair = filePair({ maxStreamWindow: 1024 * 1024 });
        const { net, sa, sb, a, b, alice, bob } = pair;
        // The disk answers before the peer's answer to the stream's stop can come back (a round
        // trip of 100 ms): the stream still holds what arrived when the pending write completes.
        net.conditions = { ...net.conditions, latency: 50 };
        bob.storage.delay = 40;
        bob.storage.pendingWritesOnClose = late;
        const data = randomData(SIZE, 23);
        const aliceKey = Buffer.from(a.endpoint.identity.publicKey).toString('hex');
        alice.offer(sa, { 'late.bin': data });
        expect(net.run(() => bob.of('file_offer').length > 0, net.now + 5_000)).toBe(true);
        const transfer = bob.of('file_offer')[0]?.transfer ?? -1;
        bob.accept(transfer);
        // Half-way, a write pending and more bytes waiting on the stream to be read after it.
        const waiting = () => {
          const stream = bob.engine.table.get(transfer)?.files[0]?.receive?.stream;
          return stream === undefined ? 0 : (b.endpoint.streamInfo(sb, stream)?.available ?? 0);
        };
        const pendingMidway = () =>
          (bob.engine.list()[0]?.bytes ?? 0) > SIZE / 3 && bob.storage.pendingWrites() > 0 && waiting() > 0;
        expect(net.run(pendingMidway, net.now + 60_000)).toBe(true);

        const writesBefore = bob.storage.counts.writes;
        if (how === 'interruptAll') bob.engine.interruptAll(net.now);
        else b.endpoint.close(sb, net.now, { linger: false });
        bob.pump();
        expect(net.run(() => bob.storage.pendingWrites() === 0, net.now + 5_000)).toBe(true);
        net.runFor(2_000);

        // The receiver's one word: interrupted, resumable; nothing read or written after.
        expect(bob.of('file_failed')).toMatchObject([
          { file: undefined, reason: 'interrupted', resumable: true },
        ]);
        expect(bob.storage.counts.writes).toBe(writesBefore + (late === 'drain' ? 1 : 0));
        // The sender heard no verdict on the file (with the chat still open, it would have).
        expect(alice.of('file_failed').filter((e) => e.file !== undefined)).toEqual([]);
        expect(alice.of('file_sent')).toEqual([]);
        // The partial is kept with what was written, no more, and every byte of it right.
        const partial = bob.storage.partials.get(`${aliceKey}/${contentHash(data)}/${SIZE}`);
        expect(bob.storage.counts.discards).toBe(0);
        expect(partial?.open).toBe(false);
        const held = bob.storage.held(aliceKey, contentHash(data), SIZE);
        expect(held).toBe(partial?.length);
        expect(held).toBeGreaterThan(SIZE / 3);
        expect(Buffer.from(partial?.data.subarray(0, held) ?? []).equals(data.subarray(0, held))).toBe(true);

        // The chat ends (if it had not): the sender's transfer is interrupted, resumable.
        if (how === 'interruptAll') b.endpoint.close(sb, net.now, { linger: false });
        expect(net.run(() => alice.of('file_failed').length > 0, net.now + 30_000)).toBe(true);
        expect(alice.of('file_failed')).toMatchObject([
          { file: undefined, reason: 'interrupted', resumable: true },
        ]);
      });

  it('bytes read from the stream and not yet handed to the storage (less than a chunk) are written and kept', () => {
    // Progress once a minute: bytes are gathered into a whole chunk before a write.
    const pair = filePair({}, 1, { progressEveryMs: 60_000 });
    const { net, sa, sb, a, b, alice, bob } = pair;
    net.conditions = { ...net.conditions, latency: 20 };
    const data = randomData(SIZE, 37);
    const aliceKey = Buffer.from(a.endpoint.identity.publicKey).toString('hex');
    alice.offer(sa, { 'gathered.bin': data });
    expect(net.run(() => bob.of('file_offer').length > 0, net.now + 5_000)).toBe(true);
    const transfer = bob.of('file_offer')[0]?.transfer ?? -1;
    bob.accept(transfer);
    const pipe = () => bob.engine.table.get(transfer)?.files[0]?.receive;
    const midChunk = () => {
      const p = pipe();
      return (bob.engine.list()[0]?.bytes ?? 0) > SIZE / 4 && p !== undefined && !p.writing && p.filled > 0;
    };
    expect(net.run(midChunk, net.now + 60_000)).toBe(true);
    const read = (bob.engine.list()[0]?.bytes ?? 0) + (pipe()?.filled ?? 0);

    b.endpoint.close(sb, net.now, { linger: false });
    bob.pump();
    expect(net.run(() => bob.of('file_failed').length > 0, net.now + 5_000)).toBe(true);
    // Kept: every byte read from the stream, right.
    const held = bob.storage.held(aliceKey, contentHash(data), SIZE);
    expect(held).toBe(read);
    const partial = bob.storage.partials.get(`${aliceKey}/${contentHash(data)}/${SIZE}`);
    expect(Buffer.from(partial?.data.subarray(0, held) ?? []).equals(data.subarray(0, held))).toBe(true);
  });

  it('is dropped on the sender too (interrupted by interruptAll, a pending read fails)', () => {
    const pair = filePair({ maxStreamWindow: 1024 * 1024 });
    const { net, sa, sb, b, alice, bob } = pair;
    alice.storage.delay = 40;
    alice.storage.pendingReadsOnRelease = 'break';
    const data = randomData(SIZE, 29);
    alice.offer(sa, { 'late.bin': data });
    expect(net.run(() => bob.of('file_offer').length > 0, net.now + 5_000)).toBe(true);
    bob.accept(bob.of('file_offer')[0]?.transfer ?? -1);
    const pendingMidway = () =>
      (bob.engine.list()[0]?.bytes ?? 0) > SIZE / 3 && alice.storage.pendingReads() > 0;
    expect(net.run(pendingMidway, net.now + 60_000)).toBe(true);

    alice.engine.interruptAll(net.now);
    alice.pump();
    expect(net.run(() => alice.storage.pendingReads() === 0, net.now + 5_000)).toBe(true);
    net.runFor(2_000);

    // A read_failed here would be told the receiver and end the file for good (never offered again).
    expect(alice.of('file_failed')).toMatchObject([
      { file: undefined, reason: 'interrupted', resumable: true },
    ]);
    expect(bob.of('file_failed').filter((e) => e.file !== undefined)).toEqual([]);
    b.endpoint.close(sb, net.now, { linger: false });
    expect(net.run(() => bob.of('file_failed').length > 0, net.now + 30_000)).toBe(true);
    expect(bob.of('file_failed')).toMatchObject([
      { file: undefined, reason: 'interrupted', resumable: true },
    ]);
  });
});

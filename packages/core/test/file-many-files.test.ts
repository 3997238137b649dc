/**
 * A folder of many small files (issue 20, the files-a-second figure of `pnpm bench files`): the
 * files of one offer overlap on both sides, each on its own stream, within bounds. The sender
 * writes several small files at once (a large one still goes alone); the receiver asks for
 * several ahead, within a bound for all its receives together, so that what a stranger offers
 * (thousands of 1-byte or empty files, offers that never send a byte) opens at most that many
 * partial files. On virtual time, with the disk's answers delayed as a real one's are.
 */
import { describe, expect, it } from 'vitest';
import { TRANSFER_LIMITS } from '../src/index.js';
import { FilePeer, filePair } from './support/file-peers.js';
import { randomData } from './support/partial-files.js';
import { offerOf, RawFiles } from './support/raw-files.js';
import { openPair, VirtualNetwork } from './support/virtual-network.js';

const KiB = 1024;

/** alice offers `files` to bob, who accepts; runs until both sides are done. */
function send(pair: ReturnType<typeof filePair>, files: Record<string, Uint8Array>) {
  const { net, sa, alice, bob } = pair;
  const transfer = alice.offer(sa, files);
  expect(net.run(() => bob.of('file_offer').length > 0, net.now + 10_000)).toBe(true);
  const offer = bob.of('file_offer')[0];
  bob.accept(offer?.transfer ?? -1);
  const done = () =>
    bob.of('file_done').some((e) => e.transfer === offer?.transfer) &&
    alice.of('file_done').some((e) => e.transfer === transfer);
  expect(net.run(done, net.now + 120_000)).toBe(true);
}

function smallFiles(count: number, size: number): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  for (let i = 0; i < count; i++) files[`tree/d${Math.floor(i / 10)}/f${i}.bin`] = randomData(size, i + 1);
  return files;
}

describe('the files of one offer', () => {
  it('small files are sent several at once, each on its stream: their reads from the disk overlap (at most 8)', () => {
    const pair = filePair();
    // Each read takes 5 ms of the sender's disk, each finish 20 ms of the receiver's.
    pair.alice.storage.delay = 5;
    pair.bob.storage.finishDelay = 20;
    const files = smallFiles(60, 4 * KiB);
    const started = pair.net.now;
    send(pair, files);
    expect(pair.bob.of('file_received')).toHaveLength(60);
    for (const e of pair.bob.of('file_received'))
      expect(
        Buffer.from(pair.bob.storage.placed.get(e.path) ?? []).equals(files[e.path] ?? Buffer.alloc(1)),
      ).toBe(true);
    expect(pair.alice.storage.mostFilesRead).toBeGreaterThanOrEqual(4);
    expect(pair.alice.storage.mostFilesRead).toBeLessThanOrEqual(8);
    // One at a time, 60 files would take at least 60 × (5 ms read + 20 ms finish) / 4 asked ahead.
    expect(pair.net.now - started).toBeLessThan(60 * 5);
  });

  it('a large file goes alone: the next file is read only once all of it was asked for', () => {
    const pair = filePair();
    pair.alice.storage.delay = 2;
    send(pair, { 'a.bin': randomData(1024 * KiB, 1), 'b.bin': randomData(1024 * KiB, 2) });
    const reads = pair.alice.storage.readsAsked;
    const firstOfB = reads.findIndex((r) => r.endsWith('/1@0'));
    const lastOfA = reads.findLastIndex((r) => /\/0@\d+$/.test(r));
    expect(firstOfB).toBeGreaterThan(lastOfA);
    expect(pair.bob.of('file_received')).toHaveLength(2);
  });
});

/** A raw files peer (a) in a session with an engine (bob, on b) whose disk answers after 1 ms. */
function stranger() {
  const net = new VirtualNetwork(7);
  const pair = openPair(net, { streams: true, files: true });
  net.run(() => pair.b.endpoint.session(pair.sb)?.peerFeatures?.files === true, net.now + 5_000);
  net.run(() => pair.a.endpoint.session(pair.sa)?.peerFeatures?.files === true, net.now + 5_000);
  const bob = new FilePeer(net, pair.b);
  bob.storage.delay = 1;
  const raw = new RawFiles(net, pair.a, pair.sa);
  return { net, bob, raw };
}

describe("a stranger's many files", () => {
  it('8 offers of 2,000 one-byte files that never send a byte: at most 4 × 8 + 64 partial files open', () => {
    const { net, bob, raw } = stranger();
    const offers = 8;
    // Each file a content of its own (the hash of its number; it says 1 byte, and none ever comes).
    const file = (o: number, i: number) => ({ path: `o${o}/f${i}`, size: 1, data: Buffer.from(`${o}/${i}`) });
    for (let o = 0; o < offers; o++) raw.say(...offerOf(Array.from({ length: 2000 }, (_, i) => file(o, i))));
    expect(net.run(() => bob.of('file_offer').length === offers, net.now + 60_000)).toBe(true);
    for (const offer of bob.of('file_offer')) bob.accept(offer.transfer);
    net.runFor(5_000);
    const bound = offers * TRANSFER_LIMITS.ownFilesAsked + TRANSFER_LIMITS.sharedFilesAsked;
    console.log(
      `[many files] ${bob.storage.mostOpen} partial files open at most (bound ${bound}); wants ${raw.of('want').length}`,
    );
    expect(bob.storage.mostOpen).toBeLessThanOrEqual(bound);
    // Each offer has its own four asked for, whatever the others took.
    const asked = new Map<string, number>();
    for (const w of raw.of('want')) {
      const key = Buffer.from(w.offer).toString('hex');
      asked.set(key, (asked.get(key) ?? 0) + 1);
    }
    expect(asked.size).toBe(offers);
    for (const n of asked.values()) expect(n).toBeGreaterThanOrEqual(TRANSFER_LIMITS.ownFilesAsked);
    expect(raw.of('want')).toHaveLength(bob.storage.mostOpen);
  });

  it('an offer of 10,000 empty files: one content, so one partial open at a time', () => {
    const { net, bob, raw } = stranger();
    const empty = new Uint8Array(0);
    raw.say(...offerOf(Array.from({ length: 10_000 }, (_, i) => ({ path: `e/${i}`, data: empty }))));
    expect(net.run(() => bob.of('file_offer').length === 1, net.now + 60_000)).toBe(true);
    bob.accept(bob.of('file_offer')[0]?.transfer ?? -1);
    net.runFor(2_000);
    expect(bob.storage.mostOpen).toBe(1);
    expect(raw.of('want')).toHaveLength(1);
  });
});

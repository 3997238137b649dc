/**
 * File transfers through the real engine and real streams on the virtual network (issue 20), the
 * storage in memory: byte-for-byte integrity at the sizes that matter, through loss, duplication
 * and reordering; folders; several transfers at once, both ways, in several sessions; decline;
 * cancel from each side; an old peer; a slow disk; a source that changes while it is sent.
 */
import { describe, expect, it } from 'vitest';
import { contentHash, MAX_STREAM_PAYLOAD_BYTES, NetchatError } from '../src/index.js';
import { FilePeer, filePair } from './support/file-peers.js';
import { randomData } from './support/partial-files.js';
import { eventsOf, VirtualNetwork } from './support/virtual-network.js';

const CHUNK = 256 * 1024;
const equal = (a: Uint8Array | undefined, b: Uint8Array) => a !== undefined && Buffer.from(a).equals(Buffer.from(b));

/** alice offers `files` to bob, who accepts; runs until both sides are done. */
function send(pair: ReturnType<typeof filePair>, files: Record<string, Uint8Array>, maxTime = 120_000) {
  const { net, sa, alice, bob } = pair;
  const offersBefore = bob.of('file_offer').length;
  const transfer = alice.offer(sa, files);
  expect(net.run(() => bob.of('file_offer').length > offersBefore, net.now + 10_000)).toBe(true);
  const offer = bob.of('file_offer').at(-1);
  if (!offer) throw new Error('no offer');
  bob.accept(offer.transfer);
  const done = () =>
    bob.of('file_done').some((e) => e.transfer === offer.transfer) &&
    alice.of('file_done').some((e) => e.transfer === transfer);
  expect(net.run(done, net.now + maxTime)).toBe(true);
  return { sent: transfer, received: offer.transfer, offer };
}

function noInternalTrouble(...peers: FilePeer[]) {
  for (const p of peers) expect(p.engine.stats.protocolErrors, 'protocol errors').toBe(0);
}

describe('a file transfer', () => {
  it("a file's seconds count from its first byte, not from when it was asked for with those before it", () => {
    const pair = filePair();
    const files = { 'big.bin': randomData(3_000_000, 1), 'small.txt': randomData(2, 2) };
    send(pair, files);
    for (const side of [pair.alice.of('file_sent'), pair.bob.of('file_received')]) {
      const seconds = (path: string) => side.find((e) => e.path === path)?.seconds ?? Number.NaN;
      // Both are asked for at once; the small one's bytes go once the big one's went.
      expect(seconds('big.bin')).toBeGreaterThan(0);
      expect(seconds('small.txt')).toBeLessThan(seconds('big.bin') / 4);
    }
  });

  it('arrives byte for byte at 0, 1, a packet ± 1, a chunk ± 1 bytes and 3 MB, one offer', () => {
    const pair = filePair();
    const sizes = [
      0,
      1,
      MAX_STREAM_PAYLOAD_BYTES - 1,
      MAX_STREAM_PAYLOAD_BYTES,
      MAX_STREAM_PAYLOAD_BYTES + 1,
      CHUNK - 1,
      CHUNK,
      CHUNK + 1,
      3_000_000,
    ];
    const files = Object.fromEntries(sizes.map((size, i) => [`f${i}-${size}.bin`, randomData(size, i + 1)]));
    const { received, offer } = send(pair, files);
    expect(offer.files.map((f) => f.size)).toEqual(sizes);
    expect(offer.totalSize).toBe(sizes.reduce((a, b) => a + b, 0));
    for (const [name, data] of Object.entries(files)) expect(equal(pair.bob.storage.placed.get(name), data), name).toBe(true);
    expect(pair.bob.of('file_received').map((e) => e.file).sort((a, b) => a - b)).toEqual(sizes.map((_, i) => i));
    expect(pair.alice.of('file_sent')).toHaveLength(sizes.length);
    expect(pair.bob.of('file_done')).toMatchObject([{ transfer: received, files: sizes.length, verified: sizes.length }]);
    expect(pair.bob.storage.partials.size).toBe(0);
    // Every byte was read once by the sender and written once by the receiver.
    expect(pair.alice.storage.counts.bytesRead).toBe(offer.totalSize);
    expect(pair.bob.storage.counts.bytesWritten).toBe(offer.totalSize);
    noInternalTrouble(pair.alice, pair.bob);
  });

  it('arrives whole through 10 % loss, duplication and reordering', () => {
    for (const seed of [1, 2, 3]) {
      const pair = filePair({}, seed);
      pair.net.conditions = { latency: 10, jitter: 15, loss: 0.1, duplicate: 0.1 };
      const files = { 'a.bin': randomData(400_000, seed), 'b.bin': randomData(3, seed + 10), 'c.bin': randomData(0) };
      send(pair, files, 300_000);
      for (const [name, data] of Object.entries(files))
        expect(equal(pair.bob.storage.placed.get(name), data), `${name} seed ${seed}`).toBe(true);
      expect(pair.a.endpoint.pathInfo(pair.b.address)?.lostPackets).toBeGreaterThan(0);
      noInternalTrouble(pair.alice, pair.bob);
    }
  });

  it('brings a folder with nested folders, each file at its path', () => {
    const pair = filePair();
    const files = {
      'photos/a.jpg': randomData(5000, 1),
      'photos/2024/b.jpg': randomData(7000, 2),
      'photos/2024/summer/c.jpg': randomData(9000, 3),
      'photos/2024/summer/empty': randomData(0),
      'photos/notes/x.txt': randomData(10, 4),
    };
    send(pair, files);
    expect([...pair.bob.storage.placed.keys()].sort()).toEqual(Object.keys(files).sort());
    for (const [name, data] of Object.entries(files)) expect(equal(pair.bob.storage.placed.get(name), data)).toBe(true);
  });

  it('takes files of the same content one after the other (two empty files, a copy)', () => {
    const pair = filePair();
    const same = randomData(50_000, 9);
    const files = { 'x/e1': randomData(0), 'x/e2': randomData(0), 'x/a': same, 'x/b': same, 'x/c': same };
    send(pair, files);
    for (const [name, data] of Object.entries(files)) expect(equal(pair.bob.storage.placed.get(name), data), name).toBe(true);
    expect(pair.bob.of('file_failed')).toEqual([]);
  });

  it('runs several at once, both ways, in several sessions', () => {
    const net = new VirtualNetwork(4);
    const a = net.add('127.0.0.1', 1111, { streams: true, files: true, nick: 'a' });
    const b = net.add('127.0.0.2', 2222, { streams: true, files: true, nick: 'b' });
    const c = net.add('127.0.0.3', 3333, { streams: true, files: true, nick: 'c' });
    const peers = new Map([a, b, c].map((n) => [n, new FilePeer(net, n)]));
    const answer = (p: FilePeer) => () => {
      for (const offer of p.of('file_offer'))
        if (offer.direction === 'receive' && p.engine.transfer(offer.transfer)?.state === 'offered') p.accept(offer.transfer);
    };
    const sab = a.endpoint.connect(b.address, net.now);
    const sac = a.endpoint.connect(c.address, net.now);
    net.run(() => eventsOf(b, 'request').length > 0 && eventsOf(c, 'request').length > 0, 5_000);
    const sba = eventsOf(b, 'request')[0]?.session ?? -1;
    const sca = eventsOf(c, 'request')[0]?.session ?? -1;
    b.endpoint.accept(sba, net.now);
    c.endpoint.accept(sca, net.now);
    net.run(() => a.endpoint.session(sab)?.peerFeatures !== undefined && a.endpoint.session(sac)?.peerFeatures !== undefined, net.now + 5_000);
    const [pa, pb, pc] = [peers.get(a), peers.get(b), peers.get(c)] as FilePeer[];
    if (!pa || !pb || !pc) throw new Error('no peers');
    const data = (seed: number) => randomData(200_000 + seed * 1000, seed);
    pa.offer(sab, { 'a-to-b-1': data(1) });
    pa.offer(sab, { 'a-to-b-2': data(2) });
    pb.offer(sba, { 'b-to-a': data(3) });
    pa.offer(sac, { 'a-to-c': data(4) });
    pc.offer(sca, { 'c-to-a': data(5) });
    const all = () => [pa, pb, pc].every((p) => p.of('file_done').length === p.of('file_offer').length);
    for (let i = 0; i < 200 && !all(); i++) {
      for (const p of [pa, pb, pc]) answer(p)();
      net.runFor(100);
    }
    expect(all()).toBe(true);
    expect(equal(pb.storage.placed.get('a-to-b-1'), data(1))).toBe(true);
    expect(equal(pb.storage.placed.get('a-to-b-2'), data(2))).toBe(true);
    expect(equal(pa.storage.placed.get('b-to-a'), data(3))).toBe(true);
    expect(equal(pc.storage.placed.get('a-to-c'), data(4))).toBe(true);
    expect(equal(pa.storage.placed.get('c-to-a'), data(5))).toBe(true);
    // The two offers from a to b moved at the same time (each had bytes in before either was done).
    const startedB = pb.of('file_started').map((e) => e.at);
    const receivedB = pb.of('file_received').map((e) => e.at);
    expect(Math.max(...startedB)).toBeLessThan(Math.min(...receivedB));
  });

  it('is declined: nothing is asked for, nothing written, both sides told', () => {
    const pair = filePair();
    const { net, sa, alice, bob } = pair;
    const transfer = alice.offer(sa, { 'no.bin': randomData(10_000) });
    net.run(() => bob.of('file_offer').length > 0, net.now + 5_000);
    bob.decline(bob.of('file_offer')[0]?.transfer ?? -1);
    expect(net.run(() => alice.of('file_declined').length > 0, net.now + 5_000)).toBe(true);
    expect(alice.of('file_declined')).toMatchObject([{ transfer, reason: 'declined', by: 'peer' }]);
    expect(bob.of('file_declined')).toMatchObject([{ reason: 'declined', by: 'local' }]);
    expect(alice.storage.counts.reads).toBe(0);
    expect(bob.storage.counts.opens).toBe(0);
    expect(alice.engine.transfer(transfer)?.state).toBe('declined');
  });

  for (const who of ['sender', 'receiver'] as const)
    it(`is cancelled by the ${who} mid-transfer: both told, the data stops, the partial file goes`, () => {
      const pair = filePair();
      const { net, sa, alice, bob } = pair;
      const transfer = alice.offer(sa, { 'big.bin': randomData(4_000_000) });
      net.run(() => bob.of('file_offer').length > 0, net.now + 5_000);
      const incoming = bob.of('file_offer')[0]?.transfer ?? -1;
      bob.accept(incoming);
      net.run(() => (bob.engine.transfer(incoming)?.bytes ?? 0) > 500_000, net.now + 30_000);
      expect(bob.storage.partials.size).toBe(1);
      if (who === 'sender') alice.cancel(transfer);
      else bob.cancel(incoming);
      net.runFor(2_000);
      const [canceller, other] = who === 'sender' ? [alice, bob] : [bob, alice];
      expect(canceller.of('file_cancelled')).toMatchObject([{ by: 'local' }]);
      expect(other.of('file_cancelled')).toMatchObject([{ by: 'peer' }]);
      expect(bob.storage.partials.size).toBe(0);
      expect(bob.storage.placed.size).toBe(0);
      const bytesAfter = alice.storage.counts.bytesRead;
      net.runFor(5_000);
      expect(alice.storage.counts.bytesRead).toBe(bytesAfter);
      expect(alice.engine.transfer(transfer)?.state).toBe('cancelled');
      expect(bob.engine.transfer(incoming)?.state).toBe('cancelled');
      // The chat goes on.
      expect(pair.a.endpoint.session(pair.sa)?.state).toBe('open');
    });

  it('is refused at once to a peer without files (streams only, and an old text-only peer)', () => {
    const net = new VirtualNetwork();
    const fresh = net.add('127.0.0.1', 1111, { streams: true, files: true });
    const streamsOnly = net.add('127.0.0.2', 2222, { streams: true });
    const old = net.add('127.0.0.3', 3333, {}, 3333, { legacyPeer: true });
    const sender = new FilePeer(net, fresh);
    for (const [peer, why] of [
      [streamsOnly, /cannot receive files: it does not take files/],
      [old, /cannot receive files: it predates file transfer/],
    ] as const) {
      const session = fresh.endpoint.connect(peer.address, net.now);
      net.run(() => eventsOf(peer, 'request').length > 0, net.now + 5_000);
      const request = eventsOf(peer, 'request').at(-1);
      peer.endpoint.accept(request?.session ?? -1, net.now);
      net.run(() => fresh.endpoint.session(session)?.peerFeatures !== undefined, net.now + 5_000);
      let error: unknown;
      try {
        sender.offer(session, { 'x.bin': randomData(10) });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(NetchatError);
      expect((error as NetchatError).code).toBe('FILES_UNSUPPORTED');
      expect((error as NetchatError).message).toMatch(why);
    }
    expect(sender.engine.list()).toEqual([]);
  });

  it('on a slow disk holds at most its read-ahead per file, and still arrives whole', () => {
    const pair = filePair();
    const { alice, bob } = pair;
    alice.storage.delay = 30;
    bob.storage.delay = 20;
    const data = randomData(2_000_000, 7);
    let mostAsked = 0;
    const take = alice.storage.take.bind(alice.storage);
    alice.storage.take = (engine) => {
      take(engine);
      mostAsked = Math.max(mostAsked, alice.storage.pendingReads());
    };
    send(pair, { 'slow.bin': data }, 300_000);
    expect(equal(bob.storage.placed.get('slow.bin'), data)).toBe(true);
    // Two chunks at most asked for and not yet answered: the disk sets the pace, memory stays bounded.
    expect(mostAsked).toBeGreaterThan(0);
    expect(mostAsked).toBeLessThanOrEqual(2);
  });

  it('writes each file from one chunk buffer of its own, lent to a slow disk and whole when written', () => {
    // Progress reported once a minute: nothing but a full chunk (or a file's last bytes) makes a write.
    const pair = filePair({}, 1, { progressEveryMs: 60_000 });
    const { net, bob } = pair;
    net.conditions = { latency: 5, jitter: 5, loss: 0.02, duplicate: 0 };
    bob.storage.delay = 20;
    const files = { 'a.bin': randomData(3_000_000, 11), 'b.bin': randomData(700_000, 12) };
    // Each write's memory, by file, and what it held when it was asked for (checked when written).
    const buffers = new Map<number, Set<ArrayBufferLike>>();
    const writeSizes = new Map<number, number[]>();
    let writes = 0;
    let changedWhileLent = 0;
    const perform = bob.storage.perform.bind(bob.storage);
    const asked = new Map<number, Uint8Array>();
    bob.storage.perform = (engine, r) => {
      if (r.kind === 'write') {
        writes++;
        const set = buffers.get(r.file) ?? new Set();
        set.add(r.bytes.buffer);
        buffers.set(r.file, set);
        writeSizes.set(r.file, [...(writeSizes.get(r.file) ?? []), r.bytes.length]);
        if (!equal(asked.get(r.id), r.bytes)) changedWhileLent++;
      }
      perform(engine, r);
    };
    const take = bob.storage.take.bind(bob.storage);
    bob.storage.take = (engine) => {
      const original = engine.pollRequest.bind(engine);
      engine.pollRequest = () => {
        const r = original();
        if (r?.kind === 'write') asked.set(r.id, new Uint8Array(r.bytes));
        return r;
      };
      take(engine);
      engine.pollRequest = original;
    };
    send(pair, files, 300_000);
    for (const [name, data] of Object.entries(files)) expect(equal(bob.storage.placed.get(name), data), name).toBe(true);
    // A write per chunk, not per read: the stream's datagrams are gathered into the chunk first
    // (this storage lends no buffer of its own). Only a file's first write (progress is due at
    // once, to show it began) and its last are shorter.
    const chunk = 256 * 1024;
    for (const [index, size] of [3_000_000, 700_000].entries()) {
      const sizes = writeSizes.get(index) ?? [];
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(size);
      expect(sizes.slice(1, -1).every((n) => n === chunk)).toBe(true);
      expect(sizes.length).toBeLessThanOrEqual(Math.ceil(size / chunk) + 1);
    }
    expect(writes).toBeLessThanOrEqual(13 + 4);
    expect(changedWhileLent).toBe(0);
    // One buffer per file however many reads (before readStreamInto: a new array per read).
    expect([...buffers.values()].map((set) => set.size)).toEqual([1, 1]);
  });

  it('on a receiver whose disk stalls holds one chunk; the window closes and the sender stops reading', () => {
    const window = 512 * 1024;
    const pair = filePair({ maxStreamWindow: window });
    const { net, sa, alice, bob } = pair;
    const data = randomData(6_000_000, 5);
    const transfer = alice.offer(sa, { 'stall.bin': data });
    expect(net.run(() => bob.of('file_offer').length > 0, net.now + 5_000)).toBe(true);
    bob.accept(bob.of('file_offer')[0]?.transfer ?? -1);
    expect(net.run(() => bob.storage.counts.bytesWritten > 1_000_000, net.now + 60_000)).toBe(true);
    // The disk stops answering for 60 s: each write asked for from now on waits that long.
    bob.storage.delay = 60_000;
    const writesAsked = () => bob.storage.counts.bytesWritten + bob.storage.pendingWriteBytes();
    let mostPendingWrites = 0;
    let mostUnwritten = 0;
    const readAtStall = alice.storage.counts.bytesRead;
    net.run(() => {
      mostPendingWrites = Math.max(mostPendingWrites, bob.storage.pendingWrites());
      // What the sender read and the receiver's disk has not been asked to write: in flight, or held.
      mostUnwritten = Math.max(mostUnwritten, alice.storage.counts.bytesRead - writesAsked());
      return false;
    }, net.now + 30_000);
    // The receiver asks for one write at a time, of one chunk at most, and reads no more meanwhile.
    expect(mostPendingWrites).toBe(1);
    expect(bob.storage.pendingWriteBytes()).toBeLessThanOrEqual(CHUNK);
    // The sender stopped: it holds at most its read-ahead beyond what the window let through.
    expect(alice.storage.counts.bytesRead - readAtStall).toBeGreaterThan(0);
    expect(mostUnwritten).toBeLessThanOrEqual(window + 3 * CHUNK);
    expect(alice.storage.counts.bytesRead).toBeLessThan(data.length);
    bob.storage.delay = 0;
    expect(net.run(() => alice.of('file_done').some((e) => e.transfer === transfer), net.now + 300_000)).toBe(true);
    expect(equal(bob.storage.placed.get('stall.bin'), data)).toBe(true);
  });

  it('reads each chunk into a buffer the stream is done with: a file costs its read-ahead in buffers, and arrives whole', () => {
    for (const seed of [1, 2]) {
      const pair = filePair({}, seed);
      // Loss makes the stream take chunks in pieces (a chunk still being written must not be reused).
      pair.net.conditions = { latency: 5, jitter: 10, loss: 0.05, duplicate: 0.05 };
      const chunks = 12;
      const data = randomData(chunks * CHUNK + 1000, seed);
      send(pair, { 'big.bin': data }, 300_000);
      expect(equal(pair.bob.storage.placed.get('big.bin'), data), `seed ${seed}`).toBe(true);
      const { reads, readsInto } = pair.alice.storage.counts;
      expect(reads).toBe(chunks + 1);
      // Only the first reads (the read-ahead, two, and one more while the first chunk is written) allocate.
      expect(reads - readsInto).toBeLessThanOrEqual(3);
    }
  });

  it('fails with source_changed when the file changes while it is sent, and nothing is left behind', () => {
    const pair = filePair();
    const { net, sa, alice, bob } = pair;
    const transfer = alice.offer(sa, { 'moving.bin': randomData(2_000_000), 'still.bin': randomData(1000, 3) });
    alice.storage.changeAt = { key: `${transfer}/0`, offset: 1_000_000 };
    net.run(() => bob.of('file_offer').length > 0, net.now + 5_000);
    bob.accept(bob.of('file_offer')[0]?.transfer ?? -1);
    expect(net.run(() => bob.of('file_done').length > 0 && alice.of('file_done').length > 0, net.now + 60_000)).toBe(true);
    expect(alice.of('file_failed')).toMatchObject([{ file: 0, reason: 'source_changed', resumable: false }]);
    expect(bob.of('file_failed')).toMatchObject([{ file: 0, reason: 'source_changed', resumable: false }]);
    expect(bob.of('file_done')).toMatchObject([{ files: 2, verified: 1 }]);
    expect([...bob.storage.placed.keys()]).toEqual(['still.bin']);
    expect(bob.storage.partials.size).toBe(0);
  });

  it('fails with hash_mismatch when the bytes are not the offered ones, and nothing is left behind', () => {
    const pair = filePair();
    const { net, sa, alice, bob } = pair;
    const data = randomData(100_000);
    const transfer = alice.engine.offer(sa, [{ path: 'lie.bin', size: data.length, hash: contentHash(randomData(100_000, 99)) }], net.now);
    alice.storage.sources.set(`${transfer}/0`, data);
    alice.pump();
    net.run(() => bob.of('file_offer').length > 0, net.now + 5_000);
    bob.accept(bob.of('file_offer')[0]?.transfer ?? -1);
    expect(net.run(() => alice.of('file_done').length > 0, net.now + 60_000)).toBe(true);
    expect(bob.of('file_failed')).toMatchObject([{ file: 0, reason: 'hash_mismatch' }]);
    expect(alice.of('file_failed')).toMatchObject([{ file: 0, reason: 'hash_mismatch', resumable: false }]);
    expect(bob.storage.placed.size).toBe(0);
    expect(bob.storage.partials.size).toBe(0);
  });

  it('reports progress about four times a second, ending at the size', () => {
    const pair = filePair();
    pair.net.conditions = { latency: 25, jitter: 0, loss: 0, duplicate: 0 };
    const data = randomData(3_000_000, 5);
    const { received } = send(pair, { 'p.bin': data });
    const progress = pair.bob.of('file_progress').filter((e) => e.transfer === received);
    expect(progress.length).toBeGreaterThan(2);
    for (let i = 1; i < progress.length - 1; i++)
      expect((progress[i]?.at ?? 0) - (progress[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(250);
    expect(progress.at(-1)).toMatchObject({ bytes: data.length, size: data.length });
    const sending = pair.alice.of('file_progress');
    expect(sending.length).toBeGreaterThan(1);
    expect(sending.at(-1)).toMatchObject({ bytes: data.length, size: data.length });
  });
});

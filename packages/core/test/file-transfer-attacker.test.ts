/**
 * The attacker's test for file transfer (issue 20): a peer with a valid key that takes files
 * writes the worst it can on its streams (hostile names, huge counts and sizes, offsets beyond a
 * file, data past its size or short of it, records for transfers that never were, a flood of
 * offers, garbage) to an engine on the virtual network. Nothing throws, memory stays bounded,
 * what it may not do is refused and counted, and the chat goes on.
 */
import { describe, expect, it } from 'vitest';
import { type FileRecord, frameRecord, TRANSFER_LIMITS } from '../src/index.js';
import { engineAndRaw } from './support/file-peers.js';
import { randomData } from './support/partial-files.js';
import { offerId, offerOf } from './support/raw-files.js';
import { eventsOf } from './support/virtual-network.js';

/** A raw files peer (a) in a session with an engine (bob, on b). */
function hostile(seed = 1) {
  const h = engineAndRaw(seed, 'b');
  return { ...h, bob: h.engine };
}

function chatStillWorks(h: ReturnType<typeof hostile>) {
  const before = eventsOf(h.b, 'message').length;
  h.a.endpoint.send(h.sa, 'still here', h.net.now);
  expect(h.net.run(() => eventsOf(h.b, 'message').length > before, h.net.now + 5_000)).toBe(true);
}

describe('a hostile files peer', () => {
  it('names: what cannot be meant innocently refuses the offer, the rest is made safe', () => {
    const h = hostile();
    const refused = ['../../x', '/etc/x', 'a/../../b', '', 'C:\\Windows\\x', 'a\u0000b'];
    const madeSafe: [string, string][] = [
      ['a\u0001b\u001b[31m', 'a_b_[31m'],
      ['CON', '_CON'],
      [`${'n'.repeat(296)}.pdf`, `${'n'.repeat(251)}.pdf`],
      ['.bashrc', '_bashrc'],
      ['invoice\u202efdp.exe', 'invoice_fdp.exe'],
    ];
    for (const path of refused) h.raw.say(...offerOf([{ path }]));
    for (const [path] of madeSafe) h.raw.say(...offerOf([{ path }]));
    h.net.runFor(2_000);
    expect(h.raw.of('decline').map((d) => d.reason)).toEqual(refused.map(() => 'bad_offer'));
    expect(h.bob.of('file_declined')).toHaveLength(refused.length);
    const offers = h.bob.of('file_offer');
    expect(offers.map((o) => o.files[0]?.path)).toEqual(madeSafe.map(([, safe]) => safe));
    expect(offers.every((o) => o.files[0]?.renamed)).toBe(true);
    expect(h.bob.engine.stats.offersRefused).toBe(refused.length);
    chatStillWorks(h);
  });

  it('a made-safe name is where the file lands, once accepted', () => {
    const h = hostile();
    const data = randomData(5000, 3);
    const records = offerOf([{ path: 'dir\\..\\..\\evil', data }]);
    h.raw.say(...records);
    h.net.run(() => h.bob.of('file_offer').length > 0, h.net.now + 5_000);
    h.bob.accept(h.bob.of('file_offer')[0]?.transfer ?? -1);
    h.net.run(() => h.raw.of('want').length > 0, h.net.now + 5_000);
    const id = (records[0] as Extract<FileRecord, { type: 'offer' }>).offer;
    h.raw.stream(Buffer.concat([recordBytes({ type: 'data', offer: id, index: 0, offset: 0 }), data]));
    h.net.run(() => h.raw.of('verdict').length > 0, h.net.now + 10_000);
    expect([...h.bob.storage.placed.keys()]).toEqual(['dir_.._.._evil']);
    expect(h.raw.of('verdict')).toMatchObject([{ index: 0, result: 'verified' }]);
  });

  it('a flood of offers: at most the limit wait, the rest are declined at once, memory bounded', () => {
    const h = hostile();
    const path = (i: number) => `flood/${String(i).padStart(6, '0')}/${'p'.repeat(180)}`;
    const count = 1000;
    for (let i = 0; i < count; i++)
      h.raw.say(...offerOf(Array.from({ length: 10 }, (_, j) => ({ path: path(i * 10 + j), size: 1 }))));
    expect(h.net.run(() => h.raw.of('decline').length >= count - TRANSFER_LIMITS.maxPendingOffersPerSession, h.net.now + 120_000)).toBe(true);
    expect(h.bob.of('file_offer')).toHaveLength(TRANSFER_LIMITS.maxPendingOffersPerSession);
    expect(h.raw.of('decline').every((d) => d.reason === 'too_many_offers')).toBe(true);
    // Held: the waiting offers only (declined at once ones were never kept, and left no event).
    const kept = h.bob.engine.list();
    expect(kept.length).toBe(TRANSFER_LIMITS.maxPendingOffersPerSession);
    expect(kept.reduce((n, t) => n + t.files.length, 0)).toBe(10 * TRANSFER_LIMITS.maxPendingOffersPerSession);
    // Bytes out for bytes in: a decline (21 bytes framed) for each offer of about 2.4 KB.
    const bytesIn = h.a.sent.reduce((n, d) => n + d.data.length, 0);
    const bytesOut = h.b.sent.reduce((n, d) => n + d.data.length, 0);
    expect(bytesOut).toBeLessThan(bytesIn / 4);
    chatStillWorks(h);
  });

  it('huge counts and sizes: declined, the file records read and dropped', () => {
    const h = hostile();
    const huge = offerId();
    h.raw.say({ type: 'offer', offer: huge, files: 4_000_000_000, totalSize: 2 ** 53 - 1 });
    for (let index = 0; index < 3000; index++)
      h.raw.say({ type: 'offer_file', offer: huge, index, size: 1, hash: new Uint8Array(32), path: `x${index}` });
    h.net.runFor(3_000);
    expect(h.raw.of('decline')).toMatchObject([{ offer: huge, reason: 'bad_offer' }]);
    expect(h.bob.engine.list()).toEqual([]);
    expect(h.bob.events).toEqual([]);
    // Its other 3,999,997,000 files never come: the next offer is inside its file list, which breaks the protocol.
    h.raw.say(...offerOf([{ path: 'next' }]));
    h.net.runFor(1_000);
    expect(h.raw.cancelled.map((c) => c.code)).toEqual([3]);
    expect(h.bob.engine.stats.protocolErrors).toBe(1);

    const h2 = hostile();
    // Sizes that do not add up to the total.
    const lying = offerOf([{ path: 'a', size: 10 }]);
    (lying[0] as { totalSize: number }).totalSize = 11;
    h2.raw.say(...lying);
    // The largest size there is: shown (the room check is the adapter's), not a problem here.
    h2.raw.say(...offerOf([{ path: 'big', size: 2 ** 53 - 1 }]));
    h2.net.runFor(2_000);
    expect(h2.raw.of('decline').map((d) => d.reason)).toEqual(['bad_offer']);
    expect(h2.bob.of('file_offer')).toMatchObject([{ totalSize: 2 ** 53 - 1 }]);
    expect(h2.bob.engine.stats.protocolErrors).toBe(0);
  });

  it('data past the size, short of it, from another offset, or nobody asked for: refused, the file fails, nothing kept', () => {
    const h = hostile();
    const data = randomData(3000, 5);
    const files = ['past', 'short', 'shifted'].map((name) => ({ path: name, data }));
    const records = offerOf(files);
    const id = (records[0] as Extract<FileRecord, { type: 'offer' }>).offer;
    h.raw.say(...records);
    h.net.run(() => h.bob.of('file_offer').length > 0, h.net.now + 5_000);
    h.bob.accept(h.bob.of('file_offer')[0]?.transfer ?? -1);
    // Same content: asked for one after the other.
    h.net.run(() => h.raw.of('want').length > 0, h.net.now + 5_000);
    const header = (index: number, offset = 0) => recordBytes({ type: 'data', offer: id, index, offset });
    // Nobody asked for file 1 yet, nor from offset 5.
    h.raw.stream(Buffer.concat([header(1), data]));
    h.raw.stream(Buffer.concat([header(0, 5), data.subarray(5)]));
    h.net.runFor(500);
    expect(h.bob.engine.stats.streamsRefused).toBe(2);
    h.raw.stream(Buffer.concat([header(0), data, randomData(100)]));
    h.net.run(() => h.raw.of('want').length > 1, h.net.now + 5_000);
    h.raw.stream(Buffer.concat([header(1), data.subarray(0, 2000)]));
    h.net.run(() => h.raw.of('want').length > 2, h.net.now + 5_000);
    h.raw.stream(Buffer.concat([header(2), data]));
    h.net.run(() => h.raw.of('verdict').length > 2, h.net.now + 10_000);
    expect(h.raw.of('verdict').map((v) => [v.index, v.result])).toEqual([
      [0, 'size_mismatch'],
      [1, 'size_mismatch'],
      [2, 'verified'],
    ]);
    expect(h.bob.of('file_failed').map((e) => e.reason)).toEqual(['size_mismatch', 'size_mismatch']);
    expect(h.bob.storage.partials.size).toBe(0);
    expect([...h.bob.storage.placed.keys()]).toEqual(['shifted']);
    chatStillWorks(h);
  });

  it('records for transfers that never were, or in the wrong state: counted, nothing else', () => {
    const h = hostile();
    const nowhere = offerId();
    h.raw.say(
      { type: 'verdict', offer: nowhere, index: 0, result: 'verified' },
      { type: 'accept', offer: nowhere, held: 5 },
      { type: 'want', offer: nowhere, index: 3, offset: 2 ** 40 },
      { type: 'cancel_send', offer: nowhere },
      { type: 'cancel_receive', offer: nowhere },
      { type: 'file_failed', offer: nowhere, index: 9, reason: 'read_failed' },
      { type: 'decline', offer: nowhere, reason: 'no_room' },
    );
    h.net.runFor(1_000);
    expect(h.bob.engine.stats.unknownTransfers).toBe(7);
    expect(h.bob.events).toEqual([]);
    chatStillWorks(h);
  });

  it('as a receiver: wants beyond the file, out of range or twice, a verdict too early: refused, counted', () => {
    const h = hostile();
    const data = randomData(10_000, 8);
    const mine = h.bob.offer(h.sb, { 'real.bin': data });
    h.net.run(() => h.raw.of('offer_file').length > 0, h.net.now + 5_000);
    const id = h.raw.of('offer')[0]?.offer ?? new Uint8Array(8);
    h.raw.say({ type: 'accept', offer: id, held: 10_001 }); // more than the offer: refused
    h.raw.say({ type: 'accept', offer: id, held: 0 });
    h.raw.say({ type: 'want', offer: id, index: 0, offset: 10_001 });
    h.raw.say({ type: 'want', offer: id, index: 7, offset: 0 });
    h.raw.say({ type: 'verdict', offer: id, index: 0, result: 'verified' });
    h.net.runFor(1_000);
    expect(h.bob.engine.stats.protocolErrors).toBe(4);
    expect(h.raw.data.size).toBe(0);
    expect(h.bob.storage.counts.reads).toBe(0);
    h.raw.say({ type: 'want', offer: id, index: 0, offset: 9_000 });
    h.raw.say({ type: 'want', offer: id, index: 0, offset: 0 }); // twice
    h.net.run(() => [...h.raw.data.values()].some((n) => n >= 1000), h.net.now + 5_000);
    expect(h.bob.engine.stats.protocolErrors).toBe(5);
    expect(h.bob.storage.counts.bytesRead).toBe(1000);
    h.raw.say({ type: 'verdict', offer: id, index: 0, result: 'verified' });
    h.net.run(() => h.bob.of('file_done').length > 0, h.net.now + 5_000);
    expect(h.bob.of('file_sent')).toMatchObject([{ transfer: mine, file: 0 }]);
  });

  it('garbage on its control stream: the stream is stopped, its transfers fail, the chat goes on', () => {
    for (const garbage of [
      Uint8Array.of(0xff, 0xff, 1, 2, 3),
      Uint8Array.of(0, 6, 0x4e, 0x43, 0x20, 99, 0, 0),
      Uint8Array.of(0, 5, 0x4e, 0x43, 0x02, 1, 0),
    ]) {
      const h = hostile();
      h.raw.say(...offerOf([{ path: 'waiting', size: 4 }]));
      h.net.run(() => h.bob.of('file_offer').length > 0, h.net.now + 5_000);
      h.raw.raw(garbage);
      h.net.runFor(1_000);
      expect(h.raw.cancelled.map((c) => [c.stream, c.code])).toEqual([[h.raw.control, 3]]);
      expect(h.bob.of('file_failed')).toMatchObject([{ reason: 'protocol_error', file: undefined }]);
      // Said after the garbage: not heard.
      h.raw.say(...offerOf([{ path: 'later', size: 4 }]));
      h.net.runFor(1_000);
      expect(h.bob.of('file_offer')).toHaveLength(1);
      chatStillWorks(h);
    }
  });

  it('a record out of its offer, a second control stream, a stream of other bytes: stopped', () => {
    const h = hostile();
    const records = offerOf([{ path: 'a' }, { path: 'b' }]);
    h.raw.say(records[0] as FileRecord, records[2] as FileRecord); // file 1 before file 0
    h.net.runFor(500);
    expect(h.raw.cancelled.map((c) => c.code)).toEqual([3]);
    const h2 = hostile();
    h2.raw.say(...offerOf([{ path: 'first' }]));
    const second = h2.raw.stream(recordBytes(offerOf([{ path: 'second' }])[0] as FileRecord), false);
    const other = h2.raw.stream(Uint8Array.from(Buffer.from('GET / HTTP/1.1\r\n\r\n')), false);
    h2.net.runFor(1_000);
    expect(h2.raw.cancelled.map((c) => c.stream).sort()).toEqual([second, other].sort());
    expect(h2.bob.of('file_offer')).toHaveLength(1);
    expect(h2.bob.engine.stats.streamsRefused).toBe(2);
  });
});

const recordBytes = (record: FileRecord): Uint8Array => frameRecord(record);

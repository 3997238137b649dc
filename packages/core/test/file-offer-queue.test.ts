/**
 * Our offers past what the peer holds unanswered (issue 20; PROTOCOL.md Files: transfers,
 * Offering, step 3 and the sender's SHOULD): they wait here and go as the peer answers, an offer
 * the peer declines `too_many_offers` goes again (a new id, after an answer or a backoff) at most
 * OFFER_QUEUE.retries times, and what waits is bounded. On the virtual network, virtual time.
 */
import { describe, expect, it } from 'vitest';
import { contentHash, type FileRecord, NetchatError, OFFER_QUEUE, TRANSFER_LIMITS } from '../src/index.js';
import { engineAndRaw, filePair } from './support/file-peers.js';

const hex = (id: Uint8Array) => Buffer.from(id).toString('hex');

/** Alice's engine (on a) sends to a raw files peer (on b) that answers as each test says. */
function toRaw(seed = 1) {
  const h = engineAndRaw(seed, 'a');
  return { ...h, alice: h.engine };
}

function decline(offer: Uint8Array, reason: 'too_many_offers' | 'declined' = 'too_many_offers'): FileRecord {
  return { type: 'decline', offer, reason };
}

describe('offers past what the peer holds unanswered', () => {
  it('nine offers to a netchat peer: the ninth waits (not failed), goes when one is answered, all nine arrive', () => {
    const { net, sa, alice, bob } = filePair();
    const data = Array.from({ length: 9 }, (_, i) => new TextEncoder().encode(`file ${i} `.repeat(50)));
    const ids = data.map((d, i) => alice.offer(sa, { [`f${i}.txt`]: d }));
    net.run(() => bob.of('file_offer').length >= 8, net.now + 5_000);
    net.runFor(1_000);
    expect(bob.of('file_offer')).toHaveLength(TRANSFER_LIMITS.maxPendingOffersPerSession);
    expect(alice.engine.transfer(ids[8] ?? -1)?.state).toBe('queued');
    expect(alice.of('file_queued')).toMatchObject([
      { transfer: ids[8], why: 'earlier_offers', message: 'waiting for the peer to answer earlier offers' },
    ]);
    // Answered in turn: each answer lets the next go.
    for (let i = 0; i < 9; i++) {
      if (!net.run(() => bob.of('file_offer').length > i, net.now + 10_000))
        throw new Error(`offer ${i} never came`);
      bob.accept(bob.of('file_offer')[i]?.transfer ?? -1);
    }
    expect(net.run(() => alice.of('file_done').length === 9, net.now + 60_000)).toBe(true);
    expect(alice.of('file_done').every((d) => d.verified === 1)).toBe(true);
    expect(alice.of('file_offer_sent').map((e) => e.transfer)).toEqual([ids[8]]);
    expect(alice.of('file_declined')).toEqual([]);
    expect(bob.engine.stats.offersRefused).toBe(0);
    expect([...bob.storage.placed.keys()].sort()).toEqual(data.map((_, i) => `f${i}.txt`).sort());
  });

  it('a peer that declines too_many_offers twice, then accepts: offered again under new ids after 1 s and 2 s', () => {
    const h = toRaw();
    const t = h.alice.offer(h.sa, { 'a.txt': new TextEncoder().encode('hello') });
    for (let n = 1; n <= 2; n++) {
      expect(h.net.run(() => h.raw.of('offer').length === n, h.net.now + 60_000)).toBe(true);
      h.raw.say(decline(h.raw.of('offer')[n - 1]?.offer as Uint8Array));
      expect(h.net.run(() => h.alice.of('file_queued').length === n, h.net.now + 5_000)).toBe(true);
      expect(h.alice.engine.transfer(t)?.state).toBe('queued');
    }
    expect(h.net.run(() => h.raw.of('offer').length === 3, h.net.now + 60_000)).toBe(true);
    const offers = h.raw.of('offer');
    h.raw.say({ type: 'accept', offer: offers[2]?.offer as Uint8Array, held: 0 });
    expect(h.net.run(() => h.alice.of('file_accepted').length === 1, h.net.now + 5_000)).toBe(true);
    expect(h.alice.engine.transfer(t)?.state).toBe('accepted');
    // Each went under an id of its own; the transfer keeps its first (a resume's record).
    expect(new Set(offers.map((o) => hex(o.offer))).size).toBe(3);
    expect(h.alice.engine.transfer(t)?.offerId).toBe(hex(offers[0]?.offer as Uint8Array));
    // The waits: 1 s after the first decline, 2 s after the second (the decline's own trip is a few ms).
    const queued = h.alice.of('file_queued');
    expect(queued.map((q) => [q.why, q.tries, q.retryInMs])).toEqual([
      ['peer_busy', 1, 1_000],
      ['peer_busy', 2, 2_000],
    ]);
    const sent = h.alice.of('file_offer_sent');
    expect(sent).toHaveLength(2);
    expect((sent[0]?.at ?? 0) - (queued[0]?.at ?? 0)).toBe(1_000);
    expect((sent[1]?.at ?? 0) - (queued[1]?.at ?? 0)).toBe(2_000);
    expect(h.alice.of('file_declined')).toEqual([]);
  });

  it('a peer that always declines too_many_offers: offered 1 + retries times over about 2 minutes, then declined', () => {
    const h = toRaw(2);
    const t = h.alice.offer(h.sa, { 'a.txt': new TextEncoder().encode('hello') });
    const start = h.net.now;
    for (let n = 1; n <= OFFER_QUEUE.retries + 1; n++) {
      expect(h.net.run(() => h.raw.of('offer').length === n, h.net.now + 60_000)).toBe(true);
      h.raw.say(decline(h.raw.of('offer')[n - 1]?.offer as Uint8Array));
    }
    expect(h.net.run(() => h.alice.of('file_declined').length === 1, h.net.now + 5_000)).toBe(true);
    expect(h.alice.of('file_declined')).toMatchObject([
      { transfer: t, reason: 'too_many_offers', by: 'peer' },
    ]);
    expect(h.alice.engine.transfer(t)?.state).toBe('declined');
    expect(h.alice.of('file_queued')).toHaveLength(OFFER_QUEUE.retries);
    const seconds = (h.net.now - start) / 1000;
    expect(seconds).toBeGreaterThanOrEqual(121);
    expect(seconds).toBeLessThan(125);
    // Nothing waits on time any more, and nothing more goes.
    expect(h.alice.engine.nextDeadline()).toBeUndefined();
    h.net.runFor(60_000);
    expect(h.raw.of('offer')).toHaveLength(OFFER_QUEUE.retries + 1);
  });

  it("a stranger's declines: a flood for ids never offered and for an old id are counted and dropped, the tries stay bounded", () => {
    const h = toRaw(6);
    const t = h.alice.offer(h.sa, { 'a.txt': new TextEncoder().encode('hello') });
    expect(h.net.run(() => h.raw.of('offer').length === 1, h.net.now + 5_000)).toBe(true);
    const first = h.raw.of('offer')[0]?.offer as Uint8Array;
    h.raw.say(decline(first));
    expect(h.net.run(() => h.alice.of('file_queued').length === 1, h.net.now + 5_000)).toBe(true);
    // The old id again, and ids never offered, 2,000 times each: none is ours now.
    const bogus = new Uint8Array(8).fill(0xee);
    for (let i = 0; i < 2_000; i++) h.raw.say(decline(first), decline(bogus));
    h.net.runFor(500);
    expect(h.alice.engine.stats.unknownTransfers).toBe(4_000);
    expect(h.alice.engine.stats.protocolErrors).toBe(0);
    expect(h.alice.engine.transfer(t)?.state).toBe('queued');
    expect(h.alice.of('file_queued')).toHaveLength(1);
    // Answered busy each time it comes: it ends after the bound, having sent 1 + retries offers.
    for (let n = 2; n <= OFFER_QUEUE.retries + 1; n++) {
      expect(h.net.run(() => h.raw.of('offer').length === n, h.net.now + 60_000)).toBe(true);
      h.raw.say(decline(h.raw.of('offer')[n - 1]?.offer as Uint8Array));
    }
    expect(h.net.run(() => h.alice.engine.transfer(t)?.state === 'declined', h.net.now + 5_000)).toBe(true);
    const bytesIn = h.b.sent.reduce((n, d) => n + d.data.length, 0);
    const bytesOut = h.a.sent.reduce((n, d) => n + d.data.length, 0);
    console.log(
      `declines flood: ${bytesIn} bytes in, ${bytesOut} bytes out, ${h.raw.of('offer').length} offers`,
    );
    expect(h.raw.of('offer')).toHaveLength(OFFER_QUEUE.retries + 1);
    expect(bytesOut).toBeLessThan(bytesIn / 4);
  });

  it('an offer declined busy waits while the peer holds ours, and goes at once when it answers one', () => {
    const h = toRaw(3);
    const first = h.alice.offer(h.sa, { 'a.txt': new TextEncoder().encode('a') });
    const second = h.alice.offer(h.sa, { 'b.txt': new TextEncoder().encode('b') });
    expect(h.net.run(() => h.raw.of('offer').length === 2, h.net.now + 5_000)).toBe(true);
    h.raw.say(decline(h.raw.of('offer')[1]?.offer as Uint8Array));
    expect(h.net.run(() => h.alice.of('file_queued').length === 1, h.net.now + 5_000)).toBe(true);
    // Its backoff passes, but the peer still holds `first` (it said it had too many): it waits.
    h.net.runFor(10_000);
    expect(h.raw.of('offer')).toHaveLength(2);
    expect(h.alice.engine.transfer(second)?.state).toBe('queued');
    h.raw.say(decline(h.raw.of('offer')[0]?.offer as Uint8Array, 'declined'));
    expect(h.net.run(() => h.raw.of('offer').length === 3, h.net.now + 5_000)).toBe(true);
    expect(h.alice.engine.transfer(first)?.state).toBe('declined');
    expect(h.alice.engine.transfer(second)?.state).toBe('offered');
  });

  it('a queued offer cancelled: nothing goes on the wire, the next waiting one goes in its place', () => {
    const { net, sa, alice, bob } = filePair({}, 4);
    const ids = Array.from({ length: 10 }, (_, i) => alice.offer(sa, { [`f${i}`]: new Uint8Array([i]) }));
    net.run(() => bob.of('file_offer').length >= 8, net.now + 5_000);
    expect(alice.cancel(ids[8] ?? -1)).toBe(true);
    net.runFor(1_000);
    expect(bob.of('file_cancelled')).toEqual([]);
    expect(alice.engine.stats.recordsOut).toBeGreaterThan(0);
    bob.decline(bob.of('file_offer')[0]?.transfer ?? -1);
    expect(net.run(() => bob.of('file_offer').length === 9, net.now + 5_000)).toBe(true);
    expect(bob.of('file_offer')[8]?.files[0]?.path).toBe('f9');
    expect(bob.engine.stats.unknownTransfers).toBe(0);
  });

  it('a sender asked for 10,000 offers: 8 go, 64 wait, the rest are refused at once; what is held and sent bounded', () => {
    const { net, sa, alice, bob, a } = filePair({}, 5);
    const hash = contentHash(new Uint8Array(1));
    let refused = 0;
    let message = '';
    for (let i = 0; i < 10_000; i++) {
      try {
        alice.engine.offer(sa, [{ path: `f${i}`, size: 1, hash }], net.now);
      } catch (error) {
        expect(error).toBeInstanceOf(NetchatError);
        refused++;
        message = (error as Error).message;
      }
    }
    alice.pump();
    net.runFor(2_000);
    const waiting = OFFER_QUEUE.maxWaiting;
    expect(refused).toBe(10_000 - TRANSFER_LIMITS.maxPendingOffersPerSession - waiting);
    expect(message).toMatch(/64 offers .* already wait for their peers to answer earlier ones/);
    const held = alice.engine.list();
    expect(held.filter((t) => t.state === 'offered')).toHaveLength(
      TRANSFER_LIMITS.maxPendingOffersPerSession,
    );
    expect(held.filter((t) => t.state === 'queued')).toHaveLength(waiting);
    expect(bob.of('file_offer')).toHaveLength(TRANSFER_LIMITS.maxPendingOffersPerSession);
    expect(bob.engine.stats.offersRefused).toBe(0);
    const bytesOut = a.sent.reduce((n, d) => n + d.data.length, 0);
    console.log(
      `10,000 offers asked: ${refused} refused at once, ${held.length} held; ${bytesOut} bytes sent`,
    );
    // The 8 offers (about 100 bytes each) and the chat's own datagrams, never 10,000 offers' worth.
    expect(bytesOut).toBeLessThan(20_000);
  });
});

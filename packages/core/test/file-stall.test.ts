/**
 * Receives that hold a slot and do not move (receive-stalls.ts; PROTOCOL.md Files: transfers,
 * Limits), on the virtual network's clock: a sender that sends nothing, or a trickle, is ended
 * `stalled` at its window's end and not before, its partial kept; an honest sender at a relayed
 * peer's share of the relay's budget, or one held back by the receiver's slow disk, is not; and
 * when every slot is taken, a receive behind the floor makes room for the next offer.
 */
import { describe, expect, it } from 'vitest';
import {
  contentHash,
  type FileRecord,
  frameRecord,
  TRANSFER_LIMITS,
  type TransferLimits,
} from '../src/index.js';
import { FilePeer, filePair } from './support/file-peers.js';
import { randomData } from './support/partial-files.js';
import { offerOf, RawFiles } from './support/raw-files.js';
import { eventsOf, openPair, VirtualNetwork } from './support/virtual-network.js';

const WINDOW = TRANSFER_LIMITS.stallWindowMs;

/** A raw sender (a) in a session with an engine (bob, on b); bob's engine takes `limits`. */
function rawSender(limits: Partial<TransferLimits> = {}) {
  const net = new VirtualNetwork(3);
  const pair = openPair(net, { streams: true, files: true });
  net.run(() => pair.b.endpoint.session(pair.sb)?.peerFeatures?.files === true, net.now + 5_000);
  net.run(() => pair.a.endpoint.session(pair.sa)?.peerFeatures?.files === true, net.now + 5_000);
  const bob = new FilePeer(net, pair.b, undefined, { limits });
  const raw = new RawFiles(net, pair.a, pair.sa);
  return { net, ...pair, bob, raw };
}

type Setup = ReturnType<typeof rawSender>;

/** The raw sender offers one file of `size` bytes; bob accepts it. Returns the transfer and when. */
function offerAndAccept(s: Setup, size: number): { transfer: number; acceptedAt: number } {
  const before = s.bob.of('file_offer').length;
  s.raw.say(...offerOf([{ path: `f${before}.bin`, size }]));
  if (!s.net.run(() => s.bob.of('file_offer').length > before, s.net.now + 5_000))
    throw new Error('no offer');
  const transfer = s.bob.of('file_offer')[before]?.transfer as number;
  s.bob.accept(transfer);
  return { transfer, acceptedAt: s.net.now };
}

function stalledOf(s: Setup, transfer: number) {
  return s.bob.of('file_failed').filter((e) => e.transfer === transfer && e.reason === 'stalled');
}

describe('a receive that does not move', () => {
  it('a sender that sends nothing is ended stalled at the window, not before; both sides hear it; its partial is kept', () => {
    const s = rawSender();
    const { transfer, acceptedAt } = offerAndAccept(s, 100_000);
    s.net.run(() => s.raw.of('want').length > 0, s.net.now + 5_000);
    s.net.run(() => false, acceptedAt + WINDOW - 500);
    expect(stalledOf(s, transfer)).toHaveLength(0);
    expect(s.bob.engine.transfer(transfer)?.state).toBe('accepted');
    s.net.run(() => stalledOf(s, transfer).length > 0, acceptedAt + WINDOW + 2_000);
    const [failed] = stalledOf(s, transfer);
    expect(failed?.at).toBeGreaterThanOrEqual(acceptedAt + WINDOW);
    expect(failed?.at).toBeLessThanOrEqual(acceptedAt + WINDOW + 1_000);
    expect(failed?.resumable).toBe(true);
    expect(failed?.message).toMatch(/stalled: 0 bytes came in 30 s of waiting on the sender/);
    expect(s.bob.engine.transfer(transfer)?.state).toBe('done');
    // The sender hears the verdict.
    s.net.run(() => s.raw.of('verdict').length > 0, s.net.now + 5_000);
    expect(s.raw.of('verdict').map((v) => v.result)).toEqual(['stalled']);
    // Its partial file is closed and kept (a resume), not removed.
    expect(s.bob.storage.counts.discards).toBe(0);
    expect([...s.bob.storage.partials.values()].map((p) => p.open)).toEqual([false]);
    // Nothing more is checked once no receive runs.
    expect(s.bob.engine.nextDeadline()).toBeUndefined();
  });

  it('a trickle (a byte every 5 s) resets nothing: stalled at the window all the same', () => {
    const s = rawSender();
    const { transfer, acceptedAt } = offerAndAccept(s, 100_000);
    s.net.run(() => s.raw.of('want').length > 0, s.net.now + 5_000);
    const want = s.raw.of('want')[0] as Extract<FileRecord, { type: 'want' }>;
    const stream = s.raw.stream(frameRecord({ type: 'data', offer: want.offer, index: 0, offset: 0 }), false);
    let sent = 0;
    for (let i = 0; i < 10 && stalledOf(s, transfer).length === 0; i++) {
      s.raw.more(stream, new Uint8Array([i]));
      sent++;
      s.net.run(() => stalledOf(s, transfer).length > 0, s.net.now + 5_000);
    }
    const [failed] = stalledOf(s, transfer);
    expect(failed?.at).toBeLessThanOrEqual(acceptedAt + WINDOW + 1_000);
    expect(failed?.message).toMatch(/[1-9] bytes came in 30 s/);
    s.net.run(() => s.raw.of('verdict').length > 0, s.net.now + 5_000);
    expect(sent).toBeGreaterThanOrEqual(5);
    expect(s.raw.of('verdict').map((v) => v.result)).toEqual(['stalled']);
    // The data stream was stopped.
    expect(s.raw.cancelled.some((c) => c.stream === stream)).toBe(true);
  });

  it('bytes timed to keep a write pending at each check do not stop the clock (it stops to the millisecond)', () => {
    const s = rawSender();
    s.bob.storage.delay = 300; // each write answered 300 ms later
    const { transfer, acceptedAt } = offerAndAccept(s, 100_000);
    s.net.run(() => s.raw.of('want').length > 0, s.net.now + 5_000);
    const want = s.raw.of('want')[0] as Extract<FileRecord, { type: 'want' }>;
    const stream = s.raw.stream(frameRecord({ type: 'data', offer: want.offer, index: 0, offset: 0 }), false);
    // Each byte arrives 100 ms before the engine's next check: a write is pending at every check.
    for (let i = 0; i < 80 && stalledOf(s, transfer).length === 0; i++) {
      const check = s.bob.engine.nextDeadline() ?? s.net.now;
      s.net.run(() => stalledOf(s, transfer).length > 0, Math.max(s.net.now, check - 105));
      if (stalledOf(s, transfer).length > 0) break;
      s.raw.more(stream, new Uint8Array([i]));
      s.net.run(() => stalledOf(s, transfer).length > 0, check + 1);
    }
    const [failed] = stalledOf(s, transfer);
    // 30 s of waiting on the sender: about 700 ms of each second (300 ms a write is ours).
    expect(failed?.at).toBeGreaterThanOrEqual(acceptedAt + WINDOW);
    expect(failed?.at).toBeLessThanOrEqual(acceptedAt + WINDOW / 0.7 + 3_000);
  });

  it("an honest sender at a relayed peer's share of the relay's budget (64 KiB/s over 32: 2 KiB/s), and at 1 KiB/s, is not ended", () => {
    for (const rate of [2048, 1024]) {
      const { net, alice, bob, a, b, sa } = filePair({}, 5);
      a.endpoint.setPathRateLimit(b.address, rate);
      const data = randomData(160 * 1024, rate);
      alice.offer(sa, { 'slow.bin': data });
      net.run(() => bob.of('file_offer').length > 0, net.now + 5_000);
      const start = net.now;
      bob.accept(bob.of('file_offer')[0]?.transfer as number);
      expect(net.run(() => bob.of('file_received').length > 0, net.now + 300_000)).toBe(true);
      const seconds = (net.now - start) / 1000;
      expect(seconds).toBeGreaterThan((2 * WINDOW) / 1000); // it lasted over two windows
      expect(bob.of('file_failed')).toEqual([]);
      expect(bob.storage.placed.get('slow.bin')).toEqual(new Uint8Array(data));
    }
  });

  it("a transfer held back by the receiver's slow disk (each answer 45 s, longer than the window) is not ended", () => {
    const { net, alice, bob, sa } = filePair({}, 7);
    bob.storage.delay = 45_000;
    const data = randomData(40_000, 9);
    alice.offer(sa, { 'disk.bin': data });
    net.run(() => bob.of('file_offer').length > 0, net.now + 5_000);
    bob.accept(bob.of('file_offer')[0]?.transfer as number);
    expect(net.run(() => bob.of('file_received').length > 0, net.now + 600_000)).toBe(true);
    expect(bob.of('file_failed')).toEqual([]);
    expect(contentHash(bob.storage.placed.get('disk.bin') as Uint8Array)).toBe(contentHash(data));
  });
});

describe('every slot taken', () => {
  it('an offer is refused while the receives are in their grace; after it, the one furthest behind makes room', () => {
    const s = rawSender({ maxActiveReceives: 2 });
    const first = offerAndAccept(s, 50_000);
    const second = offerAndAccept(s, 50_001); // another content (the same would wait for the first)
    s.net.run(() => s.raw.of('want').length >= 2, s.net.now + 5_000);
    // Within the grace (5 s of the window): refused.
    s.raw.say(...offerOf([{ path: 'early.bin', size: 10 }]));
    s.net.run(() => s.raw.of('decline').length > 0, s.net.now + 2_000);
    expect(s.raw.of('decline').map((d) => d.reason)).toEqual(['too_many_offers']);
    expect(stalledOf(s, first.transfer)).toHaveLength(0);
    // Past it: the first (as far behind as the second, and older) makes room; the second goes on.
    s.net.run(() => false, first.acceptedAt + TRANSFER_LIMITS.stallGraceMs + 1_000);
    const third = offerAndAccept(s, 10);
    expect(s.raw.of('decline')).toHaveLength(1);
    expect(stalledOf(s, first.transfer)).toHaveLength(1);
    expect(stalledOf(s, first.transfer)[0]?.message).toMatch(/another offer needed its place/);
    expect(s.bob.engine.transfer(second.transfer)?.state).toBe('accepted');
    expect(s.bob.engine.transfer(third.transfer)?.state).toBe('accepted');
    // The second ends at its own window's end.
    s.net.run(() => stalledOf(s, second.transfer).length > 0, second.acceptedAt + WINDOW + 2_000);
    expect(stalledOf(s, second.transfer)[0]?.at).toBeGreaterThanOrEqual(second.acceptedAt + WINDOW);
  });

  it('a receive that moves at the floor or above is never made to make room', () => {
    const s = rawSender({ maxActiveReceives: 1 });
    const size = 200_000;
    const { transfer } = offerAndAccept(s, size);
    s.net.run(() => s.raw.of('want').length > 0, s.net.now + 5_000);
    const want = s.raw.of('want')[0] as Extract<FileRecord, { type: 'want' }>;
    const stream = s.raw.stream(frameRecord({ type: 'data', offer: want.offer, index: 0, offset: 0 }), false);
    // 2 KiB a second (4 times the floor's pace) for 20 s, with offers coming meanwhile.
    for (let second = 0; second < 20; second++) {
      s.raw.more(stream, randomData(2048, second));
      if (second % 4 === 3) s.raw.say(...offerOf([{ path: `x${second}.bin`, size: 10 }]));
      s.net.run(() => false, s.net.now + 1_000);
    }
    expect(stalledOf(s, transfer)).toHaveLength(0);
    expect(s.raw.of('decline').map((d) => d.reason)).toEqual(Array(5).fill('too_many_offers'));
    expect(s.bob.engine.transfer(transfer)?.state).toBe('accepted');
  });
  it('a receive that moved well rides out one dark window (over the floor, up to a floor, carried): not made to make room in it, stalled only after the next', () => {
    const s = rawSender({ maxActiveReceives: 1 });
    const { transfer, acceptedAt } = offerAndAccept(s, 500_000);
    s.net.run(() => s.raw.of('want').length > 0, s.net.now + 5_000);
    const want = s.raw.of('want')[0] as Extract<FileRecord, { type: 'want' }>;
    const stream = s.raw.stream(frameRecord({ type: 'data', offer: want.offer, index: 0, offset: 0 }), false);
    // 4 KiB a second for 20 s (80 KiB: five floors), then nothing: the path goes dark.
    for (let second = 0; second < 20; second++) {
      s.raw.more(stream, randomData(4096, second));
      s.net.run(() => false, s.net.now + 1_000);
    }
    // 10 s into the second window, without a byte in it: an offer comes and is refused.
    s.net.run(() => false, acceptedAt + WINDOW + 10_000);
    s.raw.say(...offerOf([{ path: 'later.bin', size: 10 }]));
    s.net.run(() => s.raw.of('decline').length > 0, s.net.now + 2_000);
    expect(s.raw.of('decline').map((d) => d.reason)).toEqual(['too_many_offers']);
    expect(stalledOf(s, transfer)).toHaveLength(0);
    // The second window passes on what was carried; the third, still dark, does not.
    s.net.run(() => stalledOf(s, transfer).length > 0, acceptedAt + 3 * WINDOW + 3_000);
    const at = stalledOf(s, transfer)[0]?.at ?? 0;
    expect(at).toBeGreaterThanOrEqual(acceptedAt + 3 * WINDOW);
  });
});

describe('the sender of a receive that stalled', () => {
  it('hears the stalled verdict (resumable) and, in the next chat, goes on from what the receiver kept', () => {
    const { net, alice, bob, a, b, sa } = filePair({}, 13);
    const aliceKey = Buffer.from(a.endpoint.identity.publicKey).toString('hex');
    a.endpoint.setPathRateLimit(b.address, 256); // half the floor's pace
    const data = randomData(40_000, 17);
    const first = alice.offer(sa, { 'trickle.bin': data });
    const offerId = alice.engine.transfer(first)?.offerId ?? '';
    bob.acceptNextWithHeld(aliceKey);
    expect(net.run(() => alice.of('file_failed').length > 0, net.now + WINDOW + 5_000)).toBe(true);
    expect(alice.of('file_failed')[0]).toMatchObject({ reason: 'stalled', resumable: true, file: 0 });
    expect(alice.of('file_failed')[0]?.message).toMatch(/stopped waiting.*goes on when offered again/);
    expect(alice.engine.transfer(first)?.state).toBe('done');
    const kept = bob.storage.held(aliceKey, contentHash(data), data.length);
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(16 * 1024);

    // The next chat: the same offer id, from what bob kept, at full speed.
    a.endpoint.close(sa, net.now);
    net.run(
      () => a.endpoint.session(sa) === undefined || a.endpoint.session(sa)?.state === 'closed',
      net.now + 10_000,
    );
    a.endpoint.setPathRateLimit(b.address, undefined);
    const before = eventsOf(b, 'request').length;
    const session = a.endpoint.connect(b.address, net.now);
    expect(net.run(() => eventsOf(b, 'request').length > before, net.now + 10_000)).toBe(true);
    b.endpoint.accept(eventsOf(b, 'request').at(-1)?.session ?? -1, net.now);
    net.run(() => a.endpoint.session(session)?.peerFeatures?.files === true, net.now + 10_000);
    alice.offer(session, { 'trickle.bin': data }, offerId);
    const again = bob.acceptNextWithHeld(aliceKey);
    expect(bob.of('file_accepted').at(-1)).toMatchObject({ transfer: again, offset: kept });
    expect(net.run(() => bob.of('file_received').length > 0, net.now + 30_000)).toBe(true);
    expect(bob.storage.placed.get('trickle.bin')).toEqual(new Uint8Array(data));
  });
});

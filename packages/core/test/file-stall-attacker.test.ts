/**
 * The attacker's test for receive slots (receive-stalls.ts; PROTOCOL.md Files: transfers,
 * Limits), on the virtual network: strangers from 8 addresses (4 offers each, as a drop box
 * takes at most 4 from one host) hold all 32 of a receiver's slots, half of them sending nothing
 * and half a trickle (a byte every 5 s per file); then a friend offers a file. It is taken at
 * once (a stranger behind the floor makes room) and received within the bound; every stranger's
 * transfer ends `stalled` within a window, its partial kept; bytes in and out, what the receiver
 * holds and the heap are measured.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { frameRecord, TRANSFER_LIMITS } from '../src/index.js';
import { FilePeer, filesChat } from './support/file-peers.js';
import { randomData } from './support/partial-files.js';
import { offerOf, RawFiles } from './support/raw-files.js';
import { type Node, VirtualNetwork } from './support/virtual-network.js';

const STRANGERS = 8;
const OFFERS_EACH = 4;
const FEATURES = { streams: true, files: true } as const;

/** The heap after a full collection (gc exposed for this measure only). */
function heapUsed(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

const sentBy = (node: Node, to?: (host: string) => boolean) =>
  node.sent.filter((d) => !to || to(d.to.host)).reduce((n, d) => n + d.data.length, 0);

describe('strangers holding every receive slot', () => {
  it("cannot keep a friend's file out: it is taken at once and received, and every stranger ends stalled", () => {
    const heapBefore = heapUsed();
    const net = new VirtualNetwork(21);
    const b = net.add('127.0.0.2', 2222, { nick: 'dropbox', ...FEATURES });
    const bob = new FilePeer(net, b);
    // The drop box takes every offer it is shown.
    const acceptAll = () => {
      for (const offer of bob.of('file_offer'))
        if (bob.engine.transfer(offer.transfer)?.state === 'offered') bob.accept(offer.transfer);
    };

    const strangers = Array.from({ length: STRANGERS }, (_, i) => {
      const node = net.add(`10.0.${i}.1`, 4000 + i, { nick: `s${i}`, ...FEATURES });
      return { node, raw: new RawFiles(net, node, filesChat(net, node, b)), trickles: i % 2 === 1 };
    });
    // One after another (the receiver holds 16 offers not answered yet in all), each taken at once.
    strangers.forEach(({ raw }, i) => {
      for (let j = 0; j < OFFERS_EACH; j++)
        raw.say(...offerOf([{ path: `hold-${i}-${j}.bin`, size: 100_000 + i * OFFERS_EACH + j }]));
      net.run(() => {
        acceptAll();
        return raw.of('want').length === OFFERS_EACH;
      }, net.now + 10_000);
    });
    const filledAt = net.now;
    const running = () =>
      bob.engine.list().filter((t) => t.state === 'accepted' && t.direction === 'receive');
    expect(running()).toHaveLength(TRANSFER_LIMITS.maxActiveReceives);
    // The tricklers open each wanted file's data stream and send a byte every 5 s.
    const streams = strangers
      .filter((s) => s.trickles)
      .flatMap(({ raw }) =>
        raw.of('want').map((w) => ({
          raw,
          stream: raw.stream(frameRecord({ type: 'data', offer: w.offer, index: w.index, offset: 0 }), false),
        })),
      );
    const trickle = (ms: number) => {
      for (let t = 0; t < ms; t += 5_000) {
        for (const { raw, stream } of streams) raw.more(stream, new Uint8Array([1]));
        net.run(() => false, net.now + 5_000);
      }
    };
    trickle(10_000);

    // The friend, from its own address, offers a file.
    const a = net.add('127.0.0.1', 1111, { nick: 'friend', ...FEATURES });
    const friend = new FilePeer(net, a);
    const session = filesChat(net, a, b);
    const data = randomData(256 * 1024, 5);
    const offeredAt = net.now;
    friend.offer(session, { 'report.pdf': data });
    const received = net.run(() => {
      acceptAll();
      return bob.of('file_received').length > 0 || friend.of('file_declined').length > 0;
    }, net.now + 30_000);
    expect(friend.of('file_declined')).toEqual([]);
    expect(received).toBe(true);
    const seconds = (net.now - offeredAt) / 1000;
    expect(bob.storage.placed.get('report.pdf')).toEqual(new Uint8Array(data));
    expect(seconds).toBeLessThan(5);
    expect(running().length).toBeLessThanOrEqual(TRANSFER_LIMITS.maxActiveReceives);

    // Every stranger's transfer ends stalled within a window of the slots being filled.
    trickle(TRANSFER_LIMITS.stallWindowMs);
    net.run(() => running().length === 0, filledAt + TRANSFER_LIMITS.stallWindowMs + 2_000);
    expect(running()).toEqual([]);
    const stalled = bob.of('file_failed').filter((e) => e.reason === 'stalled');
    expect(stalled).toHaveLength(STRANGERS * OFFERS_EACH);
    expect(
      stalled.every((e) => e.resumable && e.at <= filledAt + TRANSFER_LIMITS.stallWindowMs + 1_000),
    ).toBe(true);
    net.run(() => strangers.every((s) => s.raw.of('verdict').length === OFFERS_EACH), net.now + 5_000);
    for (const { raw } of strangers)
      expect(raw.of('verdict').map((v) => v.result)).toEqual(Array(OFFERS_EACH).fill('stalled'));
    // Nothing more to check: the engine asks for no more ticks.
    expect(bob.engine.nextDeadline()).toBeUndefined();

    // What it cost the receiver.
    const isStranger = (host: string) => host.startsWith('10.0.');
    const bytesIn = strangers.reduce((n, s) => n + sentBy(s.node), 0);
    const bytesOut = sentBy(b, isStranger);
    const partials = [...bob.storage.partials.values()];
    const keptBytes = partials.reduce((n, p) => n + p.length, 0);
    const heapAfter = heapUsed();
    console.log(
      `[stall attacker] friend's 256 KiB file received ${seconds.toFixed(2)} s after its offer; ` +
        `strangers: ${bytesIn} bytes in, ${bytesOut} bytes out to them; ` +
        `${partials.length} partials kept (${keptBytes} bytes written), all closed: ${partials.every((p) => !p.open)}; ` +
        `transfers listed ${bob.engine.list().length}; heap ${((heapAfter - heapBefore) / 2 ** 20).toFixed(1)} MiB more (10 endpoints and the test's records)`,
    );
    expect(partials.every((p) => !p.open)).toBe(true);
    // Most of it is the memory storage's partials (each the size offered, about 100 KB).
    expect(heapAfter - heapBefore).toBeLessThan(16 * 2 ** 20);
    expect(keptBytes).toBeLessThan(STRANGERS * OFFERS_EACH * 16);
    expect(bob.engine.list().length).toBeLessThanOrEqual(TRANSFER_LIMITS.maxEndedKept + 1);
    // The replies are small against what the strangers sent (handshakes, offers, heartbeats, acks).
    expect(bytesOut).toBeLessThan(4 * bytesIn + 64 * 1024);
  });
});

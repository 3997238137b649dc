/**
 * The attacker's test for the stall rule's eviction (receive-stalls.ts `makeRoom`), aimed at a
 * friend: the friend sends a file on a slow path (64 kbit/s: 8 KB/s, a relayed receiver's share
 * of the relay's 64 KiB/s among 8 receives, 15 times the floor's pace), strangers hold the other
 * 31 slots and keep just ahead of the floor's pace (1 KiB a second a slot: 31 KiB/s in all), and
 * a stranger offers one more file every second. Then the friend's path goes dark for 10 s (a
 * Wi-Fi hand-over, a router's restart) from 2 s before the friend's first window ends. On the
 * virtual network.
 */
import { describe, expect, it } from 'vitest';
import { frameRecord, TRANSFER_LIMITS } from '../src/index.js';
import { shapePath } from '../src/testing/shaped-links.js';
import { FilePeer, filesChat } from './support/file-peers.js';
import { randomData } from './support/partial-files.js';
import { offerOf, RawFiles } from './support/raw-files.js';
import { VirtualNetwork } from './support/virtual-network.js';

const FEATURES = { streams: true, files: true } as const;
/** The friend's path is dark this long, from 2 s before its first window ends. */
const OUTAGE_MS = 10_000;

describe("strangers just ahead of the floor, and a friend's slow transfer through a 10 s outage", () => {
  // Judged by its window alone, the friend (15 times the floor's pace until then) was the only
  // receive behind the pace in its new window once its path had been dark 5 s of it, so the next
  // stranger's offer ended it `stalled` (35 s after its accept) while 31 strangers at an eighth of
  // its pace kept their slots. What came over the floor now counts in the next window (carried).
  it("the friend's transfer is not the one ended to make room", () => {
    const net = new VirtualNetwork(31);
    const b = net.add('127.0.0.2', 2222, { nick: 'dropbox', ...FEATURES });
    const bob = new FilePeer(net, b);
    const acceptAll = () => {
      for (const offer of bob.of('file_offer'))
        if (bob.engine.transfer(offer.transfer)?.state === 'offered') bob.accept(offer.transfer);
    };
    // The friend's path: 64 kbit/s, 200 ms round trip (from once the chat is open); dark when `dark` says so.
    const a = net.add('127.0.0.1', 1111, { nick: 'friend', ...FEATURES });
    let dark = false;
    net.filter = (from, to) => !(dark && (from.host === '127.0.0.1' || to.host === '127.0.0.1'));
    const friend = new FilePeer(net, a);
    const session = filesChat(net, a, b);
    shapePath(net, '127.0.0.1', '127.0.0.2', { bitsPerSecond: 64_000, rtt: 200, bufferBdp: 4 });
    const data = randomData(512 * 1024, 7);
    friend.offer(session, { 'photos.zip': data });
    net.run(() => {
      acceptAll();
      return bob.of('file_accepted').length > 0 || bob.engine.list().some((t) => t.state === 'accepted');
    }, net.now + 10_000);
    const acceptedAt = net.now;
    const friendTransfer = bob.of('file_offer')[0]?.transfer;

    // 31 slots for the strangers: 8 addresses, 4 offers each but the first's 3.
    const strangers = Array.from({ length: 8 }, (_, i) => {
      const node = net.add(`10.0.${i}.1`, 4000 + i, { nick: `s${i}`, ...FEATURES });
      return new RawFiles(net, node, filesChat(net, node, b));
    });
    strangers.forEach((raw, i) => {
      const offers = i === 0 ? 3 : 4;
      for (let j = 0; j < offers; j++)
        raw.say(...offerOf([{ path: `hold-${i}-${j}.bin`, size: 1_000_000 + i * 4 + j }]));
      net.run(() => {
        acceptAll();
        return raw.of('want').length === offers;
      }, net.now + 10_000);
    });
    const running = () =>
      bob.engine.list().filter((t) => t.state === 'accepted' && t.direction === 'receive');
    expect(running()).toHaveLength(TRANSFER_LIMITS.maxActiveReceives);
    const streams = strangers.flatMap((raw) =>
      raw.of('want').map((w) => ({
        raw,
        stream: raw.stream(frameRecord({ type: 'data', offer: w.offer, index: w.index, offset: 0 }), false),
      })),
    );
    // A ninth stranger offers a new file every second.
    const churnerNode = net.add('10.0.9.2', 4998, { nick: 'churn', ...FEATURES });
    const churn = new RawFiles(net, churnerNode, filesChat(net, churnerNode, b));
    let offered = 0;

    // Second by second: each stranger slot gets 1 KiB, the churner offers, the friend goes dark
    // from 2 s before its first window ends to 8 s into its second.
    const darkFrom = acceptedAt + TRANSFER_LIMITS.stallWindowMs - 2_000;
    const end = acceptedAt + 120_000;
    while (net.now < end && friend.of('file_sent').length + friend.of('file_failed').length === 0) {
      dark = net.now >= darkFrom && net.now < darkFrom + OUTAGE_MS;
      for (const { raw, stream } of streams) raw.more(stream, randomData(1024, offered));
      churn.say(...offerOf([{ path: `churn-${offered}.bin`, size: 2_000_000 + offered++ }]));
      net.run(() => {
        acceptAll();
        return false;
      }, net.now + 1_000);
    }
    const friendFailed = bob.of('file_failed').filter((e) => e.transfer === friendTransfer);
    const friendBytes =
      bob
        .of('file_progress')
        .filter((e) => e.transfer === friendTransfer)
        .at(-1)?.bytes ?? 0;
    console.log(
      `[stall friend] friend's transfer: ${friendFailed.length > 0 ? `ended ${friendFailed[0]?.reason} (${friendFailed[0]?.message}) ${((friendFailed[0]?.at ?? 0) - acceptedAt) / 1000} s after its accept` : 'went on'}, ${friendBytes} bytes received by then; ` +
        `strangers' slots ended stalled: ${bob.of('file_failed').filter((e) => e.reason === 'stalled' && e.transfer !== friendTransfer).length}`,
    );
    expect(friendFailed).toEqual([]);
    expect(bob.of('file_received').filter((e) => e.transfer === friendTransfer)).toHaveLength(1);
  });
});

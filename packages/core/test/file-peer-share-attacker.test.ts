/**
 * The attacker's test for the pool of files asked for (receiving.ts; TRANSFER_LIMITS
 * `sharedFilesAsked`, `peerFilesAsked`; PROTOCOL.md Files: transfers, Moving files), on the
 * virtual network: a stranger (one key) offers 4 folders of 100 one-byte files (as many as a drop
 * box takes from one host) and sends no byte, so every file it is asked for keeps a partial open;
 * then a second peer offers a folder. Before the per-peer share the stranger's 4 receives took the
 * whole shared pool (4 × 16 = 64 asked) and every other peer's receive asked 4 files at a time;
 * now its receives go past their own 4 only while it holds fewer than 32. Then strangers from
 * several keys: 3 keys fill the pool again (keys are free to make: against those, the drop box's
 * access policy and per-host limit, and the stall rule, apply), and every receive still has its
 * own 4. Bytes in and out and the partials open are measured.
 */
import { describe, expect, it } from 'vitest';
import { TRANSFER_LIMITS } from '../src/index.js';
import { FilePeer, filesChat } from './support/file-peers.js';
import { offerOf, RawFiles } from './support/raw-files.js';
import { type Node, VirtualNetwork } from './support/virtual-network.js';

const FEATURES = { streams: true, files: true } as const;
const FILES = 100;

const sentBy = (node: Node) => node.sent.reduce((n, d) => n + d.data.length, 0);

/** A drop box (an engine with memory storage, accepting every offer) and raw peers, each its own key. */
function dropBox(seed: number) {
  const net = new VirtualNetwork(seed);
  const b = net.add('127.0.0.2', 2222, { nick: 'dropbox', ...FEATURES });
  const bob = new FilePeer(net, b);
  bob.storage.delay = 1;
  const acceptAll = () => {
    for (const offer of bob.of('file_offer'))
      if (bob.engine.transfer(offer.transfer)?.state === 'offered') bob.accept(offer.transfer);
  };
  let hosts = 0;
  const peer = () => {
    const i = hosts++;
    const node = net.add(`10.0.${i}.1`, 4000 + i, { nick: `p${i}`, ...FEATURES });
    return { node, raw: new RawFiles(net, node, filesChat(net, node, b)) };
  };
  /** `offers` folders of one-byte files from `raw`, each accepted; waits until the wants stop coming. */
  const offerFolders = (raw: RawFiles, offers: number, tag: string) => {
    for (let o = 0; o < offers; o++)
      raw.say(
        ...offerOf(
          Array.from({ length: FILES }, (_, i) => ({
            path: `${tag}-${o}/f${i}`,
            size: 1,
            data: Buffer.from(`${tag}/${o}/${i}`),
          })),
        ),
      );
    net.run(() => {
      acceptAll();
      return false;
    }, net.now + 3_000);
  };
  return { b, bob, peer, offerFolders };
}

describe("one peer's share of the files asked for", () => {
  it("a stranger whose data never comes: its receives go past their own 4 only while it holds fewer than 32 partials; another peer's then asks 16 at a time", () => {
    const { b, bob, peer, offerFolders } = dropBox(41);
    const stranger = peer();
    offerFolders(stranger.raw, 4, 'hog');
    const strangerWants = stranger.raw.of('want').length;
    const second = peer();
    offerFolders(second.raw, 1, 'second');
    const secondWants = second.raw.of('want').length;
    console.log(
      `[peer share] a stranger's 4 folders of ${FILES} files, no data: ${strangerWants} files asked (partials open), ` +
        `${sentBy(stranger.node)} bytes in, ${sentBy(b)} bytes out in all; ` +
        `then another peer's folder: ${secondWants} asked; most partials open ${bob.storage.mostOpen}`,
    );
    // Its first two receives reach 16 each (32 in all); the other two ask their own 4 only.
    expect(strangerWants).toBe(TRANSFER_LIMITS.peerFilesAsked + 2 * TRANSFER_LIMITS.ownFilesAsked);
    // The other peer's receive asks as many ahead as any (wantAhead), not its own 4 only.
    expect(secondWants).toBe(16);
    expect(bob.storage.mostOpen).toBe(strangerWants + secondWants);
  });

  it('strangers from 3 keys fill the pool (a share per key is no defence against many keys): every receive still has its own 4', () => {
    const { bob, peer, offerFolders } = dropBox(42);
    const strangers = [peer(), peer(), peer()];
    strangers.forEach(({ raw }, k) => {
      offerFolders(raw, 4, `key${k}`);
    });
    const wants = strangers.map(({ raw }) => raw.of('want').length);
    const second = peer();
    offerFolders(second.raw, 1, 'second');
    const secondWants = second.raw.of('want').length;
    const bytesIn = strangers.reduce((n, s) => n + sentBy(s.node), 0);
    console.log(
      `[peer share] 3 keys × 4 folders, no data: asked ${JSON.stringify(wants)} (${bytesIn} bytes in from them); ` +
        `another peer's folder then: ${secondWants} asked; most partials open ${bob.storage.mostOpen} ` +
        `(bound ${32 * TRANSFER_LIMITS.ownFilesAsked + TRANSFER_LIMITS.sharedFilesAsked})`,
    );
    for (const n of wants)
      expect(n).toBeLessThanOrEqual(TRANSFER_LIMITS.peerFilesAsked + 4 * TRANSFER_LIMITS.ownFilesAsked);
    for (const n of wants) expect(n).toBeGreaterThanOrEqual(4 * TRANSFER_LIMITS.ownFilesAsked);
    expect(secondWants).toBeGreaterThanOrEqual(TRANSFER_LIMITS.ownFilesAsked);
    expect(bob.storage.mostOpen).toBeLessThanOrEqual(
      13 * TRANSFER_LIMITS.ownFilesAsked + TRANSFER_LIMITS.sharedFilesAsked,
    );
  });
});

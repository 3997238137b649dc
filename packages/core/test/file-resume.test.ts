/**
 * Resume on virtual time (issue 20): either program is killed mid-transfer (its engine gone, its
 * partial files keeping only what was synced), starts again with the same key, the chat opens
 * again and the sender offers the same files under the same offer id: the receiver accepts with
 * what it holds durably, the sender goes on from there, and at most what was not yet durable (and
 * what was in flight) is sent twice.
 */
import { describe, expect, it } from 'vitest';
import { contentHash } from '../src/index.js';
import { MemoryStorage } from './support/memory-storage.js';
import { FilePeer, filePair } from './support/file-peers.js';
import { randomData } from './support/partial-files.js';
import { eventsOf, type Node, type VirtualNetwork } from './support/virtual-network.js';

const SIZE = 6_000_000;

/** `from` asks `to` to chat; `to` accepts; returns both sessions once each knows the other's features. */
function reconnect(net: VirtualNetwork, from: Node, to: Node) {
  const before = eventsOf(to, 'request').length;
  const session = from.endpoint.connect(to.address, net.now);
  expect(net.run(() => eventsOf(to, 'request').length > before, net.now + 10_000)).toBe(true);
  const request = eventsOf(to, 'request').at(-1);
  to.endpoint.accept(request?.session ?? -1, net.now);
  net.run(() => from.endpoint.session(session)?.peerFeatures?.files === true, net.now + 10_000);
  return { fromSession: session, toSession: request?.session ?? -1 };
}

describe('a transfer interrupted by a killed program', () => {
  for (const killed of ['receiver', 'sender'] as const)
    it(`goes on from what the receiver holds durably when the ${killed} starts again`, () => {
      const pair = filePair({ heartbeatInterval: 1_000 });
      const { net, sa, a, b } = pair;
      let { alice, bob } = pair;
      const data = randomData(SIZE, 11);
      const aliceKey = Buffer.from(a.endpoint.identity.publicKey).toString('hex');
      const first = alice.offer(sa, { 'resume.bin': data });
      const offerId = alice.engine.transfer(first)?.offerId ?? '';
      bob.acceptNextWithHeld(aliceKey);
      expect(net.run(() => (bob.engine.list()[0]?.bytes ?? 0) > SIZE / 2, net.now + 60_000)).toBe(true);

      const readBeforeKill = alice.storage.counts.bytesRead;
      let aNode = a;
      let bNode = b;
      if (killed === 'receiver') {
        bob.kill();
        bNode = net.restart(b, { streams: true, files: true, heartbeatInterval: 1_000 });
        bob = new FilePeer(net, bNode, bob.storage);
      } else {
        alice.kill();
        aNode = net.restart(a, { streams: true, files: true, heartbeatInterval: 1_000 });
        const sources = new MemoryStorage(net);
        alice = new FilePeer(net, aNode, sources);
      }
      const syncedAtKill = bob.storage.held(aliceKey, contentHash(data), SIZE);
      expect(syncedAtKill).toBeGreaterThan(0);
      // The survivor learns the chat ended (the peer is lost or comes back): interrupted, resumable.
      const { fromSession } = reconnect(net, aNode, bNode);
      const survivor = killed === 'receiver' ? alice : bob;
      expect(net.run(() => survivor.of('file_failed').length > 0, net.now + 30_000)).toBe(true);
      expect(survivor.of('file_failed')[0]).toMatchObject({
        reason: 'interrupted',
        resumable: true,
        file: undefined,
      });
      // A sender that lives on may read on until it learns the chat ended, within the credit the
      // receiver had granted before it was killed (its credit may still have been on the way).
      const readAtFail = alice.storage.counts.bytesRead;
      const readOn = readAtFail - (killed === 'receiver' ? readBeforeKill : 0);
      expect(readOn).toBeLessThanOrEqual(4 * 1024 * 1024 + 2 * 256 * 1024);
      // A receiver that lives on makes what it wrote durable as the chat ends; a killed one kept what was synced.
      const durable = bob.storage.held(aliceKey, contentHash(data), SIZE);
      if (killed === 'receiver') expect(durable).toBe(syncedAtKill);
      else expect(durable).toBeGreaterThanOrEqual(syncedAtKill);

      // The same files under the same offer id: the receiver accepts with what it holds.
      const again = alice.offer(fromSession, { 'resume.bin': data }, offerId);
      const received = bob.acceptNextWithHeld(aliceKey);
      expect(bob.of('file_accepted').at(-1)).toMatchObject({ transfer: received, offset: durable });
      const done = () => bob.of('file_done').some((e) => e.transfer === received);
      expect(net.run(done, net.now + 120_000)).toBe(true);
      expect(alice.of('file_accepted').at(-1)).toMatchObject({ transfer: again, offset: durable });
      expect(alice.of('file_started').at(-1)).toMatchObject({ transfer: again, offset: durable });
      expect(Buffer.from(bob.storage.placed.get('resume.bin') ?? []).equals(data)).toBe(true);

      // Sent twice: what the sender had read past the durable part before the chat ended, no more.
      const readAfter = alice.storage.counts.bytesRead - readAtFail;
      expect(readAfter).toBe(SIZE - durable);
      const twice = readBeforeKill - durable;
      // Bounded by the stream's receive window, the chunks read ahead and one sync period.
      expect(twice).toBeLessThanOrEqual(4 * 1024 * 1024 + 2 * 256 * 1024 + bob.storage.syncEvery);
    });
});

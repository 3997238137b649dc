/**
 * A receiving transfer that ends while its last file is being finished (the final fsync, verify
 * and rename still pending on a slow disk), on virtual time. The finish goes on and places the
 * file: the receiver says so (`file_received`, with the path), and when the sender offers the
 * file again (it heard no verdict: an interrupted offer is made again when a chat opens), the
 * receiver accepts it as held whole, the sender reads and sends none of it, and the offer ends
 * verified with the one file in the folder, not a second copy `report.bin (1)`. A cancel while
 * finishing ends the same way for the file: it is in place, and the receiver says so.
 *
 * Failed before the fix: the finish's answer, coming after the transfer ended, was dropped
 * (no `file_received`), its record of the file removed with the partial, and the re-offer
 * received the whole file again beside the first.
 */
import { describe, expect, it } from 'vitest';
import { contentHash } from '../src/index.js';
import { MemoryStorage } from './support/memory-storage.js';
import { FilePeer, filePair } from './support/file-peers.js';
import { randomData } from './support/partial-files.js';
import { eventsOf, type Node, type VirtualNetwork } from './support/virtual-network.js';

const SIZE = 1_500_000;
const OPTIONS = { streams: true, files: true, heartbeatInterval: 1_000 } as const;

/** `from` asks `to` to chat; `to` accepts; returns `from`'s session once it knows `to` takes files. */
function reconnect(net: VirtualNetwork, from: Node, to: Node): number {
  const before = eventsOf(to, 'request').length;
  const session = from.endpoint.connect(to.address, net.now);
  expect(net.run(() => eventsOf(to, 'request').length > before, net.now + 10_000)).toBe(true);
  to.endpoint.accept(eventsOf(to, 'request').at(-1)?.session ?? -1, net.now);
  expect(net.run(() => from.endpoint.session(session)?.peerFeatures?.files === true, net.now + 10_000)).toBe(
    true,
  );
  return session;
}

/** A transfer of one file to bob, stopped with its finish pending on bob's slow disk. */
function finishing() {
  const pair = filePair(OPTIONS);
  const { net, sa, a, bob, alice } = pair;
  bob.storage.finishDelay = 3_000;
  const data = randomData(SIZE, 31);
  const aliceKey = Buffer.from(a.endpoint.identity.publicKey).toString('hex');
  const sent = alice.offer(sa, { 'report.bin': data });
  const offerId = alice.engine.transfer(sent)?.offerId ?? '';
  const received = bob.acceptNextWithHeld(aliceKey);
  expect(net.run(() => bob.storage.pendingFinishes() > 0, net.now + 30_000)).toBe(true);
  expect(bob.engine.transfer(received)?.files[0]?.state).toBe('finishing');
  return { ...pair, data, aliceKey, sent, offerId, received };
}

describe('a transfer interrupted while its file is being finished', () => {
  for (const how of ['the chat closed', 'the program stopping', 'the sender restarted'] as const)
    it(`ends with the file received once, told here, and its re-offer answered at once (${how})`, () => {
      const setup = finishing();
      const { net, a, b, sb, data, aliceKey, offerId, received } = setup;
      let { alice } = setup;
      const bob = setup.bob;
      let aNode = a;
      let session: number | undefined;
      if (how === 'the chat closed') {
        b.endpoint.close(sb, net.now, { linger: false });
        bob.pump();
      } else if (how === 'the program stopping') {
        bob.engine.interruptAll(net.now);
        bob.pump();
      } else {
        alice.kill();
        aNode = net.restart(a, OPTIONS);
        alice = new FilePeer(net, aNode, new MemoryStorage(net));
        // The restarted sender's chat replaces the old one: bob's old chat is found ended.
        session = reconnect(net, aNode, b);
      }
      expect(net.run(() => bob.of('file_failed').length > 0, net.now + 30_000)).toBe(true);
      expect(bob.of('file_failed')).toMatchObject([
        { transfer: received, file: undefined, reason: 'interrupted', resumable: true },
      ]);

      // The finish completes after the interruption: the file is in place, and bob is told.
      expect(net.run(() => bob.storage.pendingFinishes() === 0, net.now + 10_000)).toBe(true);
      bob.pump();
      expect(bob.of('file_received')).toMatchObject([
        { transfer: received, file: 0, path: 'report.bin', size: SIZE, hash: contentHash(data) },
      ]);
      expect(bob.engine.transfer(received)?.files[0]?.state).toBe('verified');
      expect([...bob.storage.placed.keys()]).toEqual(['report.bin']);
      // Bob heard no verdict go, so alice's record of the offer says it is unfinished.
      expect(alice.of('file_sent')).toEqual([]);
      // What bob keeps of it: every byte held (the record of where it was placed).
      expect(bob.storage.held(aliceKey, contentHash(data), SIZE)).toBe(SIZE);

      // The chat opens again (if the interruption left it open, it is closed first) and alice
      // offers the unfinished file again under its id, as FileLink does.
      if (how === 'the program stopping') b.endpoint.close(sb, net.now, { linger: false });
      if (session === undefined) {
        expect(net.run(() => alice.of('file_failed').length > 0, net.now + 30_000)).toBe(true);
        session = reconnect(net, aNode, b);
      }
      if (how === 'the sender restarted') alice.storage.sources.clear();
      const readBefore = alice.storage.counts.bytesRead;
      const again = alice.offer(session, { 'report.bin': data }, offerId);
      const resumed = bob.acceptNextWithHeld(aliceKey);
      expect(bob.of('file_accepted').at(-1)).toMatchObject({ transfer: resumed, offset: SIZE });
      expect(net.run(() => alice.of('file_done').some((e) => e.transfer === again), net.now + 30_000)).toBe(
        true,
      );

      // Sent: the sender marks it so (it stops offering it), having read none of it.
      expect(alice.of('file_sent').at(-1)).toMatchObject({ transfer: again, file: 0, size: SIZE });
      expect(alice.of('file_done').at(-1)).toMatchObject({ transfer: again, verified: 1 });
      expect(alice.storage.counts.bytesRead - readBefore).toBe(0);
      // Received: the path it has, one file in the folder, written once, and no record left.
      expect(bob.of('file_received').at(-1)).toMatchObject({ transfer: resumed, path: 'report.bin' });
      expect([...bob.storage.placed.keys()]).toEqual(['report.bin']);
      expect(Buffer.from(bob.storage.placed.get('report.bin') ?? []).equals(data)).toBe(true);
      expect(bob.storage.counts.finishes).toBe(1);
      expect(bob.storage.counts.bytesWritten).toBe(SIZE);
      expect(bob.storage.partials.size).toBe(0);
    });

  it('comes again whole if the file placed was removed before the re-offer', () => {
    const { net, b, sb, data, aliceKey, offerId, alice, bob, a } = finishing();
    b.endpoint.close(sb, net.now, { linger: false });
    bob.pump();
    expect(net.run(() => bob.storage.pendingFinishes() === 0, net.now + 10_000)).toBe(true);
    bob.pump();
    bob.storage.placed.delete('report.bin');
    expect(bob.storage.held(aliceKey, contentHash(data), SIZE)).toBe(0);
    expect(net.run(() => alice.of('file_failed').length > 0, net.now + 30_000)).toBe(true);
    const session = reconnect(net, a, b);
    const again = alice.offer(session, { 'report.bin': data }, offerId);
    bob.acceptNextWithHeld(aliceKey);
    expect(net.run(() => alice.of('file_done').some((e) => e.transfer === again), net.now + 30_000)).toBe(
      true,
    );
    expect(alice.of('file_sent').at(-1)).toMatchObject({ transfer: again });
    expect([...bob.storage.placed.keys()]).toEqual(['report.bin']);
    expect(Buffer.from(bob.storage.placed.get('report.bin') ?? []).equals(data)).toBe(true);
  });

  for (const by of ['receiver', 'sender'] as const)
    it(`is in place and told when the ${by} cancels while it is being finished`, () => {
      const { net, data, sent, received, alice, bob } = finishing();
      if (by === 'receiver') bob.cancel(received);
      else alice.cancel(sent);
      expect(net.run(() => bob.of('file_cancelled').length > 0, net.now + 10_000)).toBe(true);
      expect(net.run(() => bob.storage.pendingFinishes() === 0, net.now + 10_000)).toBe(true);
      bob.pump();
      expect(bob.of('file_received')).toMatchObject([{ transfer: received, path: 'report.bin' }]);
      expect(Buffer.from(bob.storage.placed.get('report.bin') ?? []).equals(data)).toBe(true);
      // Cancelled: never offered again, so nothing is kept of it but the file.
      expect(bob.storage.partials.size).toBe(0);
    });
});

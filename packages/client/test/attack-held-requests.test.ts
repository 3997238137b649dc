/**
 * The attacker's test for held requests (request-admission.ts): a stranger whom `netchat --yes`
 * (capacity 1, acceptAll) let in keeps its chat open and asks again with the same key from 40
 * addresses of 40 hosts (past core's 32 requests a host), as a program restarted on a new port
 * would. Each such request is held while the old chat is probed; the probe is answered (the
 * stranger's chat lives), so without a bound every one of them sat in the victim's core and
 * client for 10 s, to be asked again whenever the stranger's chat ended. Measured: requests held,
 * how long the askers wait for their answer, the bytes the victim sends and receives.
 * Real Endpoints on virtual time.
 */
import { Endpoint } from '@netchat/core';
import { settle, VirtualNetwork, VirtualPeer } from '@netchat/testkit';
import { describe, expect, it } from 'vitest';
import type { ChatClient, Conversation } from '../src/index.js';
import { HOLD_REQUEST_MS } from '../src/request-admission.js';
import { clientOn } from './support/client-on.js';

const ASKERS = 40;

/** `asker` asks `to`, a --yes peer: the chat opens without anyone answering. */
async function openWithYes(net: VirtualNetwork, asker: ChatClient, to: VirtualPeer): Promise<Conversation> {
  const mine = asker.connect(to.address);
  await settle(); // the address look-up
  expect(net.run(() => mine.state === 'open', net.now + 10_000)).toBe(true);
  return mine;
}

describe('a stranger with an open chat asks again with its key from many addresses', () => {
  it('at most one of its requests is held; the others are declined busy at once; the chat and the bytes bounded', async () => {
    const net = new VirtualNetwork();
    const alice = net.add('127.0.0.1', 1111, { nick: 'alice' });
    const mallory = net.add('127.0.0.2', 2222, { nick: 'mallory' });
    const a = clientOn(alice, { capacity: 1, acceptAll: true });
    const m = clientOn(mallory);
    const mine = await openWithYes(net, m.client, alice);

    let bytesIn = 0;
    let bytesOut = 0;
    net.filter = (from, to, data) => {
      if (to.host === alice.address.host && to.port === alice.address.port) bytesIn += data.length;
      if (from.host === alice.address.host && from.port === alice.address.port) bytesOut += data.length;
      return true;
    };

    const asking: Conversation[] = [];
    for (let i = 0; i < ASKERS; i++) {
      const copy = new Endpoint({ nick: 'mallory' }, { identity: mallory.endpoint.identity });
      const station = net.place(new VirtualPeer(net, copy, { host: `127.0.1.${i + 1}`, port: 3000 + i }));
      asking.push(clientOn(station).client.connect(alice.address));
    }
    await settle();
    const start = net.now;
    // Every handshake and request is in, every probe of the stranger's chat answered.
    net.run(() => asking.filter((c) => c.state === 'ended').length >= ASKERS - 1, start + 2_000);
    const waitingAfter2s = asking.filter((c) => c.state !== 'ended').length;
    const declinedBusy = asking.filter((c) => c.ended?.kind === 'declined' && c.ended.reason === 'busy');
    net.run(() => asking.every((c) => c.state === 'ended'), start + HOLD_REQUEST_MS + 5_000);
    console.log(
      `${ASKERS} requests with the key of an open chat: ${waitingAfter2s} still waiting after 2 s, ` +
        `${declinedBusy.length} declined busy by then; alice received ${bytesIn} B, sent ${bytesOut} B ` +
        `(${(bytesOut / bytesIn).toFixed(2)} a byte)`,
    );

    // One held (the newest: a restarted program's), the rest answered busy within the 2 s.
    expect(waitingAfter2s).toBeLessThanOrEqual(1);
    expect(declinedBusy.length).toBeGreaterThanOrEqual(ASKERS - 1);
    expect(asking.every((c) => c.state === 'ended')).toBe(true);
    // The stranger's own chat goes on; alice let nobody else in.
    expect(mine.state).toBe('open');
    expect(a.updates.filter((u) => u.type === 'opened')).toHaveLength(1);
    // Alice sends no more than she is sent (handshakes, declines, probes).
    expect(bytesOut).toBeLessThanOrEqual(bytesIn);
  });

  it('a request held for a key is replaced by a newer one from that key; the newer is let in when the chat ends', async () => {
    const net = new VirtualNetwork();
    const alice = net.add('127.0.0.1', 1111, { nick: 'alice' });
    const bob = net.add('127.0.0.2', 2222, { nick: 'bob' });
    clientOn(alice, { capacity: 1, acceptAll: true });
    const b = clientOn(bob);
    const mine = await openWithYes(net, b.client, alice);
    const copies = [0, 1].map((i) => {
      const copy = new Endpoint({ nick: 'bob' }, { identity: bob.endpoint.identity });
      return clientOn(net.place(new VirtualPeer(net, copy, { host: `127.0.2.${i + 1}`, port: 4000 })));
    });
    const first = copies[0]?.client.connect(alice.address);
    await settle();
    net.runFor(500);
    const second = copies[1]?.client.connect(alice.address);
    await settle();
    net.runFor(500);
    expect(first?.ended).toEqual({ kind: 'declined', reason: 'busy', detail: 'in another chat' });
    expect(second?.state).toBe('connecting');
    // The old chat ends (bob closes it): the one held is let in.
    b.client.close(mine);
    net.run(() => second?.state === 'open', net.now + 5_000);
    expect(second?.state).toBe('open');
  });

  it("a stranger with the friend's nick (another key) while the friend's chat is open: declined busy at once, never held", async () => {
    const net = new VirtualNetwork();
    const alice = net.add('127.0.0.1', 1111, { nick: 'alice' });
    const bob = net.add('127.0.0.2', 2222, { nick: 'bob' });
    const a = clientOn(alice, { capacity: 1, acceptAll: true });
    const b = clientOn(bob);
    const mine = await openWithYes(net, b.client, alice);
    const mallory = clientOn(net.add('127.0.0.9', 2222, { nick: 'bob' }));
    const asking = mallory.client.connect(alice.address);
    await settle();
    const start = net.now;
    net.run(() => asking.state === 'ended', start + 2_000);
    expect(asking.ended).toEqual({ kind: 'declined', reason: 'busy', detail: 'in another chat' });
    // Bob's chat ends: nothing of mallory's was kept to be let in on it.
    b.client.close(mine);
    net.run(() => false, net.now + HOLD_REQUEST_MS);
    expect(a.updates.filter((u) => u.type === 'opened')).toHaveLength(1);
  });
});

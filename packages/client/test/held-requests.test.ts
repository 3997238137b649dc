/**
 * A peer that crashed and came back on another port asks again while we still hold its old chat:
 * the line client (capacity 1) must not decline it as busy with itself. Real Endpoints on virtual time.
 */
import { Endpoint } from '@netchat/core';
import { settle, VirtualNetwork, VirtualPeer } from '@netchat/testkit';
import { describe, expect, it } from 'vitest';
import { type ClientSettings, texts } from '../src/index.js';
import { HOLD_REQUEST_MS } from '../src/request-admission.js';
import { clientOn } from './support/client-on.js';
import { openChat } from './support/open-chat.js';

/** Bob's program is killed (its address answers nothing) and starts again with the same key on `port`. */
function restartElsewhere(net: VirtualNetwork, bob: VirtualPeer, port: number): VirtualPeer {
  net.unplace(bob.address);
  const endpoint = new Endpoint({ nick: 'bob' }, { identity: bob.endpoint.identity });
  return net.place(new VirtualPeer(net, endpoint, { host: bob.address.host, port }));
}

async function chatThenCrash(aliceSettings: ClientSettings) {
  const net = new VirtualNetwork();
  const alice = net.add('127.0.0.1', 1111, { nick: 'alice' });
  const bob = net.add('127.0.0.2', 2222, { nick: 'bob' });
  const a = clientOn(alice, aliceSettings);
  const b = clientOn(bob);
  const { mine } = await openChat(net, a.client, b.client, bob.address);
  const bob2 = clientOn(restartElsewhere(net, bob, 2223));
  const asking = bob2.client.connect(alice.address);
  await settle();
  return { net, a, mine, asking };
}

describe('a request from the key of a chat still open, from another address', () => {
  it('waits while the old chat is probed, and is asked once that chat is lost (not declined busy)', async () => {
    const { net, a, mine, asking } = await chatThenCrash({ capacity: 1 });
    net.run(() => a.client.requests.size > 0 || asking.state === 'ended', 30_000);
    expect(asking.ended).toBeUndefined();
    expect(mine.ended).toEqual({ kind: 'lost', missed: 0 });
    expect(a.types().filter((t) => t !== 'heartbeat_sent')).toEqual(['opened', 'ended', 'request']);
    const request = a.client.requests.first();
    expect(request && texts.requestNotices(request).map((n) => n.text)[0]).toBe(
      'Connection request from: 127.0.0.2 2223',
    );
    if (request) a.client.accept(request);
    net.run(() => asking.state === 'open', 10_000);
    expect(asking.state).toBe('open');
  });

  it('is let in at once by acceptAll once the old chat ended', async () => {
    const { net, a, asking } = await chatThenCrash({ capacity: 1, acceptAll: true });
    net.run(() => asking.state !== 'connecting', 30_000);
    expect(asking.state).toBe('open');
    expect(a.types().filter((t) => t === 'opened')).toHaveLength(2);
  });

  it('is declined busy after HOLD_REQUEST_MS when the old chat goes on (the same key on a second device)', async () => {
    const net = new VirtualNetwork();
    const alice = net.add('127.0.0.1', 1111, { nick: 'alice' });
    const bob = net.add('127.0.0.2', 2222, { nick: 'bob' });
    const a = clientOn(alice, { capacity: 1 });
    const b = clientOn(bob);
    const { mine } = await openChat(net, a.client, b.client, bob.address);
    const laptop = new Endpoint({ nick: 'bob' }, { identity: bob.endpoint.identity });
    const second = clientOn(net.place(new VirtualPeer(net, laptop, { host: '127.0.0.3', port: 2222 })));
    const asking = second.client.connect(alice.address);
    await settle();
    const start = net.now;
    net.run(() => asking.state === 'ended', 60_000);
    expect(asking.ended).toEqual({ kind: 'declined', reason: 'busy', detail: 'in another chat' });
    expect(net.now - start).toBeGreaterThanOrEqual(HOLD_REQUEST_MS);
    expect(mine.state).toBe('open');
    expect(a.updates.filter((u) => u.type === 'request_refused')).toHaveLength(1);
  });

  it('held, then withdrawn by its sender: forgotten, never asked nor declined', async () => {
    const net = new VirtualNetwork();
    const alice = net.add('127.0.0.1', 1111, { nick: 'alice' });
    const bob = net.add('127.0.0.2', 2222, { nick: 'bob' });
    const a = clientOn(alice, { capacity: 1 });
    const b = clientOn(bob);
    await openChat(net, a.client, b.client, bob.address);
    const laptop = new Endpoint({ nick: 'bob' }, { identity: bob.endpoint.identity });
    const second = clientOn(net.place(new VirtualPeer(net, laptop, { host: '127.0.0.3', port: 2222 })));
    const asking = second.client.connect(alice.address);
    await settle();
    net.run(() => asking.session !== undefined, 10_000);
    net.run(() => false, 1_000);
    second.client.cancel(asking);
    net.run(() => false, HOLD_REQUEST_MS * 2);
    expect(a.types().filter((t) => t.startsWith('request'))).toEqual([]);
  });
});

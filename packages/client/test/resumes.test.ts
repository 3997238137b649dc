/**
 * A chat with a peer who comes back says which ended chat it continues (`opened.resumes`): the
 * latest one with the same key that had opened, once; never one with another key (a different
 * peer at the same address), never a request that came to nothing. On real Endpoints and virtual
 * time.
 */
import { settle, VirtualNetwork, type VirtualPeer } from '@netchat/testkit';
import { describe, expect, it } from 'vitest';
import { ChatClient, type ClientUpdate } from '../src/index.js';
import { openChat } from './support/open-chat.js';

function clientOn(peer: VirtualPeer) {
  const client = new ChatClient(peer, peer.knownPeers, { clock: () => peer.net.now, oneChatPerPeer: true });
  const opened: Extract<ClientUpdate, { type: 'opened' }>[] = [];
  client.subscribe((u) => {
    if (u.type === 'opened') opened.push(u);
  });
  peer.onEvent((e) => client.handle(e));
  return { client, opened };
}

/** Alice and Bob on one virtual network, each with a chat client. */
function aliceAndBob() {
  const net = new VirtualNetwork();
  const alice = net.add('127.0.0.1', 1111, { nick: 'alice' });
  const bob = net.add('127.0.0.2', 2222, { nick: 'bob' });
  return { net, alice, bob, a: clientOn(alice), b: clientOn(bob) };
}

describe('opened.resumes', () => {
  it('names the ended chat with the same key, both ways, once', async () => {
    const { net, alice, bob, a, b } = aliceAndBob();
    const first = await openChat(net, a.client, b.client, bob.address);
    expect(a.opened[0]?.resumes).toBeUndefined();
    expect(b.opened[0]?.resumes).toBeUndefined();
    a.client.close(first.mine);
    expect(net.run(() => first.theirs.state === 'ended', 10_000)).toBe(true);
    // Bob asks this time: each side's new chat continues its ended one.
    const again = await openChat(net, b.client, a.client, alice.address);
    expect(a.opened[1]?.conversation).toBe(again.theirs);
    expect(a.opened[1]?.resumes).toBe(first.mine);
    expect(b.opened[1]?.resumes).toBe(first.theirs);
    // Taken once: a third chat continues the second, not the first.
    b.client.close(again.mine);
    expect(net.run(() => again.theirs.state === 'ended', 10_000)).toBe(true);
    await openChat(net, a.client, b.client, bob.address);
    expect(a.opened[2]?.resumes).toBe(again.theirs);
  });

  it('a different key at the same address continues nothing; nor does a request that came to nothing', async () => {
    const { net, bob, a, b } = aliceAndBob();
    const first = await openChat(net, a.client, b.client, bob.address);
    a.client.close(first.mine);
    expect(net.run(() => first.theirs.state === 'ended', 10_000)).toBe(true);
    // Bob's program is replaced by another key at the same address.
    const other = net.add('127.0.0.2', 2222, { nick: 'bob' });
    const c = clientOn(other);
    const second = await openChat(net, a.client, c.client, other.address);
    expect(a.opened[1]?.conversation).toBe(second.mine);
    expect(a.opened[1]?.resumes).toBeUndefined();
    // A request declined was never a chat: nothing to continue from it.
    a.client.close(second.mine);
    expect(net.run(() => second.theirs.state === 'ended', 10_000)).toBe(true);
    const refused = a.client.connect(other.address);
    await settle();
    expect(net.run(() => c.client.requests.size > 0, 10_000)).toBe(true);
    c.client.decline(c.client.requests.first() as never);
    expect(net.run(() => refused.state === 'ended', 10_000)).toBe(true);
    const third = await openChat(net, a.client, c.client, other.address);
    expect(a.opened.at(-1)?.conversation).toBe(third.mine);
    expect(a.opened.at(-1)?.resumes).toBe(second.mine);
  });
});

/** A key the user verified (netchat contacts verify): said in its requests, and a new key using its nick is refused. */
import { fingerprint } from '@netchat/core';
import { settle, VirtualNetwork } from '@netchat/testkit';
import { describe, expect, it } from 'vitest';
import { ChatClient, type ClientUpdate, matchContacts, texts } from '../src/index.js';
import { openChat } from './support/open-chat.js';

function setUp() {
  const net = new VirtualNetwork();
  const alice = net.add('127.0.0.1', 1111, { nick: 'alice' });
  const bob = net.add('127.0.0.2', 2222, { nick: 'bob' });
  // Someone else, with another key, calling itself bob.
  const impostor = net.add('127.0.0.3', 3333, { nick: 'bob' });
  const clientOf = (peer: typeof alice) => {
    const client = new ChatClient(peer, peer.knownPeers, { clock: () => net.now });
    const updates: ClientUpdate[] = [];
    client.subscribe((u) => updates.push(u));
    peer.onEvent((e) => client.handle(e));
    return { client, updates };
  };
  return { net, alice, bob, impostor, a: clientOf(alice), b: clientOf(bob), i: clientOf(impostor) };
}

const hex = (key: Uint8Array) => Buffer.from(key).toString('hex');

describe('verified keys', () => {
  it("a verified peer's request says so", async () => {
    const { net, alice, bob, a, b } = setUp();
    const { mine } = await openChat(net, a.client, b.client, bob.address);
    a.client.close(mine);
    alice.knownPeers.verify(hex(bob.endpoint.identity.publicKey));
    b.client.connect(alice.address);
    await settle();
    expect(net.run(() => a.client.requests.size > 0, 10_000)).toBe(true);
    const request = a.client.requests.first();
    expect(request?.trust).toMatchObject({ level: 'known', verified: true });
    expect(texts.requestNotices(request as NonNullable<typeof request>).map((n) => n.text)).toContain(
      `Fingerprint: ${fingerprint(bob.endpoint.identity.publicKey)} (known as bob, verified)`,
    );
  });

  it('a new key with the nick of a verified peer is refused at once, with what to do if the key really changed', async () => {
    const { net, alice, bob, impostor, a, b, i } = setUp();
    const { mine } = await openChat(net, a.client, b.client, bob.address);
    a.client.close(mine);
    alice.knownPeers.verify(hex(bob.endpoint.identity.publicKey));
    const theirs = i.client.connect(alice.address);
    await settle();
    expect(net.run(() => theirs.state === 'ended', 10_000)).toBe(true);
    expect(theirs.ended).toMatchObject({ kind: 'declined', reason: 'not_allowed' });
    expect(a.client.requests.size).toBe(0);
    const refused = a.updates.find((u) => u.type === 'request_refused');
    if (refused?.type !== 'request_refused') throw new Error('not refused');
    const bobPrint = fingerprint(bob.endpoint.identity.publicKey);
    const impostorPrint = fingerprint(impostor.endpoint.identity.publicKey);
    expect(texts.refusedText(refused.request)).toBe(
      `Refused a connection request from 127.0.0.3 3333: it calls itself "bob", but the key of the bob you verified is ${bobPrint}, and this key is ${impostorPrint}. If bob really has a new key, run: netchat contacts forget bob`,
    );
    // Asked by address, it is not opened either.
    const asked = a.client.connect(impostor.address);
    i.client.subscribe((u) => {
      if (u.type === 'request') i.client.accept(u.request);
    });
    await settle();
    expect(net.run(() => asked.state === 'ended', 10_000)).toBe(true);
    expect(asked.ended).toEqual({ kind: 'wrong_key', expected: bobPrint, got: impostorPrint, nick: 'bob' });
    expect(texts.endedNotice(asked).text).toMatch(
      /; if bob really has a new key, run: netchat contacts forget bob\.$/,
    );
    expect(alice.knownPeers.check(hex(impostor.endpoint.identity.publicKey), '').status).toBe('new');
  });

  it('a verified peer the person renamed keeps its own nick: a new key using it is still refused, and `forget` by it works', async () => {
    const { net, alice, bob, impostor, a, b, i } = setUp();
    const { mine } = await openChat(net, a.client, b.client, bob.address);
    a.client.close(mine);
    const bobKey = hex(bob.endpoint.identity.publicKey);
    alice.knownPeers.verify(bobKey);
    alice.knownPeers.rename(bobKey, 'Robert at work');
    const theirs = i.client.connect(alice.address);
    await settle();
    expect(net.run(() => theirs.state === 'ended', 10_000)).toBe(true);
    expect(theirs.ended).toMatchObject({ kind: 'declined', reason: 'not_allowed' });
    const refused = a.updates.find((u) => u.type === 'request_refused');
    if (refused?.type !== 'request_refused') throw new Error('not refused');
    expect(texts.refusedText(refused.request)).toMatch(/run: netchat contacts forget bob$/);
    // "bob" still names the renamed peer (after any name the person gave).
    expect(matchContacts(alice.knownPeers.list(), 'bob').map((c) => c.publicKey)).toEqual([bobKey]);
    expect(alice.knownPeers.check(hex(impostor.endpoint.identity.publicKey), 'bob')).toMatchObject({
      status: 'nick_conflict',
      verified: true,
    });
  });

  it('the command it suggests is one a shell takes, whatever the nick', () => {
    expect(texts.shellWord('bob')).toBe('bob');
    expect(texts.shellWord('Zoë')).toBe('Zoë');
    expect(texts.shellWord('carol smith')).toBe("'carol smith'");
    expect(texts.shellWord("o'hara $(x)")).toBe("'o'\\''hara $(x)'");
    expect(texts.shellWord('-rf')).toBe("'-rf'");
    const refusal = (nick: string) =>
      texts.refusedText({
        peer: { host: '127.0.0.3', port: 3333 },
        nick,
        trust: { level: 'impersonation', verified: true, fingerprint: 'F', nick, knownFingerprint: 'K' },
      } as Parameters<typeof texts.refusedText>[0]);
    expect(refusal('carol smith')).toMatch(/run: netchat contacts forget 'carol smith'$/);
    expect(refusal('-rf')).toMatch(/run: netchat contacts forget -- '-rf'$/);
  });
});

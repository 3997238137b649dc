/** Naming a peer by fingerprint or known nick, and a conversation that finds its peer through a rendezvous. */
import { type Address, fingerprint, generateKeyPair } from '@netchat/core';
import { settle, VirtualNetwork } from '@netchat/testkit';
import { describe, expect, it } from 'vitest';
import {
  ChatClient,
  type ClientUpdate,
  type Contact,
  isNamedTarget,
  resolveTarget,
  sameAddress,
  texts,
  withFinder,
} from '../src/index.js';

const known = fingerprint(generateKeyPair().publicKey);
const own = fingerprint(generateKeyPair().publicKey);
const carol = fingerprint(generateKeyPair().publicKey);
const seen: Contact[] = [
  { nick: 'bob', fingerprint: known, lastAddress: { host: '127.0.0.2', port: 2222 } },
  { nick: 'carol', fingerprint: carol },
];

describe('resolveTarget: one meaning for a name', () => {
  const context = (rendezvous: boolean) => ({ contacts: seen, rendezvous, ownFingerprint: own });

  it('an address is an address, with or without a rendezvous', () => {
    expect(resolveTarget(' localhost 6666 ', context(true))).toEqual({
      ok: true,
      target: { kind: 'address', spec: { host: 'localhost', port: 6666 } },
    });
  });

  it('the request going out names a peer known by its key with its nick, by the rendezvous or at its address', () => {
    const by = (name: string, rendezvous: boolean) => {
      const result = resolveTarget(name, context(rendezvous));
      return result.ok ? texts.connectingText(result.target) : result.problem.message;
    };
    expect(by('BOB', true)).toBe(`Sending connection request to ${known} (bob)...`);
    expect(by(known, false)).toBe('Sending connection request to 127.0.0.2 2222 (bob)...');
    // An address typed is only an address: whoever answers there may hold another key.
    expect(by('127.0.0.2 2222', false)).toBe('Sending connection request to 127.0.0.2 2222...');
  });

  it('a known peer goes through the rendezvous where there is one, else to where it was last seen', () => {
    expect(resolveTarget('bob', context(true))).toEqual({
      ok: true,
      target: {
        kind: 'key',
        spec: { host: known, port: 0 },
        fingerprint: known,
        nick: 'bob',
        via: 'rendezvous',
      },
    });
    for (const name of ['bob', 'BOB', known.toLowerCase(), known.slice(0, 4)])
      expect(resolveTarget(name, context(false))).toEqual({
        ok: true,
        target: {
          kind: 'key',
          spec: { host: '127.0.0.2', port: 2222 },
          fingerprint: known,
          nick: 'bob',
          via: 'last_address',
        },
      });
  });

  it('a fingerprint, in any case and with or without dashes, goes through the rendezvous, known or not', () => {
    const stranger = fingerprint(generateKeyPair().publicKey);
    const result = resolveTarget(stranger.toLowerCase().replaceAll('-', ''), context(true));
    expect(result).toEqual({
      ok: true,
      target: {
        kind: 'key',
        spec: { host: stranger, port: 0 },
        fingerprint: stranger,
        nick: '',
        via: 'rendezvous',
      },
    });
    const spec = result.ok ? result.target.spec : { host: '', port: 1 };
    expect(isNamedTarget(spec)).toBe(true);
    expect(result.ok && texts.connectingText(result.target)).toBe(
      `Sending connection request to ${stranger}...`,
    );
    // Without a rendezvous, a fingerprint never seen at an address cannot be reached.
    expect(resolveTarget(stranger, context(false))).toEqual({
      ok: false,
      problem: {
        code: 'no_route',
        message: 'to reach a fingerprint you need a rendezvous (--rendezvous HOST:PORT); or type "IP Port"',
      },
    });
  });

  it('a known peer never seen at an address, without a rendezvous: a problem that says what to do', () => {
    expect(resolveTarget('carol', context(false))).toEqual({
      ok: false,
      problem: {
        code: 'no_route',
        message: `no address is known for carol (${carol}) yet: connect by "IP Port" once, or use a rendezvous (--rendezvous HOST:PORT)`,
      },
    });
  });

  it('our own fingerprint is named as ours, not sent to the rendezvous', () => {
    const result = resolveTarget(own.replaceAll('-', ''), context(true));
    expect(result).toMatchObject({ ok: false, problem: { code: 'own_key' } });
    expect(result.ok ? '' : result.problem.message).toBe(
      `${own} is your own fingerprint: give the other person's (they see theirs with netchat --fingerprint)`,
    );
  });

  it('a shared nick lists the peers it could mean', () => {
    const twins = [...seen, { nick: 'bob', fingerprint: carol }];
    const result = resolveTarget('bob', { contacts: twins, rendezvous: true });
    expect(result).toMatchObject({
      ok: false,
      problem: { code: 'ambiguous', candidates: [twins[0], twins[2]] },
    });
    expect(result.ok ? '' : result.problem.message).toBe(
      `"bob" is 2 known peers: ${known} at 127.0.0.2 2222, ${carol}; name one by the start of its fingerprint.`,
    );
  });

  it('anything else keeps the address problem, and a lone word says no peer has that name', () => {
    expect(resolveTarget('nobody', context(true))).toEqual({
      ok: false,
      problem: {
        code: 'invalid_address',
        message:
          'invalid address "nobody": expected IP and port, e.g. 127.0.0.1 6666 or [::1]:6666; no known peer is called "nobody" either',
      },
    });
    expect(resolveTarget('256.1.1.1 5', context(true))).toMatchObject({
      ok: false,
      problem: {
        code: 'invalid_address',
        message: expect.stringMatching(/"256.1.1.1" is not an IPv4 address/),
      },
    });
  });

  it('sameAddress ignores case, brackets and the IPv4-in-IPv6 form', () => {
    expect(sameAddress({ host: '[::1]', port: 5 }, { host: '::1', port: 5 })).toBe(true);
    expect(sameAddress({ host: '::FFFF:10.0.0.1', port: 5 }, { host: '10.0.0.1', port: 5 })).toBe(true);
    expect(sameAddress({ host: '10.0.0.1', port: 5 }, { host: '10.0.0.1', port: 6 })).toBe(false);
  });
});

describe('ChatClient: one chat per peer, and the key asked for', () => {
  function setUp() {
    const net = new VirtualNetwork();
    const alice = net.add('127.0.0.1', 1111, { nick: 'alice' });
    const bob = net.add('127.0.0.2', 2222, { nick: 'bob' });
    const mallory = net.add('127.0.0.3', 3333, { nick: '' });
    const client = new ChatClient(alice, alice.knownPeers, { clock: () => net.now, oneChatPerPeer: true });
    const updates: ClientUpdate[] = [];
    client.subscribe((u) => updates.push(u));
    alice.onEvent((e) => client.handle(e));
    const bobClient = new ChatClient(bob, bob.knownPeers, { clock: () => net.now, acceptAll: true });
    bob.onEvent((e) => bobClient.handle(e));
    const malloryClient = new ChatClient(mallory, mallory.knownPeers, {
      clock: () => net.now,
      acceptAll: true,
    });
    mallory.onEvent((e) => malloryClient.handle(e));
    return { net, bob, mallory, client, updates };
  }

  it('a second connect to a peer already in a chat ends as `duplicate` with the existing conversation, typed differently or not', async () => {
    const { net, client } = setUp();
    const first = client.connect({ host: '127.0.0.2', port: 2222 });
    await settle();
    expect(net.run(() => first.state === 'open', 10_000)).toBe(true);
    for (const typed of [
      { host: '127.0.0.2', port: 2222 },
      { host: '::ffff:127.0.0.2', port: 2222 },
    ]) {
      const again = client.connect(typed);
      await settle();
      expect(again.ended).toEqual({ kind: 'duplicate', existing: first });
      expect(texts.endedNotice(again).text).toBe('Already chatting with 127.0.0.2 2222 (bob).');
    }
    // By key too: the fingerprint of the peer already open.
    const byKey = client.connect({
      kind: 'key',
      spec: { host: '10.9.9.9', port: 9 },
      fingerprint: first.trust?.fingerprint ?? '',
      nick: 'bob',
      via: 'last_address',
    });
    await settle();
    expect(byKey.ended).toEqual({ kind: 'duplicate', existing: first });
    expect(client.conversations).toEqual([first]);
  });

  it('a peer asked for by key that answers with another key is closed at once, named, and not remembered', async () => {
    const { net, bob, mallory, client } = setUp();
    const bobFingerprint = fingerprint(bob.endpoint.identity.publicKey);
    // bob's last address is mallory's now.
    const conversation = client.connect({
      kind: 'key',
      spec: mallory.address,
      fingerprint: bobFingerprint,
      nick: 'bob',
      via: 'last_address',
    });
    await settle();
    expect(net.run(() => conversation.state === 'ended', 10_000)).toBe(true);
    const malloryFingerprint = fingerprint(mallory.endpoint.identity.publicKey);
    expect(conversation.ended).toEqual({
      kind: 'wrong_key',
      expected: bobFingerprint,
      got: malloryFingerprint,
      nick: 'bob',
    });
    expect(texts.endedNotice(conversation)).toEqual({
      warning: true,
      text: `Not opened: the peer at 127.0.0.3 3333 has the key ${malloryFingerprint}, not the key of bob (${bobFingerprint}). It may be someone else; to chat with it anyway, type its address.`,
    });
    expect(client.conversations).toEqual([]);
    net.runFor(5_000);
    expect(mallory.events.filter((e) => e.type === 'closed')).toHaveLength(1);
  });
});

describe('ChatClient with a rendezvous', () => {
  function setUp(find: (fingerprint: string) => Promise<Address>) {
    const net = new VirtualNetwork();
    const alice = net.add('127.0.0.1', 1111, { nick: 'alice' });
    const bob = net.add('127.0.0.2', 2222, { nick: 'bob' });
    const client = new ChatClient(withFinder(alice, find), alice.knownPeers, { clock: () => net.now });
    const updates: ClientUpdate[] = [];
    client.subscribe((u) => updates.push(u));
    alice.onEvent((e) => client.handle(e));
    const bobClient = new ChatClient(bob, bob.knownPeers, { clock: () => net.now });
    bob.onEvent((e) => bobClient.handle(e));
    return { net, alice, bob, client, bobClient, updates };
  }

  it('finds the peer by fingerprint, then connects to the address the rendezvous gave', async () => {
    const asked: string[] = [];
    const { net, bob, client, bobClient } = setUp(async (fp) => {
      asked.push(fp);
      return bob.address;
    });
    const conversation = client.connect({ host: known, port: 0 });
    await settle();
    await settle();
    expect(asked).toEqual([known]);
    expect(net.run(() => bobClient.requests.size > 0, 10_000)).toBe(true);
    bobClient.accept(bobClient.requests.first() as NonNullable<ReturnType<typeof bobClient.requests.first>>);
    expect(net.run(() => conversation.state === 'open', 10_000)).toBe(true);
    expect(conversation.peer).toEqual(bob.address);
  });

  it('a request by fingerprint that is declined names the nick, or the fingerprint, not only the address', async () => {
    let bobAddress: Address = { host: '', port: 0 };
    const { net, bob, client, bobClient } = setUp(async () => bobAddress);
    bobAddress = bob.address;
    const bobFingerprint = fingerprint(bob.endpoint.identity.publicKey);
    const conversation = client.connect({
      kind: 'key',
      spec: { host: bobFingerprint, port: 0 },
      fingerprint: bobFingerprint,
      nick: '',
      via: 'rendezvous',
    });
    await settle();
    await settle();
    expect(net.run(() => bobClient.requests.size > 0, 10_000)).toBe(true);
    bobClient.decline(bobClient.requests.first() as NonNullable<ReturnType<typeof bobClient.requests.first>>);
    expect(net.run(() => conversation.state === 'ended', 10_000)).toBe(true);
    expect(texts.endedNotice(conversation).text).toBe(
      `Connection declined by 127.0.0.2 2222 (${bobFingerprint}).`,
    );
  });

  it("ends the conversation as unreachable with the rendezvous's reason", async () => {
    const { client, updates } = setUp(async () => {
      throw new Error('cannot find the peer: the rendezvous did not answer');
    });
    const conversation = client.connect({ host: known, port: 0 });
    await settle();
    await settle();
    expect(conversation.state).toBe('ended');
    expect(conversation.ended).toEqual({
      kind: 'unreachable',
      message: 'cannot find the peer: the rendezvous did not answer',
    });
    expect(updates.some((u) => u.type === 'ended')).toBe(true);
  });
});

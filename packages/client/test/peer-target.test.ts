/** Naming a peer by fingerprint or known nick, and a conversation that finds its peer through a rendezvous. */
import { type Address, fingerprint, generateKeyPair } from '@netchat/core';
import { settle, VirtualNetwork } from '@netchat/testkit';
import { describe, expect, it } from 'vitest';
import {
  ChatClient,
  type ClientUpdate,
  isNamedTarget,
  parseTarget,
  texts,
  withFinder,
} from '../src/index.js';

const known = fingerprint(generateKeyPair().publicKey);
const contacts = [{ nick: 'bob', fingerprint: known }];

describe('parseTarget', () => {
  it('takes addresses as before, whatever the rendezvous', () => {
    expect(parseTarget('127.0.0.1 6666', contacts, false)).toEqual({ host: '127.0.0.1', port: 6666 });
    expect(parseTarget('[::1]:6666', contacts, true)).toEqual({ host: '::1', port: 6666 });
  });

  it('takes a fingerprint, as typed in any case and with or without dashes, when a rendezvous is set', () => {
    const target = parseTarget(known.toLowerCase().replaceAll('-', ''), [], true);
    expect(target).toEqual({ host: known, port: 0 });
    expect(isNamedTarget(target)).toBe(true);
    expect(texts.connectingText(target)).toBe(`Sending connection request to ${known}...`);
  });

  it("takes a known nick as that peer's fingerprint", () => {
    expect(parseTarget('bob', contacts, true)).toEqual({ host: known, port: 0 });
  });

  it('says a rendezvous is needed for a fingerprint or nick without one', () => {
    expect(() => parseTarget(known, contacts, false)).toThrow(/need a rendezvous \(--rendezvous HOST:PORT\)/);
    expect(() => parseTarget('bob', contacts, false)).toThrow(/to reach "bob" you need a rendezvous/);
  });

  it('keeps the address error for anything else', () => {
    expect(() => parseTarget('hello', contacts, true)).toThrow(/port/i);
    expect(() => parseTarget('alice', contacts, true)).toThrow();
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

/** Contacts: known peers with their last address and time, and finding one by nick for /connect NICK. */
import { KnownPeers } from '@netchat/core';
import { describe, expect, it } from 'vitest';
import { ChatClient, ContactError, findContact, matchContacts, texts } from '../src/index.js';
import { openChat } from './support/open-chat.js';
import { VirtualNetwork } from '@netchat/testkit';

const key = (byte: string) => byte.repeat(32);

function contacts() {
  const peers = KnownPeers.inMemory();
  peers.remember(key('a1'), 'alice', 'AAAA-BBBB-CCCC-DDDD', {
    address: { host: '127.0.0.1', port: 7001 },
    at: new Date('2026-11-24T09:00:00Z'),
  });
  peers.remember(key('b1'), 'netchat-bot', 'BOTA-AAAA-AAAA-AAAA', {
    address: { host: '::1', port: 7002 },
    at: new Date('2026-11-24T10:00:00Z'),
  });
  peers.remember(key('b2'), 'netchat-bot', 'BOTB-BBBB-BBBB-BBBB', {
    address: { host: '10.0.0.2', port: 7003 },
    at: new Date('2026-11-20T10:00:00Z'),
  });
  peers.remember(key('c1'), 'carol', 'CCCC-DDDD-EEEE-FFFF', { at: new Date('2026-11-01T10:00:00Z') });
  return peers.list();
}

describe('contacts', () => {
  it('lists every known peer, the most recently seen first, one line each', () => {
    expect(contacts().map(texts.contactText)).toEqual([
      'netchat-bot  BOTA-AAAA-AAAA-AAAA  ::1 7002  last seen 2026-11-24 10:00 UTC',
      'alice  AAAA-BBBB-CCCC-DDDD  127.0.0.1 7001  last seen 2026-11-24 09:00 UTC',
      'netchat-bot  BOTB-BBBB-BBBB-BBBB  10.0.0.2 7003  last seen 2026-11-20 10:00 UTC',
      'carol  CCCC-DDDD-EEEE-FFFF  no address yet  last seen 2026-11-01 10:00 UTC',
    ]);
  });

  it('finds a peer by nick (any case) with its last address', () => {
    expect(findContact(contacts(), 'alice')).toMatchObject({
      fingerprint: 'AAAA-BBBB-CCCC-DDDD',
      lastAddress: { host: '127.0.0.1', port: 7001 },
    });
    expect(findContact(contacts(), 'ALICE').nick).toBe('alice');
  });

  it('refuses an ambiguous nick, listing the fingerprints, and takes the start of a fingerprint instead', () => {
    let error: unknown;
    try {
      findContact(contacts(), 'netchat-bot');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ContactError);
    expect(error).toMatchObject({ code: 'AMBIGUOUS_CONTACT' });
    expect((error as ContactError).message).toBe(
      '"netchat-bot" is 2 known peers: BOTA-AAAA-AAAA-AAAA at [::1]:7002, BOTB-BBBB-BBBB-BBBB at 10.0.0.2:7003; name one by the start of its fingerprint.',
    );
    expect((error as ContactError).candidates.map((c) => c.fingerprint)).toEqual([
      'BOTA-AAAA-AAAA-AAAA',
      'BOTB-BBBB-BBBB-BBBB',
    ]);
    expect(findContact(contacts(), 'botb').lastAddress).toEqual({ host: '10.0.0.2', port: 7003 });
    expect(findContact(contacts(), 'BOTA-AAAA').nick).toBe('netchat-bot');
    expect(matchContacts(contacts(), 'BOT')).toEqual([]); // too short to be a fingerprint
  });

  it('says clearly when no one has that nick, or no address is known', () => {
    expect(() => findContact(contacts(), 'dave')).toThrow(
      expect.objectContaining({
        code: 'NO_SUCH_CONTACT',
        message: 'No known peer is called "dave" (see /contacts).',
      }),
    );
    expect(() => findContact(contacts(), 'carol')).toThrow(
      expect.objectContaining({
        code: 'NO_KNOWN_ADDRESS',
        message: 'No address is known for carol yet: connect by address once.',
      }),
    );
    expect(() => findContact(contacts(), 'evil\u001b[2J')).toThrow('No known peer is called "evil');
    expect(() => findContact(contacts(), '')).toThrow(expect.objectContaining({ code: 'NO_SUCH_CONTACT' }));
  });

  it('records the address and time a chat opened, so the contact can be dialled again', async () => {
    const net = new VirtualNetwork();
    const alice = net.add('127.0.0.1', 1111, { nick: 'alice' });
    const bob = net.add('127.0.0.2', 2222, { nick: 'bob' });
    const a = new ChatClient(alice, alice.knownPeers, { clock: () => net.now });
    const b = new ChatClient(bob, bob.knownPeers, { clock: () => net.now });
    alice.onEvent((e) => a.handle(e));
    bob.onEvent((e) => b.handle(e));
    const { mine } = await openChat(net, a, b, bob.address);
    const found = findContact(alice.knownPeers.list(), 'bob');
    expect(found.lastAddress).toEqual({ host: '127.0.0.2', port: 2222 });
    expect(found.fingerprint).toBe(mine.trust?.fingerprint);
    expect(Date.parse(found.lastSeen ?? '')).toBeGreaterThan(Date.UTC(2026, 0, 1));
    expect(findContact(bob.knownPeers.list(), 'alice').lastAddress).toEqual({
      host: '127.0.0.1',
      port: 1111,
    });
  });
});

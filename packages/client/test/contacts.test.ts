/** Contacts: known peers with their last address and time, and the peers a name means (resolveTarget's look-up). */
import { KnownPeers } from '@netchat/core';
import { describe, expect, it } from 'vitest';
import { ChatClient, matchContacts, texts } from '../src/index.js';
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

  it('a name means the peers with that nick (exact, else in any case), or whose fingerprint starts with it', () => {
    const fingerprints = (name: string) => matchContacts(contacts(), name).map((c) => c.fingerprint);
    expect(fingerprints('alice')).toEqual(['AAAA-BBBB-CCCC-DDDD']);
    expect(fingerprints('ALICE')).toEqual(['AAAA-BBBB-CCCC-DDDD']);
    // A shared nick: both (resolveTarget then asks for the fingerprint).
    expect(fingerprints('netchat-bot')).toEqual(['BOTA-AAAA-AAAA-AAAA', 'BOTB-BBBB-BBBB-BBBB']);
    expect(fingerprints('botb')).toEqual(['BOTB-BBBB-BBBB-BBBB']);
    expect(fingerprints('BOTA-AAAA')).toEqual(['BOTA-AAAA-AAAA-AAAA']);
    expect(fingerprints('BOT')).toEqual([]); // too short to be a fingerprint
    expect(fingerprints('dave')).toEqual([]);
    expect(fingerprints('evil\u001b[2J')).toEqual([]);
    expect(fingerprints('')).toEqual([]);
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
    const [found, ...others] = matchContacts(alice.knownPeers.list(), 'bob');
    expect(others).toEqual([]);
    expect(found?.lastAddress).toEqual({ host: '127.0.0.2', port: 2222 });
    expect(found?.fingerprint).toBe(mine.trust?.fingerprint);
    expect(Date.parse(found?.lastSeen ?? '')).toBeGreaterThan(Date.UTC(2026, 0, 1));
    expect(matchContacts(bob.knownPeers.list(), 'alice')[0]?.lastAddress).toEqual({
      host: '127.0.0.1',
      port: 1111,
    });
  });
});

/** Presence through the client on real Endpoints and virtual time: /nick reaches peers, typing shows and expires. */
import { describe, expect, it } from 'vitest';
import {
  ChatClient,
  type ClientUpdate,
  PRESENCE_TYPING_EXPIRY_MS,
  type PresenceUpdate,
  texts,
} from '../src/index.js';
import { openChat } from './support/open-chat.js';
import { settle, VirtualNetwork, type VirtualPeer, VirtualTimers } from '@netchat/testkit';

function clientOn(peer: VirtualPeer) {
  // Fired by hand (`fire`), so a test sees the moment a notice expires.
  const timers = new VirtualTimers(() => peer.net.now);
  const client = new ChatClient(peer, peer.knownPeers, { clock: () => peer.net.now, timers });
  const updates: ClientUpdate[] = [];
  const presence: PresenceUpdate[] = [];
  client.subscribe((u) => updates.push(u));
  client.subscribePresence((u) => presence.push(u));
  peer.onEvent((e) => client.handle(e));
  return { client, updates, presence, timers };
}
type Side = ReturnType<typeof clientOn>;

const typingOf = (side: Side) => side.presence.flatMap((u) => (u.type === 'typing' ? [u.typing] : []));
/** How many presence messages reached this peer's endpoint. */
const presenceHeard = (peer: VirtualPeer) => peer.events.filter((e) => e.type === 'presence').length;

function setUp() {
  const net = new VirtualNetwork();
  const alice = net.add('127.0.0.1', 1111, { nick: 'alice' });
  const bob = net.add('127.0.0.2', 2222, { nick: 'bob' });
  return { net, alice, bob, a: clientOn(alice), b: clientOn(bob) };
}

describe('nick changes', () => {
  it('reach every open conversation, and the peer shows "alice is now known as alicia"', async () => {
    const { net, bob, a, b } = setUp();
    const { mine, theirs } = await openChat(net, a.client, b.client, bob.address);
    const carol = net.add('127.0.0.3', 3333, { nick: 'carol' });
    const c = clientOn(carol);
    await openChat(net, a.client, c.client, carol.address);

    a.client.setNick('alicia');
    net.runFor(100);
    for (const side of [b, c]) {
      const update = side.presence.find((u) => u.type === 'nick');
      expect(update).toMatchObject({ type: 'nick', previous: 'alice', nick: 'alicia' });
      expect(update?.type === 'nick' && texts.nickChangeNotices(update).map((n) => n.text)).toEqual([
        'alice is now known as alicia',
      ]);
    }
    expect(theirs.nick).toBe('alicia');
    expect(texts.messageText(theirs, 'hi')).toBe('[127.0.0.1:1111] alicia: hi');
    // The contact follows the key's new nick.
    expect(bob.knownPeers.list().map((p) => p.nick)).toEqual(['alicia']);
    expect(mine.nick).toBe('bob');
  });

  it('warns too when the nick taken is the own nick of a peer we renamed', async () => {
    const { net, bob, a, b } = setUp();
    const carol = net.add('127.0.0.3', 3333, { nick: 'carol' });
    const first = await openChat(net, clientOn(carol).client, b.client, bob.address);
    bob.knownPeers.rename(first.theirs.publicKey ?? '', 'Caroline');
    await openChat(net, a.client, b.client, bob.address);
    a.client.setNick('carol');
    net.runFor(100);
    expect(b.presence.find((u) => u.type === 'nick')).toMatchObject({
      nick: 'carol',
      conflict: [first.theirs.trust?.fingerprint],
    });
  });

  it('a peer forgotten during the chat (netchat contacts forget) is not brought back by its nick change', async () => {
    const { net, bob, a, b } = setUp();
    const { theirs } = await openChat(net, a.client, b.client, bob.address);
    expect(bob.knownPeers.forget(theirs.publicKey ?? '')).toBe(true);
    a.client.setNick('alicia');
    net.runFor(100);
    expect(b.presence.find((u) => u.type === 'nick')).toMatchObject({ nick: 'alicia' });
    expect(bob.knownPeers.list()).toEqual([]);
  });

  it('refuses a nick that cannot go on the wire, and tells no one', async () => {
    const { net, bob, a, b } = setUp();
    await openChat(net, a.client, b.client, bob.address);
    expect(() => a.client.setNick('x'.repeat(33))).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => a.client.setNick('bell\u0007')).toThrow(/control characters/);
    net.runFor(100);
    expect(b.presence).toEqual([]);
  });

  it('warns when the peer takes the nick of another key we know, and does not remember it for its key', async () => {
    const { net, bob, a, b } = setUp();
    const carol = net.add('127.0.0.3', 3333, { nick: 'carol' });
    const c = clientOn(carol);
    const first = await openChat(net, c.client, b.client, bob.address);
    c.client.close(first.mine);
    net.run(() => first.theirs.state === 'ended', 10_000);
    const { theirs } = await openChat(net, a.client, b.client, bob.address);

    a.client.setNick('carol');
    net.runFor(100);
    const update = b.presence.find((u) => u.type === 'nick');
    const carolKey = bob.knownPeers
      .list()
      .find((p) => p.nick === 'carol' && p.publicKey !== theirs.publicKey);
    expect(update).toMatchObject({ nick: 'carol', conflict: [carolKey?.fingerprint] });
    const notices = update?.type === 'nick' ? texts.nickChangeNotices(update) : [];
    expect(notices[0]).toMatchObject({ warning: true });
    expect(notices[0]?.text).toMatch(/^WARNING: carol is the nick of another key you know/);
    expect(notices[1]?.text).toBe('alice is now known as carol');
    expect(bob.knownPeers.list().find((p) => p.publicKey === theirs.publicKey)?.nick).toBe('alice');
  });
});

describe('typing', () => {
  it('tells the peer at the first keystroke, then at most once per 3 s, and the peer shows it once', async () => {
    const { net, bob, a, b } = setUp();
    const { mine, theirs } = await openChat(net, a.client, b.client, bob.address);
    expect(a.client.notifyTyping(mine)).toBe(true);
    net.runFor(1_000);
    expect(a.client.notifyTyping(mine)).toBe(false);
    net.runFor(1_000);
    expect(a.client.notifyTyping(mine)).toBe(false);
    net.runFor(1_000);
    expect(a.client.notifyTyping(mine)).toBe(true);
    net.runFor(50);
    expect(presenceHeard(bob)).toBe(2);
    expect(typingOf(b)).toEqual([true]);
    expect(b.client.peerTyping(theirs)).toBe(true);
    expect(texts.typingText(theirs)).toBe('alice is typing…');
  });

  it('stops showing at an idle notice, at the message, and at the expiry', async () => {
    const { net, bob, a, b } = setUp();
    const { mine, theirs } = await openChat(net, a.client, b.client, bob.address);

    a.client.notifyTyping(mine);
    net.runFor(50);
    a.client.stopTyping(mine);
    a.client.stopTyping(mine); // once is enough: nothing more goes out
    net.runFor(50);
    expect(typingOf(b)).toEqual([true, false]);
    expect(presenceHeard(bob)).toBe(2);

    // A message ends typing, and the next keystroke tells the peer again at once.
    a.client.notifyTyping(mine);
    net.runFor(50);
    a.client.send(mine, 'hello');
    net.run(() => b.updates.some((u) => u.type === 'message'), 1_000);
    expect(typingOf(b)).toEqual([true, false, true, false]);
    expect(b.client.peerTyping(theirs)).toBe(false);
    const typedAt = net.now;
    expect(a.client.notifyTyping(mine)).toBe(true);

    // No refresh (the person paused): shown for at most the expiry, then an update says it stopped.
    // The notice arrives 5 ms after it was sent (the network's latency).
    net.runFor(PRESENCE_TYPING_EXPIRY_MS - 10);
    expect(net.now).toBe(typedAt + PRESENCE_TYPING_EXPIRY_MS - 10);
    b.timers.fire();
    expect(b.client.peerTyping(theirs)).toBe(true);
    expect(typingOf(b)).toEqual([true, false, true, false, true]);
    net.runFor(20);
    b.timers.fire();
    expect(b.client.peerTyping(theirs)).toBe(false);
    expect(typingOf(b)).toEqual([true, false, true, false, true, false]);
    expect(b.timers.size).toBe(0);
  });

  it('keeps showing while the peer refreshes, and loses one refresh without a flicker', async () => {
    const { net, bob, a, b } = setUp();
    const { mine, theirs } = await openChat(net, a.client, b.client, bob.address);
    let dropped = 0;
    net.filter = () => true;
    a.client.notifyTyping(mine);
    for (let i = 0; i < 10; i++) {
      net.runFor(3_000);
      // The third refresh is lost on the way.
      if (i === 2) net.filter = () => dropped++ > 0;
      a.client.notifyTyping(mine);
      net.runFor(10);
      net.filter = () => true;
      b.timers.fire();
      expect(b.client.peerTyping(theirs), `after refresh ${i}`).toBe(true);
    }
    expect(dropped).toBeGreaterThan(0);
    expect(typingOf(b)).toEqual([true]);
  });

  it('sends nothing for a conversation that is not open', async () => {
    const { net, bob, a } = setUp();
    const asking = a.client.connect(bob.address);
    expect(a.client.notifyTyping(asking)).toBe(false);
    a.client.stopTyping(asking);
    await settle();
    net.runFor(100);
    expect(presenceHeard(bob)).toBe(0);
  });
});

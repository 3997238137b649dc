/** The client on real Endpoints and virtual time: whole conversations, busy peers, restarts, losses. */

import { settle, VirtualNetwork, type VirtualPeer } from '@netchat/testkit';
import { describe, expect, it, vi } from 'vitest';
import {
  ChatClient,
  type ClientSettings,
  type ClientUpdate,
  type Conversation,
  texts,
} from '../src/index.js';
import { openChat } from './support/open-chat.js';

function clientOn(peer: VirtualPeer, settings: ClientSettings = {}) {
  const client = new ChatClient(peer, peer.knownPeers, { clock: () => peer.net.now, ...settings });
  const updates: ClientUpdate[] = [];
  client.subscribe((u) => updates.push(u));
  peer.onEvent((e) => client.handle(e));
  const of = <T extends ClientUpdate['type']>(type: T) =>
    updates.filter((u): u is Extract<ClientUpdate, { type: T }> => u.type === type);
  return { client, updates, of };
}

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('expected a value');
  return value;
}

function setUp(options = {}) {
  const net = new VirtualNetwork();
  const alice = net.add('127.0.0.1', 1111, { nick: 'alice', ...options });
  const bob = net.add('127.0.0.2', 2222, { nick: 'bob', ...options });
  return { net, alice, bob, a: clientOn(alice), b: clientOn(bob) };
}

describe('ChatClient', () => {
  it('runs a whole conversation: request, answer, messages both ways, delivery, close', async () => {
    const { net, a, b } = setUp();
    const mine = a.client.connect({ host: '127.0.0.2', port: 2222 });
    expect(mine.state).toBe('connecting');
    await settle();
    net.run(() => b.client.requests.size > 0, 10_000);
    const request = must(b.client.requests.first());
    expect(request).toMatchObject({ nick: 'alice', trust: { level: 'new', nick: 'alice' } });
    expect(texts.requestNotices(request).map((n) => n.text)).toEqual([
      'Connection request from: 127.0.0.1 1111',
      'Nick: alice',
      `Fingerprint: ${request.fingerprint} (new: this key has not been seen before)`,
    ]);
    const theirs = b.client.accept(request);
    net.run(() => mine.state === 'open', 10_000);
    expect(a.of('opened')[0]).toMatchObject({ how: 'connected' });
    expect(texts.openedNotices(mine, 'connected')[0]?.text).toBe('Connected to 127.0.0.2 2222 (bob).');

    const hello = a.client.send(mine, 'hello bob');
    const back = b.client.send(theirs, 'hi alice');
    net.run(() => hello.status === 'delivered' && back.status === 'delivered', 10_000);
    expect(b.of('message').map((u) => texts.messageText(u.conversation, u.text))).toEqual([
      '[127.0.0.1:1111] alice: hello bob',
    ]);
    expect(a.of('message').map((u) => u.text)).toEqual(['hi alice']);

    a.client.close(mine);
    expect(texts.endedNotice(mine).text).toBe('Closing session with peer...');
    net.run(() => theirs.state === 'ended', 10_000);
    expect(theirs.ended).toEqual({ kind: 'peer_closed' });
    expect(texts.endedNotice(theirs).text).toBe('Peer closed the session.');
    expect(a.client.conversations).toEqual([]);
    expect(b.client.unsettled()).toEqual([]);
  });

  it('knows a key the second time and warns loudly when a new key takes a known nick', async () => {
    const { net, bob, a, b } = setUp();
    const first = await openChat(net, a.client, b.client, bob.address);
    a.client.close(first.mine);
    net.run(() => first.theirs.state === 'ended', 10_000);
    const again = await openChat(net, a.client, b.client, bob.address);
    expect(again.theirs.trust).toMatchObject({ level: 'known', knownAs: 'alice' });
    expect(again.mine.trust).toMatchObject({ level: 'known', knownAs: 'bob' });

    // Mallory calls herself alice, with another key.
    const mallory = net.add('127.0.0.3', 3333, { nick: 'alice' });
    const m = clientOn(mallory);
    m.client.connect(bob.address);
    await settle();
    net.run(() => b.of('request').length === 3, 10_000);
    const request = must(b.of('request')[2]).request;
    expect(request.trust).toMatchObject({
      level: 'impersonation',
      knownFingerprint: first.theirs.trust?.fingerprint,
    });
    const notices = texts.trustNotices(request.trust);
    expect(notices[0]).toMatchObject({ warning: true });
    expect(notices[0]?.text).toMatch(
      /^WARNING: this peer calls itself "alice", but its key is not the key of the alice you know/,
    );
    // Then what to do if it is alice's new key: the commands, with both fingerprints.
    const newKey = request.trust.fingerprint;
    const oldKey = first.theirs.trust?.fingerprint ?? '';
    expect(notices.slice(1).map((n) => n.text)).toEqual([
      `Fingerprint: ${newKey} (new)`,
      `If alice made a new key, compare ${newKey} with them; once you have chatted, netchat contacts verify ${newKey} marks it, and netchat contacts forget ${oldKey} drops the old one.`,
    ]);
  });

  it('declines requests as busy when at capacity, and the asker reads why without repetition', async () => {
    const net = new VirtualNetwork();
    const alice = net.add('127.0.0.1', 1111, { nick: 'alice' });
    const bob = net.add('127.0.0.2', 2222, { nick: 'bob' });
    const carol = net.add('127.0.0.3', 3333, { nick: 'carol' });
    const a = clientOn(alice);
    const b = clientOn(bob, { capacity: 1 });
    const c = clientOn(carol);
    await openChat(net, a.client, b.client, bob.address);
    const asking = c.client.connect(bob.address);
    await settle();
    net.run(() => asking.state === 'ended', 10_000);
    expect(asking.ended).toEqual({ kind: 'declined', reason: 'busy', detail: 'in another chat' });
    expect(texts.endedNotice(asking).text).toBe(
      'Connection declined by 127.0.0.2 2222: busy (in another chat).',
    );
    expect(b.of('request_refused').map((u) => texts.refusedText(u.request))).toEqual([
      'Declined a connection request from 127.0.0.3 3333 (carol): busy.',
    ]);

    // A plain decline says so once.
    const d = clientOn(net.add('127.0.0.4', 4444));
    const dAsks = d.client.connect(carol.address);
    await settle();
    net.run(() => c.client.requests.size > 0, 10_000);
    c.client.decline(must(c.client.requests.first()));
    net.run(() => dAsks.state === 'ended', 10_000);
    expect(texts.endedNotice(dAsks).text).toBe('Connection declined by 127.0.0.3 3333.');
  });

  it('keeps several requests waiting in order, and says when one is withdrawn', async () => {
    const net = new VirtualNetwork();
    const bob = net.add('127.0.0.2', 2222, { nick: 'bob', connectTimeout: 5_000 });
    const b = clientOn(bob);
    const c1 = clientOn(net.add('127.0.0.3', 3333, { nick: 'carol', connectTimeout: 5_000 }));
    const c2 = clientOn(net.add('127.0.0.4', 4444, { nick: 'dave', connectTimeout: 5_000 }));
    const first = c1.client.connect(bob.address);
    c2.client.connect(bob.address);
    await settle();
    net.run(() => b.client.requests.size === 2, 10_000);
    expect(b.client.requests.list().map((r) => r.nick)).toEqual(['carol', 'dave']);
    c1.client.cancel(first);
    expect(texts.endedNotice(first).text).toBe('Cancelled the connection request to 127.0.0.2 2222.');
    net.run(() => b.of('request_gone').length > 0, 10_000);
    expect(
      texts.requestGoneText(must(b.of('request_gone')[0]).request, must(b.of('request_gone')[0]).why),
    ).toBe('The connection request from 127.0.0.3 3333 (carol) was withdrawn.');
    net.run(() => c2.of('ended').length > 0, 60_000);
    expect(c2.of('ended')[0]?.conversation.ended).toEqual({ kind: 'no_answer' });
    net.run(() => b.client.requests.size === 0, 60_000);
    // The asker that gave up withdrew its request too.
    expect(b.of('request_gone').map((u) => u.why)).toEqual(['withdrawn', 'withdrawn']);
  });

  it('ends a chat at once when the peer restarts with the same key, and takes its new request', async () => {
    const { net, bob, a, b } = setUp();
    const { mine } = await openChat(net, a.client, b.client, bob.address);
    const pending = a.client.send(mine, 'are you there?');
    const restarted = net.restart(bob, { nick: 'bob' });
    const b2 = clientOn(restarted);
    const asking = b2.client.connect({ host: '127.0.0.1', port: 1111 });
    await settle();
    net.run(() => mine.state === 'ended', 10_000);
    expect(mine.ended).toEqual({ kind: 'peer_restarted' });
    expect(texts.endedNotice(mine).text).toBe('The peer restarted: this session ended.');
    net.run(() => a.client.requests.size > 0, 10_000);
    expect(a.client.requests.first()?.trust).toMatchObject({ level: 'known', knownAs: 'bob' });
    a.client.accept(must(a.client.requests.first()));
    net.run(() => asking.state === 'open', 10_000);
    net.run(() => pending.status !== 'pending', 10_000);
    expect(pending.status).not.toBe('pending');
  });

  it('delivers every message in order through 20% loss', async () => {
    const { net, bob, a, b } = setUp();
    const { mine } = await openChat(net, a.client, b.client, bob.address);
    net.loss = 0.2;
    const sent = Array.from({ length: 50 }, (_, i) => a.client.send(mine, `line ${i}`));
    net.run(() => sent.every((m) => m.status === 'delivered'), 120_000);
    expect(b.of('message').map((u) => u.text)).toEqual(sent.map((m) => m.text));
  });

  it('reports messages in flight as not confirmed, naming the peer, when the peer is lost', async () => {
    const { net, bob, a, b } = setUp({ heartbeatInterval: 1_000 });
    const { mine } = await openChat(net, a.client, b.client, bob.address);
    net.filter = () => false; // the network between them goes down
    const stuck = a.client.send(mine, 'anyone?');
    net.run(() => mine.state === 'ended', 60_000);
    expect(mine.ended).toEqual({ kind: 'lost', missed: 3 });
    expect(texts.endedNotice(mine)).toEqual({ text: 'Connection lost. Ending session.', warning: true });
    net.run(() => stuck.status !== 'pending', 10_000);
    expect(stuck).toMatchObject({ status: 'not_confirmed', reason: 'lost' });
    // Why the chat ended comes first, then what it means for the message.
    const order = a.updates.map((u) => u.type).filter((t) => t === 'ended' || t === 'not_delivered');
    expect(order).toEqual(['ended', 'not_delivered']);
    expect(texts.notDeliveredText(stuck)).toBe('Not confirmed delivered to 127.0.0.2 2222 (bob): anyone?');
    expect(a.of('heartbeat_missed').map((u) => u.count)).toEqual([1, 2, 3]);
  });

  it('settles every message when we close while the peer is frozen: confirmed or reported, never silent', async () => {
    const { net, bob, a, b } = setUp();
    const { mine } = await openChat(net, a.client, b.client, bob.address);
    bob.frozen = true;
    const stuck = a.client.send(mine, 'still there?');
    a.client.close(mine);
    // A close lingers while the peer may still take the text: a frozen one is given up after 16
    // unanswered retransmission timeouts (41.4 s here), or lost by the liveness rule (87.5 s).
    net.run(() => a.client.unsettled().length === 0, 120_000);
    expect(stuck.status).toBe('not_confirmed');
    expect(a.of('not_delivered').map((u) => u.message)).toEqual([stuck]);
  });

  it('holds texts back while the send queue is full and sends them as room comes (200 x 10 KB)', async () => {
    const { net, bob, a, b } = setUp();
    const { mine } = await openChat(net, a.client, b.client, bob.address);
    const line = 'x'.repeat(10_000);
    const sent = Array.from({ length: 200 }, (_, i) => a.client.send(mine, `${i} ${line}`));
    expect(a.client.hasRoom(mine)).toBe(false);
    net.run(() => sent.every((m) => m.status === 'delivered'), 120_000);
    expect(b.of('message')).toHaveLength(200);
    expect(b.of('message').map((u) => u.text.split(' ')[0])).toEqual(sent.map((_, i) => String(i)));
    expect(a.of('room').length).toBeGreaterThan(0);
    expect(a.client.hasRoom(mine)).toBe(true);
  });

  it('reports held-back texts as not sent when the chat ends before they could go', async () => {
    const { net, bob, a, b } = setUp();
    const { mine, theirs } = await openChat(net, a.client, b.client, bob.address);
    const sent = Array.from({ length: 150 }, (_, i) => a.client.send(mine, `${i} ${'y'.repeat(10_000)}`));
    b.client.close(theirs);
    net.run(() => a.client.unsettled().length === 0, 60_000);
    const notSent = sent.filter((m) => m.status === 'not_sent');
    expect(notSent.length).toBeGreaterThan(0);
    expect(texts.notDeliveredText(must(notSent[0]))).toMatch(
      /^Not sent to 127\.0\.0\.2 2222 \(bob\) \(the chat ended first\): /,
    );
    expect(sent.every((m) => m.status !== 'pending')).toBe(true);
  });

  it('reports no answer, bad addresses and our own address without a look-up of numbers', async () => {
    const net = new VirtualNetwork();
    const alice = net.add('127.0.0.1', 1111, { connectTimeout: 3_000 });
    const a = clientOn(alice);
    const resolve = vi.spyOn(alice, 'resolve');
    const typo = a.client.connect({ host: '256.1.1.1', port: 6666 });
    await settle();
    expect(resolve).not.toHaveBeenCalled();
    expect(typo.ended).toMatchObject({ kind: 'unreachable' });
    expect(texts.endedNotice(typo).text).toBe(
      'invalid address "256.1.1.1 6666": "256.1.1.1" is not an IPv4 address (four numbers, each 0-255)',
    );
    const self = a.client.connect({ host: '127.0.0.1', port: 1111 });
    await settle();
    expect(self.ended).toMatchObject({ kind: 'unreachable', message: expect.stringMatching(/own address/) });
    const nobody = a.client.connect({ host: '127.0.0.9', port: 9999 });
    await settle();
    net.run(() => nobody.state === 'ended', 60_000);
    expect(texts.endedNotice(nobody).text).toBe('No answer from 127.0.0.9 9999.');
  });

  it('accepts every request with acceptAll, and refuses new ones once closing', async () => {
    const net = new VirtualNetwork();
    const alice = net.add('127.0.0.1', 1111, { nick: 'alice' });
    const bob = net.add('127.0.0.2', 2222, { nick: 'bob' });
    const a = clientOn(alice);
    const b = clientOn(bob, { acceptAll: true });
    const mine = a.client.connect(bob.address);
    await settle();
    net.run(() => mine.state === 'open', 10_000);
    expect(b.of('opened')[0]).toMatchObject({ how: 'auto' });
    expect(texts.openedNotices(must(b.of('opened')[0]).conversation, 'auto')[0]?.text).toBe(
      'Accepted (--yes) the request from 127.0.0.1 1111 (alice).',
    );
    b.client.closeAll();
    net.run(() => mine.state === 'ended', 10_000);
    const again: Conversation = a.client.connect(bob.address);
    await settle();
    net.run(() => again.state === 'ended', 10_000);
    expect(again.ended).toMatchObject({ kind: 'declined', reason: 'busy', detail: 'closing' });
  });
});

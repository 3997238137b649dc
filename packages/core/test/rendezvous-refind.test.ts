/**
 * Finding a peer again (PROTOCOL.md, *Finding a peer again*): two homes chat directly behind
 * endpoint-independent NATs that filter by address and port (support/nat.ts), and one NAT maps
 * its home anew (conntrack -F, a reboot, a new network). The other NAT lets nothing in from the
 * new port, so neither side hears the other; the silent side asks the rendezvous for the peer
 * again, and a path challenge to the address the rendezvous names opens the way and moves the
 * channel (PROTOCOL.md, *Roaming*). On virtual time, 2 s heartbeats.
 */
import { describe, expect, it } from 'vitest';
import type { ChannelView, EndpointHost } from '../src/rendezvous/extension.js';
import { PUNCH_RATE } from '../src/rendezvous/introductions.js';
import { OpenChats, type OpenChatsClient } from '../src/rendezvous/open-chats.js';
import { REFIND_EVERY_MS, REFIND_RATE, Refinds } from '../src/rendezvous/refinds.js';
import { RELAY_HOST } from '../src/rendezvous/relay.js';
import { chat, hostileIntroducer, RendezvousLab, streamChat } from './support/rendezvous-lab.js';
import { pattern, StreamReader, StreamWriter } from './support/stream-apps.js';
import { eventsOf } from './support/virtual-network.js';

const HEARTBEATS = { heartbeatInterval: 2_000 };

function chatting() {
  const lab = new RendezvousLab(HEARTBEATS);
  const a = lab.home('endpoint-independent', 'anyone', [], HEARTBEATS);
  const b = lab.home('endpoint-independent', 'anyone', [], HEARTBEATS);
  expect(lab.run(() => lab.registered(a, b))).toBe(true);
  const { session, incoming, accepted } = chat(lab, a, b);
  expect(accepted).toBeDefined();
  const sessionB = incoming?.session as number;
  a.node.endpoint.send(session as number, 'before', lab.net.now);
  expect(lab.run(() => eventsOf(b.node, 'message').length === 1)).toBe(true);
  return { lab, a, b, sessionA: session as number, sessionB };
}

const texts = (node: Parameters<typeof eventsOf>[0]) => eventsOf(node, 'message').map((e) => e.text);

describe('rendezvous: finding a peer again', () => {
  it("a home's NAT maps it anew mid-chat: both sides find each other again through the rendezvous, nothing lost", () => {
    const { lab, a, b, sessionA, sessionB } = chatting();
    a.nat.flush();
    a.node.endpoint.send(sessionA, 'after, from a', lab.net.now);
    b.node.endpoint.send(sessionB, 'after, from b', lab.net.now);
    const both = () => texts(b.node).includes('after, from a') && texts(a.node).includes('after, from b');
    expect(lab.run(both, 30_000)).toBe(true);
    expect(texts(b.node)).toEqual(['before', 'after, from a']);
    expect(texts(a.node)).toEqual(['after, from b']);
    expect(eventsOf(a.node, 'lost')).toHaveLength(0);
    expect(eventsOf(b.node, 'lost')).toHaveLength(0);
    // b's channel moved to a's new public port, after a path challenge there.
    expect(b.node.endpoint.secureStats.pathMoves).toBeGreaterThanOrEqual(1);
    expect(a.client.stats.refinds + b.client.stats.refinds).toBeGreaterThanOrEqual(1);
    // Neither application was told of an introduction it did not ask for.
    expect(lab.updatesOf(a, 'ready').length).toBe(1);
    expect(lab.updatesOf(b, 'punched').length).toBe(1);
    expect(lab.updatesOf(a, 'failed')).toHaveLength(0);
    expect(lab.updatesOf(b, 'failed')).toHaveLength(0);
    // The chat goes on as before.
    lab.runFor(20_000);
    expect(eventsOf(a.node, 'lost')).toHaveLength(0);
    expect(eventsOf(b.node, 'lost')).toHaveLength(0);
  });

  it("with the default 25 s heartbeats, a line sent after a home's NAT maps it anew arrives within 3 s: an unanswered send asks the rendezvous, not only a missed heartbeat", () => {
    const lab = new RendezvousLab();
    const a = lab.home('endpoint-independent', 'anyone', []);
    const b = lab.home('endpoint-independent', 'anyone', []);
    expect(lab.run(() => lab.registered(a, b))).toBe(true);
    const { session, incoming } = chat(lab, a, b);
    const sessionA = session as number;
    a.node.endpoint.send(sessionA, 'before', lab.net.now);
    expect(lab.run(() => texts(b.node).includes('before'))).toBe(true);
    lab.runFor(5_000);
    a.nat.flush();
    const sentAt = lab.net.now;
    a.node.endpoint.send(sessionA, 'after, from a', lab.net.now);
    // Before: the first missed heartbeat, 37.5 s of silence, was the only thing that asked.
    expect(lab.run(() => texts(b.node).includes('after, from a'), 60_000)).toBe(true);
    expect(lab.net.now - sentAt).toBeLessThan(3_000);
    expect(eventsOf(a.node, 'heartbeat_missed')).toHaveLength(0);
    expect(incoming?.session).toBeDefined();
  });

  it("the same mid-transfer, no line typed: the stream's probe timeouts ask the rendezvous, and the bytes flow again within 5 s", () => {
    const { lab, a, b, sessionA, sessionB } = streamChat();
    const reader = new StreamReader(lab.net, b.node, sessionB);
    const stream = a.node.endpoint.openStream(sessionA, lab.net.now);
    new StreamWriter(lab.net, a.node, sessionA, stream, pattern(50_000_000, 1));
    expect(lab.run(() => reader.bytesRead > 1_000_000, 30_000)).toBe(true);
    a.nat.flush();
    const flushedAt = lab.net.now;
    const before = reader.bytesRead;
    lab.runFor(500);
    const stalledAt = reader.bytesRead;
    expect(lab.run(() => reader.bytesRead > stalledAt + 1_000_000, 60_000)).toBe(true);
    // Before: nothing moved until the first missed heartbeat, 37.5 s of silence.
    expect(lab.net.now - flushedAt).toBeLessThan(5_000);
    expect(before).toBeGreaterThan(0);
    expect(eventsOf(a.node, 'heartbeat_missed')).toHaveLength(0);
  });

  it('a peer really gone is asked for at most once per REFIND_EVERY_MS, and lost as before; the application hears of no introduction', () => {
    const lab = new RendezvousLab(HEARTBEATS);
    const a = lab.home('endpoint-independent', 'anyone', [], HEARTBEATS);
    const b = lab.home('endpoint-independent', 'anyone', [], HEARTBEATS);
    expect(lab.run(() => lab.registered(a, b))).toBe(true);
    const { session, accepted } = chat(lab, a, b);
    expect(accepted).toBeDefined();
    const cutAt = lab.net.now;
    // b's home goes dark: nothing in or out, the rendezvous included.
    const dark = new Set(['10.2.0.2', '203.0.113.2']);
    lab.net.filter = (from, to) => !dark.has(from.host) && !dark.has(to.host);
    a.node.endpoint.send(session as number, 'into the dark', lab.net.now);
    expect(lab.run(() => eventsOf(a.node, 'lost').length > 0, 30_000)).toBe(true);
    const seconds = (lab.net.now - cutAt) / 1000;
    expect(a.client.stats.refinds).toBeGreaterThanOrEqual(1);
    // At most one a missed interval (2 s here), and never more often than REFIND_EVERY_MS.
    expect(a.client.stats.refinds).toBeLessThanOrEqual(
      1 + Math.floor((seconds * 1000) / Math.max(2_000, REFIND_EVERY_MS)),
    );
    expect(a.client.stats.refindProbes).toBe(0);
    expect(eventsOf(a.node, 'failed').map((e) => e.reason)).toEqual(['lost']);
    expect(lab.updatesOf(a, 'failed')).toHaveLength(0);
    expect(lab.updatesOf(a, 'ready')).toHaveLength(1); // the chat's own introduction only
  });

  it("a hostile rendezvous naming a chat's peer at many addresses gets path challenges out at the punch rate at most, and never moves the chat", () => {
    const { lab, a, b } = chatting();
    const introduce = hostileIntroducer(lab, '203.0.113.1');
    const send = (port: number) =>
      introduce(b.node.endpoint.identity.publicKey, { host: '192.0.2.9', port }, 0);
    const start = lab.net.now;
    for (let second = 0; second < 10; second++) {
      for (let i = 0; i < 20; i++) send(9000 + second * 20 + i);
      lab.runFor(1_000);
    }
    const seconds = (lab.net.now - start) / 1000;
    const toVictim = a.node.sent.filter((s) => s.to.host === '192.0.2.9');
    expect(toVictim.length).toBeGreaterThan(0);
    expect(toVictim.length).toBe(a.client.stats.refindProbes);
    expect(toVictim.length).toBeLessThanOrEqual(PUNCH_RATE.burst + PUNCH_RATE.perSecond * seconds);
    // Each a sealed path challenge (41 bytes), never a handshake.
    for (const s of toVictim) expect(s.data.length).toBe(41);
    expect(a.client.stats.punches).toBe(0);
    // The chat stays where it was, and goes on.
    expect(a.node.endpoint.secureStats.pathMoves).toBe(0);
    a.node.endpoint.send(eventsOf(a.node, 'accepted')[0]?.session as number, 'still here', lab.net.now);
    expect(lab.run(() => eventsOf(b.node, 'message').some((e) => e.text === 'still here'))).toBe(true);
  });
});

describe('refinds: how often', () => {
  const key = (n: number) => new Uint8Array(32).fill(n);

  it('asks for one peer at most once per REFIND_EVERY_MS', () => {
    const refinds = new Refinds();
    expect(refinds.shouldAsk(key(1), 1, 0)).toBe(true);
    expect(refinds.shouldAsk(key(1), 1, REFIND_EVERY_MS - 1)).toBe(false);
    expect(refinds.shouldAsk(key(1), 1, REFIND_EVERY_MS)).toBe(true);
  });

  it('asks within REFIND_RATE in all, however many peers fall silent: under what the rendezvous reads from one host', () => {
    const refinds = new Refinds();
    let asked = 0;
    for (let n = 0; n < 100; n++) if (refinds.shouldAsk(key(n), n, n)) asked++;
    expect(asked).toBe(REFIND_RATE.burst);
    // The rest wait their turn, oldest first, as tokens come.
    expect(refinds.waitingCount).toBe(100 - REFIND_RATE.burst);
    const turns: number[] = [];
    for (let at = 100; at < 60_000; at += 500)
      refinds.due(
        at,
        () => true,
        (channel) => turns.push(channel),
      );
    expect(turns).toEqual(Array.from({ length: 100 - REFIND_RATE.burst }, (_, i) => i + REFIND_RATE.burst));
    // Over a minute of 100 peers silent, one asking every 10 ms: never more than the rate allows.
    const late = new Refinds();
    const times: number[] = [];
    for (let at = 0; at < 60_000; at += 10) {
      if (late.shouldAsk(key(at % 100), at % 100, at)) times.push(at);
      if ((late.next() ?? Number.POSITIVE_INFINITY) <= at)
        late.due(
          at,
          () => true,
          () => times.push(at),
        );
    }
    expect(late.waitingCount).toBeLessThanOrEqual(100);
    for (const at of times) {
      const inSecond = times.filter((t) => t >= at && t < at + 1_000).length;
      expect(inSecond).toBeLessThanOrEqual(REFIND_RATE.burst + REFIND_RATE.perSecond);
    }
    expect(times.length).toBeLessThanOrEqual(REFIND_RATE.burst + REFIND_RATE.perSecond * 60);
    expect(times.length).toBeGreaterThanOrEqual(REFIND_RATE.perSecond * 59);
  });

  it('keeps to itself only the requests it made', () => {
    const refinds = new Refinds();
    refinds.asked(7);
    expect(refinds.settle(8)).toBe(false);
    expect(refinds.settle(7)).toBe(true);
    expect(refinds.settle(7)).toBe(false);
  });
});

describe('a refind that waited its turn', () => {
  it('of a relayed chat is not asked once our terms no longer accept its peer (it would make the pair the user ended)', () => {
    const relayed = (id: number): ChannelView => ({
      id,
      address: { host: RELAY_HOST, port: id },
      remoteKey: new Uint8Array(32).fill(id),
    });
    const channels = new Map(
      Array.from({ length: REFIND_RATE.burst + 2 }, (_, i) => [i + 1, relayed(i + 1)]),
    );
    let accepting = true;
    const asked: string[] = [];
    // Only what refinds touch: the open channels, the registration, the terms, `introduce`.
    const host = { openChannel: (id: number) => channels.get(id) } as unknown as EndpointHost;
    const client = {
      registration: { channel: 0, isRegistered: true, doubt: () => {} },
      introductions: { accepts: () => accepting },
      introduce: (fingerprint: string) => asked.push(fingerprint),
    } as unknown as OpenChatsClient;
    const chats = new OpenChats(host, client);
    for (const channel of channels.values()) chats.onPeerSilent(channel, 0);
    expect(asked).toHaveLength(REFIND_RATE.burst);
    expect(chats.refinds.waitingCount).toBe(2);
    // One still accepted is asked for in turn; one no longer accepted is not.
    chats.refindDue(chats.refinds.next() ?? 0);
    expect(asked).toHaveLength(REFIND_RATE.burst + 1);
    accepting = false;
    chats.refindDue(chats.refinds.next() ?? 10_000);
    expect(asked).toHaveLength(REFIND_RATE.burst + 1);
    expect(chats.refinds.waitingCount).toBe(0);
  });
});

/**
 * An open chat whose path dies goes on through the relay, and a relayed chat re-pairs when the
 * rendezvous comes back (PROTOCOL.md, *Relay*: an open chat and the relay). Two homes behind NATs
 * on virtual time, 2 s heartbeats (a peer lost after 7 s of silence): a direct chat whose home's
 * NAT starts picking a new port for each destination (a laptop moved behind such a NAT), and a
 * relayed chat across a rendezvous restarted with empty tables. Messages sent meanwhile arrive
 * once. And the attacker's side: a hostile rendezvous naming a chat's peer with relay tags of
 * its choosing moves nothing, and gets out at most what its introductions already get.
 */
import { describe, expect, it } from 'vitest';
import { type EndpointOptionsInput, RELAY_HOST } from '../src/index.js';
import { PUNCH_RATE } from '../src/rendezvous/introductions.js';
import { RELAY_PACKET_CODE } from '../src/rendezvous/relay.js';
import { MAX_FALLBACKS } from '../src/rendezvous/relay-fallback.js';
import { chat, type Home, hostileIntroducer, RendezvousLab } from './support/rendezvous-lab.js';
import { eventsOf, type Node } from './support/virtual-network.js';

const HEARTBEATS = { heartbeatInterval: 2_000 };

const texts = (node: Node) => eventsOf(node, 'message').map((e) => e.text);
const peerOf = (home: Home) => home.node.endpoint.listSessions()[0]?.peer;

/** A chat from a to b, both homes behind `kind` NATs, one line through; direct or relayed as the NATs allow. */
function chatting(
  kind: 'endpoint-independent' | 'port-randomising',
  heartbeats: EndpointOptionsInput = HEARTBEATS,
) {
  const lab = new RendezvousLab(heartbeats);
  const a = lab.home(kind, 'anyone', [], heartbeats);
  const b = lab.home(kind, 'anyone', [], heartbeats);
  expect(lab.run(() => lab.registered(a, b))).toBe(true);
  const { session, incoming, accepted } = chat(lab, a, b);
  expect(accepted).toBeDefined();
  const sessionA = session as number;
  const sessionB = incoming?.session as number;
  a.node.endpoint.send(sessionA, 'before', lab.net.now);
  expect(lab.run(() => texts(b.node).includes('before'))).toBe(true);
  return { lab, a, b, sessionA, sessionB };
}

describe('an open chat falls back to the relay', () => {
  it("a direct chat whose home's NAT starts randomising goes on through the relay: lines sent meanwhile arrive once, nothing lost", () => {
    const { lab, a, b, sessionA, sessionB } = chatting('endpoint-independent');
    expect(peerOf(a)?.host).not.toBe(RELAY_HOST);
    const movedAt = lab.net.now;
    a.nat.startRandomising();
    a.node.endpoint.send(sessionA, 'after, from a', lab.net.now);
    b.node.endpoint.send(sessionB, 'after, from b', lab.net.now);
    const relayed = () => peerOf(a)?.host === RELAY_HOST && peerOf(b)?.host === RELAY_HOST;
    expect(lab.run(relayed, 30_000)).toBe(true);
    const moved = lab.net.now - movedAt;
    const both = () => texts(b.node).includes('after, from a') && texts(a.node).includes('after, from b');
    expect(lab.run(both, 30_000)).toBe(true);
    const took = lab.net.now - movedAt;
    // Both channels moved onto the relay, each after its peer answered a challenge there.
    expect(peerOf(a)?.host).toBe(RELAY_HOST);
    expect(peerOf(b)?.host).toBe(RELAY_HOST);
    expect(a.client.stats.relayFallbacks + b.client.stats.relayFallbacks).toBeGreaterThanOrEqual(1);
    // Within the liveness (3 missed intervals and a half: 7 s).
    expect(took).toBeLessThan(7_000);
    // The lines waiting on the dead path went again as each channel moved, not at the next
    // retransmission timer the dead path had backed off (2.1 s later, before that was done).
    expect(took - moved).toBeLessThan(500);
    // The chat goes on: lines both ways, each once, nobody lost.
    lab.runFor(20_000);
    a.node.endpoint.send(sessionA, 'later, from a', lab.net.now);
    b.node.endpoint.send(sessionB, 'later, from b', lab.net.now);
    expect(
      lab.run(() => texts(b.node).includes('later, from a') && texts(a.node).includes('later, from b')),
    ).toBe(true);
    expect(texts(b.node)).toEqual(['before', 'after, from a', 'later, from a']);
    expect(texts(a.node)).toEqual(['after, from b', 'later, from b']);
    expect([...eventsOf(a.node, 'lost'), ...eventsOf(b.node, 'lost')]).toEqual([]);
    expect(eventsOf(a.node, 'delivered').length).toBe(2);
    // Neither application heard of an introduction it did not ask for.
    expect(lab.updatesOf(a, 'failed')).toHaveLength(0);
    expect(lab.updatesOf(b, 'failed')).toHaveLength(0);
    console.log(
      `[relay fallback] a direct chat whose NAT started randomising moved onto the relay ${moved} ms after, the lines sent meanwhile arrived ${took} ms after`,
    );
  });

  it('the same with the default heartbeats (25 s): a line sent after the move arrives through the relay within 5 s, not at the first missed heartbeat (37.5 s)', () => {
    const { lab, a, b, sessionA } = chatting('endpoint-independent', {});
    lab.runFor(5_000);
    const movedAt = lab.net.now;
    a.nat.startRandomising();
    a.node.endpoint.send(sessionA, 'after, from a', lab.net.now);
    expect(lab.run(() => texts(b.node).includes('after, from a'), 60_000)).toBe(true);
    expect(lab.net.now - movedAt).toBeLessThan(5_000);
    // a's channel went onto the relay (b's answer came from there).
    expect(peerOf(a)?.host).toBe(RELAY_HOST);
    expect(eventsOf(a.node, 'heartbeat_missed')).toHaveLength(0);
  });

  it("a chat that fell back to the relay goes back to a direct path once one opens again, its peer's address changed meanwhile", () => {
    const { lab, a, b, sessionA } = chatting('endpoint-independent');
    // a's NAT maps her anew while the two homes cannot reach each other directly at all.
    const homeOf = (host: string) =>
      ['10.1.0.2', '203.0.113.1'].includes(host)
        ? 'a'
        : ['10.2.0.2', '203.0.113.2'].includes(host)
          ? 'b'
          : '';
    lab.net.filter = (from, to) =>
      !(homeOf(from.host) && homeOf(to.host) && homeOf(from.host) !== homeOf(to.host));
    a.nat.flush();
    a.node.endpoint.send(sessionA, 'relayed', lab.net.now);
    const relayed = () => peerOf(a)?.host === RELAY_HOST && peerOf(b)?.host === RELAY_HOST;
    expect(lab.run(relayed, 30_000)).toBe(true);
    expect(lab.run(() => texts(b.node).includes('relayed'))).toBe(true);
    const openedAt = lab.net.now;
    lab.net.filter = () => true;
    // The relay path's probes (every 5 s, from 8 s to 60 s after the introduction) find the direct path.
    const direct = () => peerOf(a)?.host !== RELAY_HOST && peerOf(b)?.host !== RELAY_HOST;
    expect(lab.run(direct, 60_000)).toBe(true);
    const took = lab.net.now - openedAt;
    a.node.endpoint.send(sessionA, 'direct again', lab.net.now);
    expect(lab.run(() => texts(b.node).includes('direct again'))).toBe(true);
    expect(texts(b.node)).toEqual(['before', 'relayed', 'direct again']);
    expect([...eventsOf(a.node, 'lost'), ...eventsOf(b.node, 'lost')]).toEqual([]);
    console.log(`[relay fallback] back on a direct path ${took} ms after one opened again`);
  });

  // The lab's settings (1 s heartbeats, lost after 3.5 s): a refind every missed interval must
  // not put the fallback off (it did: each introduction planned it a second later again).
  it('with 1 s heartbeats, asked for again every second: on the relay within the liveness (3.5 s)', () => {
    const { lab, a, b, sessionA } = chatting('endpoint-independent', { heartbeatInterval: 1_000 });
    lab.runFor(10_000);
    const movedAt = lab.net.now;
    a.nat.startRandomising();
    a.node.endpoint.send(sessionA, 'after', lab.net.now);
    const relayed = () => peerOf(a)?.host === RELAY_HOST && peerOf(b)?.host === RELAY_HOST;
    expect(lab.run(relayed, 10_000)).toBe(true);
    const moved = lab.net.now - movedAt;
    expect(moved).toBeLessThan(3_500);
    expect(lab.run(() => texts(b.node).includes('after'))).toBe(true);
    expect([...eventsOf(a.node, 'lost'), ...eventsOf(b.node, 'lost')]).toEqual([]);
    expect(texts(b.node)).toEqual(['before', 'after']);
    console.log(
      `[relay fallback] 1 s heartbeats: on the relay ${moved} ms after the NAT started randomising`,
    );
  });

  it('a relayed chat goes on across a rendezvous restart (empty tables), once both registered again: lines sent meanwhile arrive once', () => {
    const { lab, a, b, sessionA, sessionB } = chatting('port-randomising');
    expect(peerOf(a)?.host).toBe(RELAY_HOST);
    const relayedBefore = peerOf(a);
    lab.restartRendezvous();
    const restartedAt = lab.net.now;
    a.node.endpoint.send(sessionA, 'after, from a', lab.net.now);
    b.node.endpoint.send(sessionB, 'after, from b', lab.net.now);
    const moved = () => peerOf(a)?.host === RELAY_HOST && peerOf(a)?.port !== relayedBefore?.port;
    expect(lab.run(moved, 30_000)).toBe(true);
    const repaired = lab.net.now - restartedAt;
    const both = () => texts(b.node).includes('after, from a') && texts(a.node).includes('after, from b');
    expect(lab.run(both, 30_000)).toBe(true);
    const took = lab.net.now - restartedAt;
    expect(took).toBeLessThan(7_000);
    // Through the new rendezvous's relay, at the peer's new relayed address.
    expect(lab.server.stats.relayed).toBeGreaterThan(0);
    expect(peerOf(a)?.host).toBe(RELAY_HOST);
    expect(peerOf(a)).not.toEqual(relayedBefore);
    expect(a.client.stats.relayRepairs + b.client.stats.relayRepairs).toBeGreaterThanOrEqual(1);
    lab.runFor(20_000);
    a.node.endpoint.send(sessionA, 'later, from a', lab.net.now);
    expect(lab.run(() => texts(b.node).includes('later, from a'))).toBe(true);
    expect(texts(b.node)).toEqual(['before', 'after, from a', 'later, from a']);
    expect(texts(a.node)).toEqual(['after, from b']);
    expect([...eventsOf(a.node, 'lost'), ...eventsOf(b.node, 'lost')]).toEqual([]);
    console.log(
      `[relay fallback] a relayed chat re-paired ${repaired} ms after the rendezvous restarted, the lines sent meanwhile arrived ${took} ms after`,
    );
  });

  it('the same with the default heartbeats (25 s): re-paired well within the liveness (87.5 s)', () => {
    const { lab, a, b, sessionA: session } = chatting('port-randomising', {});
    expect(peerOf(a)?.host).toBe(RELAY_HOST);
    lab.runFor(10_000);
    lab.restartRendezvous();
    const restartedAt = lab.net.now;
    a.node.endpoint.send(session, 'after the restart', lab.net.now);
    expect(lab.run(() => texts(b.node).includes('after the restart'), 90_000)).toBe(true);
    const took = lab.net.now - restartedAt;
    expect(took).toBeLessThan(60_000);
    expect([...eventsOf(a.node, 'lost'), ...eventsOf(b.node, 'lost')]).toEqual([]);
    console.log(`[relay fallback] default heartbeats: the line arrived ${took} ms after the restart`);
  });

  it('an idle direct chat that hears nothing because nothing is said never moves to the relay', () => {
    const { lab, a, b } = chatting('endpoint-independent');
    // Introductions with relay tags come and go (each side asks for the other now and then).
    for (let i = 0; i < 5; i++) {
      a.client.introduce(b.fingerprint, lab.net.now);
      lab.runFor(7_000);
    }
    expect(peerOf(a)?.host).not.toBe(RELAY_HOST);
    expect(peerOf(b)?.host).not.toBe(RELAY_HOST);
    expect(a.client.stats.relayFallbacks + b.client.stats.relayFallbacks).toBe(0);
    expect([...eventsOf(a.node, 'lost'), ...eventsOf(b.node, 'lost')]).toEqual([]);
  });
});

describe('relay fallback, attacked: a hostile rendezvous', () => {
  for (const kind of ['endpoint-independent', 'port-randomising'] as const) {
    it(`naming a ${kind === 'endpoint-independent' ? 'direct' : 'relayed'} chat's peer 20 times a second with random relay tags: the chat never moves, and the relay challenges stay within the punch rate`, () => {
      const { lab, a, b, sessionA } = chatting(kind);
      const before = peerOf(a);
      const introduce = hostileIntroducer(lab, '203.0.113.1');
      const send = (key: Uint8Array, port: number, relayTag: number) =>
        introduce(key, { host: '192.0.2.9', port }, relayTag);
      const key = b.node.endpoint.identity.publicKey;
      const start = lab.net.now;
      const sentBefore = a.node.sent.length;
      for (let second = 0; second < 10; second++) {
        for (let i = 0; i < 20; i++) send(key, 9000 + second * 20 + i, 1 + second * 20 + i);
        lab.runFor(1_000);
      }
      const seconds = (lab.net.now - start) / 1000;
      // Every challenge to a relayed address the rendezvous made up went to the rendezvous itself.
      const relayPackets = a.node.sent
        .slice(sentBefore)
        .filter((s) => s.to.host === '198.51.100.1' && s.data[3] === RELAY_PACKET_CODE);
      const allowed = PUNCH_RATE.burst + PUNCH_RATE.perSecond * seconds;
      expect(a.client.stats.relayRepairs + a.client.stats.relayFallbacks).toBeLessThanOrEqual(allowed);
      if (kind === 'endpoint-independent') {
        // A healthy direct chat is never silent: nothing tried, nothing waits past its second.
        expect(a.client.stats.relayFallbacks).toBe(0);
      } else {
        // The chat's own relay packets go on beside them; the made-up tags' challenges are bounded.
        expect(a.client.stats.relayRepairs).toBeGreaterThan(0);
        expect(relayPackets.length).toBeGreaterThan(0);
      }
      // The chat stays where it was, and goes on.
      expect(peerOf(a)).toEqual(before);
      a.node.endpoint.send(sessionA, 'still here', lab.net.now);
      expect(lab.run(() => texts(b.node).includes('still here'))).toBe(true);
      expect([...eventsOf(a.node, 'lost'), ...eventsOf(b.node, 'lost')]).toEqual([]);
    });
  }

  it('20 chats fall silent at once while the rendezvous names each peer with made-up relay tags: at most MAX_FALLBACKS wait (the punch and refind rates keep it lower), one challenge each, all to the rendezvous', () => {
    const lab = new RendezvousLab(HEARTBEATS);
    const a = lab.home('endpoint-independent', 'anyone', [], HEARTBEATS);
    const peers = Array.from({ length: 20 }, (_, i) => lab.client(`198.18.5.${i + 1}`, 7000));
    expect(lab.run(() => lab.registered(a, ...peers))).toBe(true);
    for (const peer of peers) {
      const opened = chat(lab, a, peer);
      expect(opened.accepted, JSON.stringify(opened.failed)).toBeDefined();
      lab.runFor(300); // within what the rendezvous reads from one host (5 requests a second)
    }
    const introduce = hostileIntroducer(lab, '203.0.113.1');
    const send = (key: Uint8Array, port: number, relayTag: number) =>
      introduce(key, { host: '192.0.2.9', port }, relayTag);
    // Every peer goes dark (the rendezvous still holds their registrations for a while).
    const dark = new Set(peers.map((p) => p.node.address.host));
    lab.net.filter = (from, to) => !dark.has(from.host) && !dark.has(to.host);
    const fallback = (a.client as unknown as { chats: { fallback: { size: number } } }).chats.fallback;
    const sentBefore = a.node.sent.length;
    let most = 0;
    let tag = 1;
    for (let second = 0; second < 6; second++) {
      for (const peer of peers) send(peer.node.endpoint.identity.publicKey, 9000 + tag, tag++);
      lab.run(() => {
        most = Math.max(most, fallback.size);
        return false;
      }, 1_000);
    }
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(MAX_FALLBACKS);
    // Each fallback tried is one path challenge inside a relay packet (73 bytes), to the rendezvous.
    const relayPackets = a.node.sent
      .slice(sentBefore)
      .filter((s) => s.data[3] === RELAY_PACKET_CODE)
      .map((s) => ({ host: s.to.host, bytes: s.data.length }));
    expect(relayPackets.length).toBe(a.client.stats.relayFallbacks);
    for (const packet of relayPackets) expect(packet).toEqual({ host: '198.51.100.1', bytes: 73 });
    console.log(
      `[relay fallback] 20 silent chats, hostile introductions: at most ${most} fallbacks waited, ${relayPackets.length} tried`,
    );
  });
});

/**
 * A peer that predates the fallback (PROTOCOL.md: "A peer that predates this"): its client acts
 * on no relay tag for an open chat, asks for no relayed chat's peer and never doubts its
 * rendezvous for a chat's silence. Played by switching those three off in a current client.
 */
function predating(home: Home): void {
  const { chats } = home.client as unknown as {
    chats: { fallback: { offer: () => void }; repairRelayed: () => void };
  };
  chats.fallback.offer = () => {};
  chats.repairRelayed = () => {};
  const silent = home.client.onPeerSilent.bind(home.client);
  home.client.onPeerSilent = (channel, now) => {
    if (channel.address.host !== RELAY_HOST) silent(channel, now);
  };
}

describe('relay fallback with a peer that predates it', () => {
  it('a direct chat whose NAT starts randomising, the other side old: the new side moves both onto the relay', () => {
    const { lab, a, b, sessionA, sessionB } = chatting('endpoint-independent');
    predating(b);
    a.nat.startRandomising();
    a.node.endpoint.send(sessionA, 'after, from a', lab.net.now);
    b.node.endpoint.send(sessionB, 'after, from b', lab.net.now);
    const both = () => texts(b.node).includes('after, from a') && texts(a.node).includes('after, from b');
    expect(lab.run(both, 30_000)).toBe(true);
    expect(peerOf(a)?.host).toBe(RELAY_HOST);
    expect(peerOf(b)?.host).toBe(RELAY_HOST);
    expect(b.client.stats.relayFallbacks).toBe(0);
    expect([...eventsOf(a.node, 'lost'), ...eventsOf(b.node, 'lost')]).toEqual([]);
  });

  it('a relayed chat across a rendezvous restart, the other side old: re-paired by the new side (default heartbeats)', () => {
    const { lab, a, b, sessionA: session } = chatting('port-randomising', {});
    expect(peerOf(a)?.host).toBe(RELAY_HOST);
    predating(b);
    lab.runFor(10_000);
    lab.restartRendezvous();
    a.node.endpoint.send(session, 'after the restart', lab.net.now);
    expect(lab.run(() => texts(b.node).includes('after the restart'), 90_000)).toBe(true);
    expect(b.client.stats.relayRepairs).toBe(0);
    expect(a.client.stats.relayRepairs).toBeGreaterThanOrEqual(1);
    expect([...eventsOf(a.node, 'lost'), ...eventsOf(b.node, 'lost')]).toEqual([]);
  });
});

/**
 * Early refind, attacked (session/liveness.ts onUnanswered, SessionContext.peerQuiet,
 * EndpointHost.chatSilent, rendezvous/refinds.ts, relay-fallback.ts): a send unanswered through
 * 1 s of silence asks the rendezvous for the peer again, and a direct chat still silent a second
 * after the answer tries the relay. Can a peer that stops answering, one that answers only every
 * other second, or a stranger with many such chats make a client flood its rendezvous, or move a
 * chat onto the relay and off it again and again? Per minute, against the stated bounds
 * (PROTOCOL.md, *Finding a peer again*: 1 refind a second per peer, 2 a second in all, in bursts
 * of 4; the rendezvous reads 5 a second from one host). Virtual time, the default 25 s heartbeats,
 * a client sending a line every 250 ms throughout. And a hostile rendezvous that names the peer
 * of a direct transfer with a new relay tag 20 times a second: the relay is tried only by a chat
 * that is silent, so the transfer neither moves nor slows.
 */
import { describe, expect, it } from 'vitest';
import { RELAY_HOST } from '../src/index.js';
import { REFIND_RATE } from '../src/rendezvous/refinds.js';
import { pathLink, ShapedLinks } from '../src/testing/shaped-links.js';
import {
  chat,
  hostileIntroducer,
  RENDEZVOUS_ADDRESS,
  RendezvousLab,
  streamChat,
} from './support/rendezvous-lab.js';
import { pattern, StreamReader, StreamWriter } from './support/stream-apps.js';
import { eventsOf } from './support/virtual-network.js';

const MINUTES = 3;
const LINE_EVERY_MS = 250;

interface Figures {
  refinds: number;
  /** Datagrams and bytes the client sent its rendezvous. */
  toRendezvous: number;
  toRendezvousBytes: number;
  relayFallbacks: number;
  /** Times the client's chats moved (validated paths), onto the relay and off it. */
  moves: number;
  ontoRelay: number;
  rendezvousRateLimited: number;
  lost: number;
}

/**
 * `victim` chats with each of `peers` (they asked, it accepted), then sends each a line every
 * 250 ms for MINUTES while `answers(now)` says whether the peers' datagrams get out.
 */
function attack(peerCount: number, answers: (now: number, to: string) => boolean) {
  const lab = new RendezvousLab();
  const victim = lab.home('endpoint-independent');
  const peers = Array.from({ length: peerCount }, () => lab.home('endpoint-independent'));
  expect(lab.run(() => lab.registered(victim, ...peers))).toBe(true);
  const sessions: number[] = [];
  for (const peer of peers) {
    const opened = chat(lab, peer, victim);
    expect(opened.accepted, JSON.stringify(opened.failed)).toBeDefined();
    sessions.push(opened.incoming?.session as number);
  }
  const peerHosts = new Set(peers.map((p) => p.nat.publicHost));
  lab.net.filter = (from, to) => !peerHosts.has(from.host) || answers(lab.net.now, to.host);
  const stats = () => victim.client.stats;
  const before = { ...stats(), sent: victim.node.sent.length };
  const movesBefore = victim.node.endpoint.secureStats.pathMoves;
  const limitedBefore = lab.server.stats.rateLimited;
  let ontoRelay = 0;
  const onRelay = new Map<number, boolean>();
  const start = lab.net.now;
  for (
    let tick = 0;
    lab.net.now - start < MINUTES * 60_000 && tick < (MINUTES * 60_000) / LINE_EVERY_MS;
    tick++
  ) {
    for (const session of sessions) {
      const info = victim.node.endpoint.session(session);
      if (info?.state !== 'open') continue;
      const relayed = info.peer.host === RELAY_HOST;
      if (relayed && onRelay.get(session) === false) ontoRelay++;
      onRelay.set(session, relayed);
      victim.node.endpoint.send(session, `line ${tick}`, lab.net.now);
    }
    lab.runFor(LINE_EVERY_MS);
  }
  const toRendezvous = victim.node.sent
    .slice(before.sent)
    .filter((s) => s.to.host === RENDEZVOUS_ADDRESS.host && s.to.port === RENDEZVOUS_ADDRESS.port);
  const figures: Figures = {
    refinds: stats().refinds - before.refinds,
    toRendezvous: toRendezvous.length,
    toRendezvousBytes: toRendezvous.reduce((sum, s) => sum + s.data.length, 0),
    relayFallbacks: stats().relayFallbacks - before.relayFallbacks,
    moves: victim.node.endpoint.secureStats.pathMoves - movesBefore,
    ontoRelay,
    rendezvousRateLimited: lab.server.stats.rateLimited - limitedBefore,
    lost: eventsOf(victim.node, 'lost').length,
  };
  return { lab, victim, peers, figures };
}

const perMinute = (n: number) => (n / MINUTES).toFixed(1);

function report(what: string, f: Figures): void {
  console.log(
    `[early refind] ${what}, over ${MINUTES} min, per minute: ${perMinute(f.refinds)} refinds, ${perMinute(f.toRendezvous)} datagrams (${perMinute(f.toRendezvousBytes)} bytes) to the rendezvous, ${perMinute(f.relayFallbacks)} relay fallbacks, ${perMinute(f.moves)} path moves (${perMinute(f.ontoRelay)} onto the relay); ${f.rendezvousRateLimited} rate-limited at the rendezvous, ${f.lost} chats lost`,
  );
}

describe('early refind, attacked', () => {
  it('a peer that stops answering while lines go to it: one early refind, then one per missed heartbeat; no relay move', () => {
    const { figures } = attack(1, () => false);
    report('a peer that stopped answering', figures);
    // The early one, then one at each missed heartbeat until the chat is lost (3 at most).
    expect(figures.refinds).toBeLessThanOrEqual(1 + 3);
    expect(figures.moves).toBe(0);
    expect(figures.rendezvousRateLimited).toBe(0);
  });

  it.each([
    [1_000, 2_000],
    [250, 2_000],
    [250, 1_250],
  ])(
    'a peer that answers for %i ms of every %i: within 1 refind a second, the chat never lost',
    (on, period) => {
      const { figures } = attack(1, (now) => now % period < on);
      report(`a peer answering ${on} ms of every ${period}`, figures);
      const seconds = MINUTES * 60;
      expect(figures.refinds).toBeLessThanOrEqual(seconds);
      expect(figures.rendezvousRateLimited).toBe(0);
      expect(figures.lost).toBe(0);
    },
  );

  it('a stranger with 12 chats, each answering 250 ms of every 2 s: 2 refinds a second in all, nothing refused at the rendezvous', () => {
    const { figures } = attack(12, (now) => now % 2_000 < 250);
    report('12 chats answering 250 ms of every 2 s', figures);
    const seconds = MINUTES * 60;
    expect(figures.refinds).toBeLessThanOrEqual(REFIND_RATE.burst + REFIND_RATE.perSecond * seconds);
    // Each refind is one introduce and at most a relay fallback's challenge, besides the
    // registration's heartbeats and their answers' probes.
    expect(figures.toRendezvous).toBeLessThanOrEqual(2 * figures.refinds + 12 * MINUTES);
    expect(figures.rendezvousRateLimited).toBe(0);
  });

  it("the same 12 chats do not starve a friend's refind: a line to the friend after our NAT maps us anew arrives within 10 s", () => {
    // Before the refinds waited their turn, a friend's early refind refused by the spent budget
    // was not asked again until the next missed heartbeat (37.5 s), and that one could be refused too.
    const delays: number[] = [];
    for (let round = 0; round < 5; round++) {
      const lab = new RendezvousLab();
      const victim = lab.home('endpoint-independent');
      const friend = lab.home('endpoint-independent');
      const strangers = Array.from({ length: 12 }, () => lab.home('endpoint-independent'));
      expect(lab.run(() => lab.registered(victim, friend, ...strangers))).toBe(true);
      const withFriend = chat(lab, friend, victim);
      const friendSession = withFriend.incoming?.session as number;
      const strangerSessions = strangers.map(
        (stranger) => chat(lab, stranger, victim).incoming?.session as number,
      );
      const hosts = new Set(strangers.map((p) => p.nat.publicHost));
      lab.net.filter = (from) => !hosts.has(from.host) || lab.net.now % 2_000 < 250;
      const tick = () => {
        for (const session of strangerSessions)
          victim.node.endpoint.send(session, 'to a stranger', lab.net.now);
      };
      for (let i = 0; i < 40; i++) {
        tick();
        lab.runFor(LINE_EVERY_MS);
      }
      lab.runFor(137 * round);
      victim.nat.flush();
      const sentAt = lab.net.now;
      victim.node.endpoint.send(friendSession, 'to the friend', lab.net.now);
      const arrived = () => eventsOf(friend.node, 'message').some((m) => m.text === 'to the friend');
      for (let i = 0; i < 240 && !arrived(); i++) {
        tick();
        lab.runFor(LINE_EVERY_MS);
      }
      expect(arrived()).toBe(true);
      delays.push(lab.net.now - sentAt);
    }
    console.log(
      `[early refind] a friend moved while 12 strangers spend the refind budget: its line arrived after ${delays.map((d) => (d / 1000).toFixed(1)).join(', ')} s`,
    );
    for (const delay of delays) expect(delay).toBeLessThan(10_000);
  });

  it.each([2_000, 5_000, 15_000])(
    'a direct path that fails every other %i ms, the relay always open: onto the relay and off it at most once a cycle',
    (half) => {
      const { figures, lab } = attack(
        1,
        (now, to) => to === RENDEZVOUS_ADDRESS.host || now % (2 * half) < half,
      );
      report(`a direct path failing every other ${half} ms`, figures);
      console.log(
        `[early refind] the rendezvous: ${lab.server.stats.introductions} introductions, ${lab.server.stats.relayed} packets relayed`,
      );
      const cycles = (MINUTES * 60_000) / (2 * half);
      expect(figures.ontoRelay).toBeLessThanOrEqual(cycles);
      expect(figures.moves).toBeLessThanOrEqual(2 * cycles + 1);
      expect(figures.rendezvousRateLimited).toBe(0);
      expect(figures.lost).toBe(0);
    },
  );
});

/** More than 10 Mbit/s carries in the 22 s: the stream never ends first. */
const TRANSFER = pattern(32_000_000, 1);

describe('a hostile rendezvous and a direct transfer', () => {
  it('introductions naming the peer with a new relay tag 20 times a second for 20 s: the transfer stays direct and keeps its rate', () => {
    const run = (hostile: boolean) => {
      const { lab, a, b, sessionA, sessionB } = streamChat();
      const links = new ShapedLinks();
      // Between the NATs: from one's public address to the other's home address (translated both ways).
      links.route(a.nat.publicHost, b.node.address.host, pathLink({ bitsPerSecond: 10e6, rtt: 40 }));
      links.route(b.nat.publicHost, a.node.address.host, pathLink({ bitsPerSecond: 10e6, rtt: 40 }));
      links.install(lab.net);
      const reader = new StreamReader(lab.net, b.node, sessionB);
      const stream = a.node.endpoint.openStream(sessionA, lab.net.now);
      new StreamWriter(lab.net, a.node, sessionA, stream, TRANSFER);
      lab.runFor(2_000);
      const introduce = hostileIntroducer(lab, a.nat.publicHost);
      const peerAddress = a.node.endpoint.session(sessionA)?.peer;
      if (!peerAddress) throw new Error('no peer');
      const key = b.node.endpoint.identity.publicKey;
      const movesBefore = a.node.endpoint.secureStats.pathMoves;
      const readBefore = reader.bytesRead;
      const start = lab.net.now;
      for (let i = 0; i < 20 * 20; i++) {
        if (hostile) introduce(key, peerAddress, 1_000 + i);
        lab.runFor(50);
      }
      const mbps = ((reader.bytesRead - readBefore) * 8) / ((lab.net.now - start) / 1000) / 1e6;
      return {
        mbps,
        moves: a.node.endpoint.secureStats.pathMoves - movesBefore,
        relayed: a.node.endpoint.session(sessionA)?.peer.host === RELAY_HOST,
        fallbacks: a.client.stats.relayFallbacks,
      };
    };
    const calm = run(false);
    const attacked = run(true);
    console.log(
      `[early refind] a direct transfer: ${calm.mbps.toFixed(1)} Mbit/s; with a hostile rendezvous's 400 introductions (new relay tags) over 20 s ${attacked.mbps.toFixed(1)} Mbit/s, ${attacked.moves} moves, ${attacked.fallbacks} relay fallbacks`,
    );
    expect(attacked.moves).toBe(0);
    expect(attacked.relayed).toBe(false);
    expect(attacked.fallbacks).toBe(0);
    expect(attacked.mbps).toBeGreaterThan(0.9 * calm.mbps);
  });
});

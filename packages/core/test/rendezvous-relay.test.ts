/**
 * The relay, attacked: its budget (per client, however often a pair is introduced, however many
 * peers a client has), which pairs it keeps under a flood of introductions, what it forwards
 * (netchat packets only), who may spend a client's budget (only that client: spoofed and copied
 * packets are dropped), and pairs its owner no longer accepts. Bytes counted at the rendezvous.
 */
import { describe, expect, it } from 'vitest';
import type { Address } from '../src/index.js';
import { decodeRelay, RELAY_PACKET_CODE, relayAddress } from '../src/rendezvous/relay.js';
import { chat, type Home, type Peer, RendezvousLab } from './support/rendezvous-lab.js';
import { eventsOf } from './support/virtual-network.js';

const RATE = 4_000;
const BURST = 8_000;

/** Relay packets (and bytes) the rendezvous sent to `host` since `since`. */
function relayedTo(lab: RendezvousLab, host: string, since = 0) {
  const sent = lab.rendezvous.sent.filter(
    (s) => s.at >= since && s.to.host === host && s.data[3] === RELAY_PACKET_CODE,
  );
  return { packets: sent.length, bytes: sent.reduce((sum, s) => sum + s.data.length, 0) };
}

/** A lab of homes behind port-randomising NATs (no direct path: every chat is relayed). */
function relayLab(homes: number, serverOptions = {}) {
  const lab = new RendezvousLab({}, { relayBytesPerSecond: RATE, relayBurstBytes: BURST, ...serverOptions });
  const all: Home[] = [];
  for (let i = 0; i < homes; i++) all.push(lab.home('port-randomising'));
  expect(lab.run(() => lab.registered(...all))).toBe(true);
  return { lab, homes: all };
}

/** A relayed chat from `a` to `b`: a's session id and b's relayed address as a sees it. */
function relayedChat(lab: RendezvousLab, a: Peer, b: Peer): { session: number; relayed: Address } {
  const result = chat(lab, a, b);
  const peer = result.accepted?.peer;
  if (peer?.host !== 'relay') throw new Error('no relayed chat');
  return { session: result.session as number, relayed: peer };
}

function flood(lab: RendezvousLab, from: Peer, session: number, messages = 40): void {
  for (let i = 0; i < messages; i++) from.node.endpoint.send(session, 'x'.repeat(1_000), lab.net.now);
}

describe("relay budget: the operator's, per client", () => {
  it('holds however often the pair is introduced again', () => {
    const { lab, homes } = relayLab(2);
    const [a, b] = homes as [Home, Home];
    const { session } = relayedChat(lab, a, b);
    const start = lab.net.now;
    flood(lab, a, session, 60);
    // An introduction a second: each used to refill the pair's budget.
    for (let i = 0; i < 8; i++) {
      a.client.introduce(b.fingerprint, lab.net.now);
      lab.runFor(1_000);
    }
    const seconds = (lab.net.now - start) / 1000;
    const toB = relayedTo(lab, '203.0.113.2', start);
    expect(lab.server.stats.introductions).toBeGreaterThanOrEqual(8);
    expect(lab.server.stats.relayOverBudget).toBeGreaterThan(0);
    expect(toB.bytes).toBeLessThanOrEqual(BURST + RATE * seconds);
    expect(toB.bytes).toBeGreaterThan(RATE * seconds * 0.5);
  });

  it('holds per sender, however many peers it is introduced to (no N² amplification)', () => {
    const { lab, homes } = relayLab(4);
    const [a, ...targets] = homes as [Home, Home, Home, Home];
    const sessions = targets.map((t) => relayedChat(lab, a, t).session);
    const start = lab.net.now;
    for (const session of sessions) flood(lab, a, session, 30);
    lab.runFor(6_000);
    const seconds = (lab.net.now - start) / 1000;
    const toTargets = targets.reduce((sum, t) => sum + relayedTo(lab, t.nat.publicHost, start).bytes, 0);
    // What reached all three together is one client's budget, not three.
    expect(toTargets).toBeLessThanOrEqual(BURST + RATE * seconds);
    expect(toTargets).toBeGreaterThan(RATE * seconds * 0.5);
  });

  it('holds per receiver, however many peers send to it', () => {
    const { lab, homes } = relayLab(4);
    const [b, ...senders] = homes as [Home, Home, Home, Home];
    const sessions = senders.map((s) => ({ from: s, session: relayedChat(lab, s, b).session }));
    const start = lab.net.now;
    for (const { from, session } of sessions) flood(lab, from, session, 30);
    lab.runFor(6_000);
    const seconds = (lab.net.now - start) / 1000;
    const toB = relayedTo(lab, b.nat.publicHost, start).bytes;
    expect(toB).toBeLessThanOrEqual(BURST + RATE * seconds);
    expect(toB).toBeGreaterThan(RATE * seconds * 0.5);
  });
});

describe('relay pairs under a flood of introductions', () => {
  it('never evicts a pair in use: the flood gets no relay tag instead', () => {
    const lab = new RendezvousLab({}, { maxRelayPairs: 3, requestsPerSecond: 100, requestBurst: 100 });
    const a = lab.home('port-randomising');
    const b = lab.home('port-randomising');
    expect(lab.run(() => lab.registered(a, b))).toBe(true);
    const { session } = relayedChat(lab, a, b);
    // Twelve strangers, introduced to each other over and over: far more pairs than the table holds.
    const strangers: Peer[] = [];
    for (let i = 0; i < 12; i++) strangers.push(lab.client(`198.18.1.${i + 1}`, 6000));
    expect(lab.run(() => lab.registered(...strangers), 20_000)).toBe(true);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < strangers.length; i++)
        (strangers[i] as Peer).client.introduce(
          (strangers[(i + 1) % strangers.length] as Peer).fingerprint,
          lab.net.now,
        );
      lab.runFor(15_000);
      // The chat goes on through the relay meanwhile.
      a.node.endpoint.send(session, `still relayed ${round}`, lab.net.now);
      lab.runFor(2_000);
    }
    expect(eventsOf(b.node, 'message').map((m) => m.text)).toEqual([
      'still relayed 0',
      'still relayed 1',
      'still relayed 2',
    ]);
    expect(lab.server.sizes.relayPairs).toBeLessThanOrEqual(3);
    expect(lab.server.stats.relayUnpaired).toBe(0);
    // Strangers were introduced (to punch), some without a relay tag when no pair could be evicted.
    expect(lab.server.stats.introductions).toBeGreaterThan(30);
  });
});

describe('what the relay forwards, and for whom', () => {
  it('forwards only netchat packets: anything else inside a relay packet is dropped and counted', () => {
    const { lab, homes } = relayLab(2);
    const [a, b] = homes as [Home, Home];
    const { relayed } = relayedChat(lab, a, b);
    const before = relayedTo(lab, '203.0.113.2');
    // a, registered and authentic, wraps anything it likes.
    for (const inner of [
      new TextEncoder().encode('not a netchat packet'),
      Uint8Array.from([0x4e, 0x43, 0x02, 0x06]),
    ]) {
      const wrapped = a.client.wrap(relayed, inner);
      if (!wrapped) throw new Error('a cannot relay');
      lab.net.inject(lab.rendezvous, { host: '203.0.113.1', port: 1234 }, wrapped.data);
    }
    expect(lab.server.stats.relayMalformed).toBe(2);
    lab.runFor(100);
    expect(relayedTo(lab, '203.0.113.2')).toEqual(before);
  });

  it('spoofed and copied relay packets spend nothing and reach no one', () => {
    const { lab, homes } = relayLab(2);
    const [a, b] = homes as [Home, Home];
    const { session, relayed } = relayedChat(lab, a, b);
    const genuine = a.node.sent.filter((s) => s.data[3] === RELAY_PACKET_CODE).at(-1);
    const decoded = decodeRelay(genuine?.data as Uint8Array);
    if (!genuine || !decoded.ok) throw new Error('no relay packet from a');
    const before = relayedTo(lab, '203.0.113.2');
    const forwarded = lab.server.stats.relayed;
    // 200 forgeries in a's name (its tag, any MAC) from a's own address, and 200 copies of a real one.
    for (let i = 0; i < 200; i++) {
      const forged = Uint8Array.from(genuine.data);
      forged[15] = i; // another counter: the MAC no longer matches
      lab.net.inject(lab.rendezvous, { host: '203.0.113.1', port: 40_000 + i }, forged);
      lab.net.inject(lab.rendezvous, { host: '192.0.2.9', port: 9 }, genuine.data);
    }
    expect(lab.server.stats.relayForged).toBe(400);
    expect(lab.server.stats.relayed).toBe(forwarded);
    lab.runFor(100);
    expect(relayedTo(lab, '203.0.113.2')).toEqual(before);
    // a's own budget is untouched: its chat goes on at once.
    a.node.endpoint.send(session, 'after the forgeries', lab.net.now);
    lab.run(() => eventsOf(b.node, 'message').length > 0);
    expect(eventsOf(b.node, 'message')[0]?.text).toBe('after the forgeries');
    expect(relayed.host).toBe('relay');
  });

  it('ends a pair when its owner switches to introductions from known peers only', () => {
    const { lab, homes } = relayLab(2);
    const [a, b] = homes as [Home, Home];
    const { session } = relayedChat(lab, a, b);
    expect(lab.server.sizes.relayPairs).toBe(1);
    b.client.setIntroductions('listed', [], lab.net.now); // a is not listed
    lab.runFor(1_000);
    expect(lab.server.sizes.relayPairs).toBe(0);
    const switched = lab.net.now;
    let sent = 0;
    for (let i = 0; i < 8; i++) {
      if (a.node.endpoint.session(session)) {
        a.node.endpoint.send(session, `after the switch ${i}`, lab.net.now);
        sent++;
      }
      lab.runFor(20_000);
    }
    // 160 s later nothing of a's has reached b; the relayed chat was lost by its heartbeats.
    expect(sent).toBeGreaterThan(2);
    expect(relayedTo(lab, '203.0.113.2', switched).packets).toBe(0);
    expect(eventsOf(b.node, 'message')).toHaveLength(0);
    expect(lab.server.stats.relayUnpaired).toBeGreaterThan(0);
    expect(eventsOf(a.node, 'lost').map((e) => e.session)).toContain(session);
  });

  it('gives relay tags at random, not in order of registration', () => {
    const lab = new RendezvousLab();
    const peers: Peer[] = [];
    for (let i = 0; i < 10; i++) peers.push(lab.client(`198.18.2.${i + 1}`, 6000));
    expect(lab.run(() => lab.registered(...peers))).toBe(true);
    const tags = [
      ...(lab.server as unknown as { table: { byTag: Map<number, unknown> } }).table.byTag.keys(),
    ];
    expect(tags).toHaveLength(10);
    expect(tags.every((t) => t > 0 && t <= 0xffff_ffff)).toBe(true);
    expect(Math.max(...tags)).toBeGreaterThan(1_000_000); // ten sequential tags would be 1..10
    expect(new Set(tags.map((t) => t - (tags[0] as number))).size).toBe(10);
    expect(relayAddress(tags[0] as number).host).toBe('relay');
  });
});

/**
 * The rendezvous, attacked: whom it serves (only peers its application admitted), what it keeps
 * under churn (nothing once the clients are gone), and what a flood of registrations can do
 * (nothing to the live ones). Raw peers and floods on the virtual network; every size measured.
 */
import { describe, expect, it } from 'vitest';
import { encodeRendezvous, fingerprintBytes } from '../src/index.js';
import { FRESH_REGISTRATION_MS } from '../src/rendezvous/client.js';
import { chat, hostOf, type Peer, RENDEZVOUS_ADDRESS, RendezvousLab } from './support/rendezvous-lab.js';
import { eventsOf, type Node } from './support/virtual-network.js';

/**
 * A raw peer that opens a channel to the rendezvous (a handshake, and a request the rendezvous's
 * application holds or declines), then sends rendezvous messages on it.
 */
function rawPeer(lab: RendezvousLab, host: string): { node: Node; send: (bytes: Uint8Array) => void } {
  const node = lab.net.add(host, 4444, { nick: 'raw' });
  const session = node.endpoint.connect(RENDEZVOUS_ADDRESS, lab.net.now);
  const own = hostOf(node.endpoint);
  let channel: number | undefined;
  lab.run(() => {
    channel ??= own.channelOf(session)?.id;
    return channel !== undefined;
  });
  if (channel === undefined) throw new Error('no channel to the rendezvous');
  const id = channel;
  return { node, send: (bytes) => own.sendControl(id, bytes, lab.net.now) };
}

const register = encodeRendezvous({
  type: 'register',
  request: 1,
  acceptFrom: 'anyone',
  keys: new Uint8Array(0),
});
const introduceTo = (fingerprint: string) =>
  encodeRendezvous({
    type: 'introduce',
    request: 2,
    fingerprint: fingerprintBytes(fingerprint) as Uint8Array,
  });

describe('rendezvous: only peers its application admitted', () => {
  it('a peer whose request is waiting or was declined cannot register, be introduced or learn anything', () => {
    const lab = new RendezvousLab();
    const friend = lab.home('endpoint-independent');
    expect(lab.run(() => lab.registered(friend))).toBe(true);
    // The operator's policy (the bot's --accept none / --allow): raw peers are held, then declined.
    let decide: boolean | 'hold' = 'hold';
    lab.admit = (request) => (request.peer.host.startsWith('192.0.2.') ? decide : true);
    const raw = rawPeer(lab, '192.0.2.66');
    const answersBefore = raw.node.endpoint.stats.datagramsIn;
    raw.send(register);
    raw.send(introduceTo(friend.fingerprint));
    lab.runFor(2_000);
    decide = false; // declined: its channel stays open a while, its session drains
    expect(lab.run(() => eventsOf(raw.node, 'declined').length > 0)).toBe(true);
    raw.send(register);
    raw.send(introduceTo(friend.fingerprint));
    lab.runFor(2_000);
    expect(lab.server.stats.unadmitted).toBe(4);
    expect(lab.server.size).toBe(1);
    expect(lab.server.stats.introductions).toBe(0);
    // Nothing came back but the decline (and its channel's keepalives): no rendezvous message at all.
    expect(raw.node.endpoint.stats.malformed).toBe(0);
    expect(raw.node.endpoint.stats.datagramsIn - answersBefore).toBeLessThanOrEqual(3);
    expect(lab.updatesOf(friend, 'punched')).toHaveLength(0);
  });

  it('a client the policy declines (--accept none, --allow) is never registered, and cannot be found', () => {
    const lab = new RendezvousLab();
    const a = lab.home('endpoint-independent');
    lab.admit = (request) => request.peer.host !== '203.0.113.2';
    const refused = lab.home('endpoint-independent');
    expect(lab.run(() => lab.registered(a) && lab.updatesOf(refused, 'unregistered').length > 0)).toBe(true);
    lab.runFor(5_000);
    expect(refused.client.isRegistered).toBe(false);
    expect(lab.server.size).toBe(1);
    expect(chat(lab, a, refused).failed?.reason).toBe('unavailable');
  });

  it("past the operator's session limit (--max-sessions) a client is declined, so not registered", () => {
    const lab = new RendezvousLab();
    lab.admit = () => lab.rendezvous.endpoint.listSessions().filter((s) => s.state === 'open').length < 2;
    const homes = [lab.home('endpoint-independent'), lab.home('endpoint-independent')];
    expect(lab.run(() => lab.registered(...homes))).toBe(true);
    const third = lab.home('endpoint-independent');
    lab.runFor(5_000);
    expect(third.client.isRegistered).toBe(false);
    expect(lab.server.size).toBe(2);
  });

  it('a registration goes at once when its session ends (the operator closed it)', () => {
    const lab = new RendezvousLab();
    const a = lab.home('endpoint-independent');
    const b = lab.home('endpoint-independent');
    expect(lab.run(() => lab.registered(a, b))).toBe(true);
    // Past a's fresh registration, whose lookups ask again after unavailable (rendezvous-fresh.test.ts).
    lab.runFor(FRESH_REGISTRATION_MS);
    const sessionOfB = lab.rendezvous.endpoint.listSessions().find((s) => s.peer.host === '203.0.113.2');
    lab.rendezvous.endpoint.close(sessionOfB?.id as number, lab.net.now);
    lab.runFor(100);
    expect(lab.server.size).toBe(1);
    expect(chat(lab, a, b).failed?.reason).toBe('unavailable');
  });
});

describe('rendezvous: nothing leaks under churn', () => {
  it('registrations from reused addresses, introduced and relayed, leave nothing once their clients are gone', () => {
    const lab = new RendezvousLab();
    const ADDRESSES = 12;
    const ROUNDS = 8;
    let made = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // New keys from the same addresses each round (as 100,000 registrations from 10,000 addresses).
      const clients: Peer[] = [];
      for (let i = 0; i < ADDRESSES; i++) clients.push(lab.client(`192.0.2.${10 + i}`, 7000 + (i % 3)));
      expect(lab.run(() => lab.registered(...clients), 20_000)).toBe(true);
      made += clients.length;
      // Pairs and relay accounts too: each asks for the next.
      for (let i = 0; i + 1 < clients.length; i += 2) chat(lab, clients[i] as Peer, clients[i + 1] as Peer);
      expect(lab.server.sizes.relayPairs).toBeGreaterThan(0);
      // Half leave politely (their sessions close), half vanish (lost by the heartbeats).
      for (const [i, c] of clients.entries()) {
        if (i % 2 === 0) c.node.endpoint.closeAll(lab.net.now);
        else unplug(lab, c.node);
      }
      lab.runFor(100_000);
    }
    expect(made).toBe(ADDRESSES * ROUNDS);
    expect(lab.server.stats.registrations).toBeGreaterThanOrEqual(made);
    // The per-host request limits forget idle hosts at the next request: one more client comes.
    const last = lab.client('192.0.2.200', 7000);
    expect(lab.run(() => lab.registered(last))).toBe(true);
    last.node.endpoint.closeAll(lab.net.now);
    lab.runFor(1_000);
    expect(lab.server.sizes).toEqual({
      registrations: 0,
      byFingerprint: 0,
      byTag: 0,
      byChannel: 0,
      relayPairs: 0,
      relayPairTags: 0,
      relayAccounts: 0,
      rateLimitedHosts: 1,
    });
    expect(lab.rendezvous.endpoint.listSessions()).toHaveLength(0);
  });
});

/** Takes `node` off the network, as if its host were unplugged: nothing in, nothing out. */
function unplug(lab: RendezvousLab, node: Node): void {
  const dead = {
    handleDatagram() {},
    handleTimeout() {},
    nextTimeout: () => undefined,
    pollTransmit: () => undefined,
    pollEvent: () => undefined,
  };
  lab.net.attach(dead, node.address.host, node.address.port);
}

describe('rendezvous: a flood of registrations', () => {
  it('refuses newcomers when full and never evicts a live registration; a closed one makes room at once', () => {
    const lab = new RendezvousLab({}, { maxRegistrations: 5, requestsPerSecond: 1_000, requestBurst: 1_000 });
    const a = lab.home('endpoint-independent');
    const b = lab.home('endpoint-independent');
    expect(lab.run(() => lab.registered(a, b))).toBe(true);
    // 60 fresh keys from 20 addresses, all at once.
    const flood: Peer[] = [];
    for (let i = 0; i < 60; i++)
      flood.push(lab.client(`198.18.0.${1 + (i % 20)}`, 9000 + Math.floor(i / 20)));
    lab.run(
      () => flood.every((f) => f.client.isRegistered || lab.updatesOf(f, 'refused').length > 0),
      30_000,
    );
    const inside = flood.filter((f) => f.client.isRegistered);
    expect(inside).toHaveLength(3);
    expect(flood.filter((f) => lab.updatesOf(f, 'refused')[0]?.reason === 'full')).toHaveLength(57);
    expect(lab.server.size).toBe(5);
    expect(lab.server.stats.registrationsRefused).toBe(57);
    // The live clients, who never register again, are still found.
    expect(chat(lab, a, b).accepted).toBeDefined();
    expect(a.client.isRegistered && b.client.isRegistered).toBe(true);
    // One of the flood leaves: its record goes at once, and a refused client gets in on its retry.
    inside[0]?.node.endpoint.closeAll(lab.net.now);
    lab.runFor(200);
    expect(lab.server.size).toBe(4);
    const waiting = flood.filter((f) => !f.client.isRegistered);
    expect(lab.run(() => waiting.some((f) => f.client.isRegistered), 40_000)).toBe(true);
    expect(lab.server.size).toBe(5);
  });

  it('a client the rendezvous says it does not know registers again, and its request goes through', () => {
    const lab = new RendezvousLab();
    const a = lab.home('endpoint-independent');
    const b = lab.home('endpoint-independent');
    expect(lab.run(() => lab.registered(a, b))).toBe(true);
    // The rendezvous forgets a (as a restart or a bug would) while a's session lives on.
    const table = (
      lab.server as unknown as { table: { byFingerprintText(f: string): unknown; remove(r: unknown): void } }
    ).table;
    table.remove(table.byFingerprintText(a.fingerprint));
    expect(lab.server.size).toBe(1);
    const result = chat(lab, a, b);
    expect(a.client.stats.reregistrations).toBe(1);
    expect(result.accepted).toBeDefined();
    expect(lab.server.size).toBe(2);
  });
});

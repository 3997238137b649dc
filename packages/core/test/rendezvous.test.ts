/** Rendezvous and hole punching on virtual time, through modelled NAT routers (support/nat.ts). */
import { describe, expect, it } from 'vitest';
import { type Address, decodeRendezvous, encodeRendezvous } from '../src/index.js';
import { FRESH_REGISTRATION_MS, RELAY_AFTER_MS } from '../src/rendezvous/client.js';
import { chat, type Home, hostOf, RENDEZVOUS_ADDRESS, RendezvousLab } from './support/rendezvous-lab.js';
import { eventsOf, openPair, VirtualNetwork } from './support/virtual-network.js';

function registeredLab(kind: 'endpoint-independent' | 'port-randomising') {
  const lab = new RendezvousLab();
  const a = lab.home(kind);
  const b = lab.home(kind);
  expect(lab.run(() => lab.registered(a, b))).toBe(true);
  return { lab, a, b };
}

describe('rendezvous: registration', () => {
  it('registers each client under its key and tells it the address its NAT shows', () => {
    const { lab, a, b } = registeredLab('endpoint-independent');
    expect(lab.server.size).toBe(2);
    expect(lab.updatesOf(a, 'registered')[0]?.publicAddress).toEqual({ host: '203.0.113.1', port: 40_000 });
    expect(lab.updatesOf(b, 'registered')[0]?.publicAddress).toEqual({ host: '203.0.113.2', port: 40_000 });
    // The client's own session never reaches its application.
    expect(eventsOf(a.node, 'accepted')).toHaveLength(0);
  });

  it('keeps the session with heartbeats, and survives its NAT forgetting the mapping', () => {
    const { lab, a } = registeredLab('endpoint-independent');
    lab.runFor(120_000);
    expect(a.client.isRegistered).toBe(true);
    expect(lab.updatesOf(a, 'unregistered')).toHaveLength(0);
    // The NAT forgets every mapping (conntrack -F): the next heartbeat makes a new one, the
    // rendezvous validates the new path and carries on with it.
    a.nat.flush();
    lab.runFor(60_000);
    expect(a.client.isRegistered).toBe(true);
    expect(lab.updatesOf(a, 'unregistered')).toHaveLength(0);
    expect(lab.rendezvous.endpoint.secureStats.pathMoves).toBe(1);
  });
});

describe('rendezvous: a rendezvous that restarted', () => {
  it('is found lost by the heartbeats, and the client registers again with it', () => {
    const { lab, a, b } = registeredLab('endpoint-independent');
    lab.restartRendezvous();
    expect(lab.server.size).toBe(0);
    expect(lab.run(() => lab.registered(a, b) && lab.server.size === 2, 200_000)).toBe(true);
    expect(lab.updatesOf(a, 'unregistered')[0]).toMatchObject({ wasRegistered: true, retryIn: 1_000 });
    // Registered again, so found again.
    expect(chat(lab, a, b).accepted).toBeDefined();
  });

  it('tells a client once that it cannot reach the rendezvous', () => {
    const lab = new RendezvousLab();
    lab.net.filter = (_from, to) => to.host !== '198.51.100.1';
    const a = lab.home('endpoint-independent');
    lab.runFor(100_000);
    const tries = lab.updatesOf(a, 'unregistered');
    expect(tries).toHaveLength(1);
    expect(tries[0]).toMatchObject({ wasRegistered: false, retryIn: 1_000 });
    // It keeps trying, further and further apart: 30 s connect timeouts, gaps 1 s, 2 s, 4 s...
    const attempts = a.node.sent.filter((s) => s.to.host === '198.51.100.1' && s.data[3] === 1 && s.at > 0);
    expect(attempts.length).toBeGreaterThan(1);
    expect(a.client.isRegistered).toBe(false);
  });
});

describe('rendezvous: hole punching', () => {
  it('opens a direct chat between two homes behind endpoint-independent NATs', () => {
    const { lab, a, b } = registeredLab('endpoint-independent');
    const result = chat(lab, a, b);
    expect(result.ready?.address).toEqual({ host: '203.0.113.2', port: 40_000 });
    expect(result.incoming?.fingerprint).toBe(a.fingerprint);
    expect(result.accepted?.fingerprint).toBe(b.fingerprint);
    // Direct: the chat's packets go between the two public addresses, never to the rendezvous.
    const before = lab.rendezvous.sent.length;
    a.node.endpoint.send(result.session as number, 'hello through two NATs', lab.net.now);
    lab.run(() => eventsOf(b.node, 'message').length > 0);
    expect(eventsOf(b.node, 'message')[0]?.text).toBe('hello through two NATs');
    expect(lab.rendezvous.sent.length).toBe(before);
    expect(result.openedIn).toBeLessThan(2_000);
  });

  it('ends with one channel between the two peers: the punch is one init, never a second channel', () => {
    const { lab, a, b } = registeredLab('endpoint-independent');
    const result = chat(lab, a, b);
    expect(result.accepted).toBeDefined();
    expect(b.client.stats.punches).toBe(1);
    lab.runFor(40_000);
    expect(eventsOf(a.node, 'closed')).toHaveLength(0);
    // One channel to the rendezvous and one to the peer, on each side.
    expect(a.node.endpoint.secureSizes.channels).toBe(2);
    expect(b.node.endpoint.secureSizes.channels).toBe(2);
    // The application lists its chat only: the session with the rendezvous is the role's own.
    expect(a.node.endpoint.listSessions().map((s) => s.state)).toEqual(['open']);
  });

  it("a client's session with its rendezvous is not the application's: not listed, not counted toward maxSessions", () => {
    const lab = new RendezvousLab();
    const a = lab.home('endpoint-independent', 'anyone', [], { maxSessions: 1 });
    const b = lab.home('endpoint-independent', 'anyone', [], { maxSessions: 1 });
    expect(lab.run(() => lab.registered(a, b))).toBe(true);
    expect(a.node.endpoint.listSessions()).toHaveLength(0);
    // One chat each is within maxSessions 1: neither side's own request nor b's answer is refused.
    const result = chat(lab, a, b);
    expect(result.accepted).toBeDefined();
    expect(eventsOf(a.node, 'declined')).toHaveLength(0);
    expect(b.node.endpoint.stats.refusedOverLimit).toBe(0);
    expect(a.node.endpoint.listSessions()).toHaveLength(1);
    // A second is past it: the application's limit still holds.
    expect(() => a.node.endpoint.connect({ host: '192.0.2.1', port: 9 }, lab.net.now)).toThrow(/limit of 1/);
  });

  it('when both people ask for each other at the same moment, one chat opens and one channel stays', () => {
    const { lab, a, b } = registeredLab('endpoint-independent');
    const requestA = a.client.introduce(b.fingerprint, lab.net.now);
    const requestB = b.client.introduce(a.fingerprint, lab.net.now);
    const readyOf = (home: Home, request: number) =>
      lab.updatesOf(home, 'ready').find((u) => u.request === request);
    expect(lab.run(() => readyOf(a, requestA) !== undefined && readyOf(b, requestB) !== undefined)).toBe(
      true,
    );
    const sessionA = a.node.endpoint.connect(
      (readyOf(a, requestA) as { address: Address }).address,
      lab.net.now,
    );
    const sessionB = b.node.endpoint.connect(
      (readyOf(b, requestB) as { address: Address }).address,
      lab.net.now,
    );
    // Simultaneous open: each side's own request is accepted by the other's, with nobody asked.
    expect(
      lab.run(
        () => eventsOf(a.node, 'accepted').length > 0 && eventsOf(b.node, 'accepted').length > 0,
        10_000,
      ),
    ).toBe(true);
    expect(eventsOf(a.node, 'accepted').map((e) => e.session)).toEqual([sessionA]);
    expect(eventsOf(b.node, 'accepted').map((e) => e.session)).toEqual([sessionB]);
    expect(eventsOf(a.node, 'request')).toHaveLength(0);
    expect(eventsOf(b.node, 'request')).toHaveLength(0);
    a.node.endpoint.send(sessionA, 'hi from a', lab.net.now);
    b.node.endpoint.send(sessionB, 'hi from b', lab.net.now);
    lab.run(() => eventsOf(a.node, 'message').length > 0 && eventsOf(b.node, 'message').length > 0);
    expect(eventsOf(b.node, 'message').map((e) => e.text)).toEqual(['hi from a']);
    expect(eventsOf(a.node, 'message').map((e) => e.text)).toEqual(['hi from b']);
    // The second handshake's channel carries no session and closes as unused: one channel to the
    // rendezvous and one to the peer remain on each side, and the chat is never ended by it.
    lab.runFor(40_000);
    expect(eventsOf(a.node, 'closed')).toHaveLength(0);
    expect(eventsOf(b.node, 'closed')).toHaveLength(0);
    expect(a.node.endpoint.secureSizes.channels).toBe(2);
    expect(b.node.endpoint.secureSizes.channels).toBe(2);
  });

  it('finds a peer again after its NAT mapping expired', () => {
    const { lab, a, b } = registeredLab('endpoint-independent');
    b.nat.flush();
    lab.runFor(30_000); // a heartbeat on the new mapping; the rendezvous moves to it
    const result = chat(lab, a, b);
    expect(result.ready?.address).toEqual({ host: '203.0.113.2', port: 40_001 });
    expect(result.accepted).toBeDefined();
  });
});

describe('rendezvous: who may be introduced', () => {
  it('introduces only to a peer that accepts the asker', () => {
    const lab = new RendezvousLab();
    const a = lab.home('endpoint-independent');
    const strict = lab.home('endpoint-independent', 'listed', []);
    expect(lab.run(() => lab.registered(a, strict))).toBe(true);
    // Past a's fresh registration, whose lookups ask again after unavailable (rendezvous-fresh.test.ts).
    lab.runFor(FRESH_REGISTRATION_MS);
    const result = chat(lab, a, strict);
    expect(result.failed?.reason).toBe('unavailable');
    expect(lab.updatesOf(strict, 'punched')).toHaveLength(0);
    expect(lab.server.stats.refused).toBe(1);
  });

  it("introduces to a peer that lists the asker's key", () => {
    const lab = new RendezvousLab();
    const a = lab.home('endpoint-independent');
    const friend = lab.home('endpoint-independent', 'listed', [a.node.endpoint.identity.publicKey]);
    expect(lab.run(() => lab.registered(a, friend))).toBe(true);
    expect(chat(lab, a, friend).accepted).toBeDefined();
  });

  it('answers an unknown fingerprint exactly as a refusal', () => {
    const { lab, a } = registeredLab('endpoint-independent');
    const request = a.client.introduce('AAAA-BBBB-CCCC-DDDD', lab.net.now);
    lab.run(() => lab.updatesOf(a, 'failed').length > 0);
    expect(lab.updatesOf(a, 'failed')[0]).toMatchObject({ request, reason: 'unavailable' });
  });

  it('fails at once when not registered', () => {
    const lab = new RendezvousLab();
    const a = lab.home('endpoint-independent');
    a.client.introduce('AAAA-BBBB-CCCC-DDDD', lab.net.now);
    lab.step();
    expect(lab.updatesOf(a, 'failed')[0]?.reason).toBe('not_registered');
  });

  it('limits requests per host', () => {
    const { lab, a, b } = registeredLab('endpoint-independent');
    // Past a's fresh registration, whose lookups ask again after rate_limited
    // (rendezvous-fresh-attacker.test.ts has the flood within it).
    lab.runFor(FRESH_REGISTRATION_MS);
    for (let i = 0; i < 30; i++) a.client.introduce(b.fingerprint, lab.net.now);
    lab.run(() => lab.updatesOf(a, 'failed').length + lab.updatesOf(a, 'ready').length >= 30);
    expect(lab.updatesOf(a, 'failed').filter((u) => u.reason === 'rate_limited').length).toBeGreaterThan(0);
    expect(lab.server.stats.introductions).toBeLessThanOrEqual(10);
    // The introduced side schedules a bounded number of punches whatever the flood.
    expect(b.client.stats.punches).toBeLessThanOrEqual(16);
  });
});

describe('rendezvous: never amplifies, never throws', () => {
  it('answers each request with no more bytes than the request', () => {
    const size = (m: Parameters<typeof encodeRendezvous>[0]) => encodeRendezvous(m).length;
    const ip = new Uint8Array(16);
    const register = size({ type: 'register', request: 1, acceptFrom: 'anyone', keys: new Uint8Array(0) });
    const introduce = size({ type: 'introduce', request: 1, fingerprint: new Uint8Array(10) });
    const registered = size({
      type: 'registered',
      request: 1,
      ip,
      port: 1,
      tag: 1,
      relayKey: new Uint8Array(32),
    });
    expect(registered).toBe(62);
    expect(registered).toBeLessThanOrEqual(register);
    expect(size({ type: 'register_failed', request: 1, reason: 'full' })).toBeLessThanOrEqual(register);
    expect(
      size({
        type: 'introduction',
        request: 1,
        role: 'requester',
        key: new Uint8Array(32),
        ip,
        port: 1,
        startIn: 0,
        relayTag: 1,
      }),
    ).toBeLessThanOrEqual(introduce);
    for (const reason of ['unavailable', 'rate_limited', 'not_registered'] as const)
      expect(size({ type: 'introduce_failed', request: 1, reason })).toBeLessThanOrEqual(introduce);
  });

  it('sends a client no packet larger than the largest it sent', () => {
    const { lab, a, b } = registeredLab('endpoint-independent');
    chat(lab, a, b);
    const largestIn = Math.max(
      ...a.node.sent.filter((s) => s.to.host === RENDEZVOUS_ADDRESS.host).map((s) => s.data.length),
    );
    const largestOut = Math.max(
      ...lab.rendezvous.sent.filter((s) => s.to.host === '203.0.113.1').map((s) => s.data.length),
    );
    expect(largestOut).toBeLessThanOrEqual(largestIn);
  });

  it('drops and counts malformed rendezvous messages, at a rendezvous and at a peer without a role', () => {
    const { lab, a } = registeredLab('endpoint-independent');
    const host = (a.client as unknown as { registration: { channel: number } }).registration.channel;
    const garbage = [
      Uint8Array.from([0x4e, 0x43, 0x10, 0x09, 0, 0, 0, 1]), // unknown code
      Uint8Array.from([0x4e, 0x43, 0x10, 0x03, 0, 0, 0]), // truncated
      encodeRendezvous({ type: 'introduce_failed', request: 1, reason: 'unavailable' }), // only a rendezvous sends it
    ];
    const send = hostOf(a.node.endpoint);
    for (const bytes of garbage) expect(send.sendControl(host, bytes, lab.net.now)).toBe(true);
    lab.runFor(100);
    expect(lab.server.stats.malformed).toBe(3);
    expect(a.client.isRegistered).toBe(true);

    expect(decodeRendezvous(garbage[0] as Uint8Array).ok).toBe(false);
  });

  it('a peer that plays no rendezvous role drops a rendezvous message and counts it', () => {
    const net = new VirtualNetwork(5);
    const { a, b } = openPair(net);
    const channelId = hostOf(a.endpoint).channelOf(eventsOf(a, 'accepted')[0]?.session as number)
      ?.id as number;
    const before = b.endpoint.stats.malformed;
    const sender = hostOf(a.endpoint);
    expect(
      sender.sendControl(
        channelId,
        encodeRendezvous({ type: 'introduce_failed', request: 1, reason: 'unavailable' }),
        net.now,
      ),
    ).toBe(true);
    net.runFor(100);
    expect(b.endpoint.stats.malformed).toBe(before + 1);
    expect(b.endpoint.listSessions()[0]?.state).toBe('open');
  });

  it('keeps a bounded number of registrations: a newcomer is refused, the live ones stay', () => {
    const lab = new RendezvousLab({}, { maxRegistrations: 2 });
    const homes = [lab.home('endpoint-independent'), lab.home('endpoint-independent')];
    expect(lab.run(() => lab.registered(...homes))).toBe(true);
    const late = lab.home('endpoint-independent');
    expect(lab.run(() => lab.updatesOf(late, 'refused').length > 0)).toBe(true);
    expect(lab.updatesOf(late, 'refused')[0]).toMatchObject({ reason: 'full', retryIn: 30_000 });
    expect(late.client.isRegistered).toBe(false);
    expect(lab.server.size).toBe(2);
    expect(lab.server.stats.registrationsRefused).toBe(1);
    const [first, second] = homes as [Home, Home];
    expect(chat(lab, second, first).accepted).toBeDefined();
  });
});

const contains = (haystack: Uint8Array, needle: Uint8Array) =>
  Buffer.from(haystack).includes(Buffer.from(needle));

describe('rendezvous: relay fallback', () => {
  it('behind port-randomising NATs the chat goes through the relay, sealed end to end', () => {
    const { lab, a, b } = registeredLab('port-randomising');
    const result = chat(lab, a, b);
    expect(result.accepted).toBeDefined();
    expect(lab.updatesOf(a, 'relayed')).toHaveLength(1);
    expect(result.accepted?.peer.host).toBe('relay');
    expect(result.incoming?.peer.host).toBe('relay');
    // Relay tags are random u32s; a relayed peer's address takes a small number of our own for it,
    // so it is a valid address wherever it is shown or kept (known_peers.json, the prompt).
    expect(result.accepted?.peer.port).toBe(1);
    expect(result.incoming?.peer.port).toBe(1);
    expect(result.accepted?.fingerprint).toBe(b.fingerprint);
    const secret = 'the relay must never read this';
    a.node.endpoint.send(result.session as number, secret, lab.net.now);
    lab.run(() => eventsOf(b.node, 'message').length > 0);
    expect(eventsOf(b.node, 'message')[0]?.text).toBe(secret);
    expect(lab.server.stats.relayed).toBeGreaterThan(0);
    // Everything the relay carried, in and out: never the plaintext.
    const plain = new TextEncoder().encode(secret);
    const carried = [...lab.rendezvous.sent, ...a.node.sent, ...b.node.sent].filter((s) => s.data[3] === 6);
    expect(carried.length).toBeGreaterThan(0);
    expect(carried.some((s) => contains(s.data, plain))).toBe(false);
    expect(result.openedIn).toBeLessThan(RELAY_AFTER_MS + 3_000);
  });

  it('limits the bandwidth each client sends and receives through the relay', () => {
    const lab = new RendezvousLab({}, { relayBytesPerSecond: 4_000, relayBurstBytes: 8_000 });
    const a = lab.home('port-randomising');
    const b = lab.home('port-randomising');
    expect(lab.run(() => lab.registered(a, b))).toBe(true);
    const result = chat(lab, a, b);
    expect(result.accepted).toBeDefined();
    const toB = () =>
      lab.rendezvous.sent
        .filter((s) => s.to.host === '203.0.113.2' && s.data[3] === 6)
        .reduce((sum, s) => sum + s.data.length, 0);
    const before = { at: lab.net.now, bytes: toB() };
    for (let i = 0; i < 40; i++)
      a.node.endpoint.send(result.session as number, 'x'.repeat(1000), lab.net.now);
    lab.runFor(5_000);
    const seconds = (lab.net.now - before.at) / 1000;
    expect(lab.server.stats.relayDropped).toBeGreaterThan(0);
    // One direction of the pair: at most its burst plus its rate (the burst was partly spent on the handshake).
    expect(toB() - before.bytes).toBeLessThanOrEqual(8_000 + 4_000 * seconds);
    expect(toB() - before.bytes).toBeGreaterThan(4_000 * seconds * 0.5);
  });

  it('moves a relayed chat to a direct path once one opens (path validation)', () => {
    const { lab, a, b } = registeredLab('endpoint-independent');
    // The two homes cannot reach each other at first (a firewall), only the rendezvous.
    // (The filter sees a datagram after the NATs: from one home's public address to the other's inside one.)
    let blocked = true;
    lab.net.filter = (from, to) =>
      !(blocked && from.host.startsWith('203.0.113.') && to.host.startsWith('10.'));
    const result = chat(lab, a, b);
    expect(result.accepted?.peer.host).toBe('relay');
    blocked = false;
    lab.run(() => a.node.endpoint.session(result.session as number)?.peer.host === '203.0.113.2', 30_000);
    expect(a.node.endpoint.session(result.session as number)?.peer).toEqual({
      host: '203.0.113.2',
      port: 40_000,
    });
    lab.run(
      () => b.node.endpoint.session(result.incoming?.session as number)?.peer.host === '203.0.113.1',
      30_000,
    );
    expect(b.node.endpoint.session(result.incoming?.session as number)?.peer.host).toBe('203.0.113.1');
    // From now on the relay carries nothing of this chat.
    const relayed = lab.server.stats.relayed;
    a.node.endpoint.send(result.session as number, 'direct now', lab.net.now);
    lab.run(() => eventsOf(b.node, 'message').length > 0);
    expect(eventsOf(b.node, 'message')[0]?.text).toBe('direct now');
    expect(lab.server.stats.relayed).toBe(relayed);
  });
});

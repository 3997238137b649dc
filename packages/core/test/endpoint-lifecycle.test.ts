/**
 * The endpoint's part of a session's life: peers that restart (same key, same or new address),
 * second sessions to one peer, the per-peer and global limits, and its one record per session.
 * Virtual time throughout: a 25 s heartbeat interval costs nothing here.
 */
import { describe, expect, it } from 'vitest';
import { requestHost } from '../src/endpoint-admission.js';
import { RELAY_HOST } from '../src/rendezvous/relay.js';
import { eventsOf, type Node, openPair, VirtualNetwork } from './support/virtual-network.js';

/** Runs until `node` has a request, accepts it, and returns its session id. */
function acceptNext(net: VirtualNetwork, node: Node, already = eventsOf(node, 'request').length): number {
  net.run(() => eventsOf(node, 'request').length > already, net.now + 10_000);
  const request = eventsOf(node, 'request')[already];
  if (!request) throw new Error('no request arrived');
  node.endpoint.accept(request.session, net.now);
  return request.session;
}

describe('a peer that restarts', () => {
  it('on the same address ends the old session at once, and its new request is a request like any other', () => {
    const net = new VirtualNetwork();
    const { a, b, sa } = openPair(net); // default 25 s heartbeats: waiting them out would take 75 s
    a.endpoint.send(sa, 'in flight when b crashed', net.now);
    const crashedAt = net.now;
    const b2 = net.restart(b);
    const sb2 = b2.endpoint.connect(a.address, net.now);
    net.run(() => eventsOf(a, 'request').length > 0, net.now + 5_000);
    expect(eventsOf(a, 'closed')).toEqual([
      expect.objectContaining({ session: sa, reason: 'peer_restarted' }),
    ]);
    expect(eventsOf(a, 'failed').map((e) => e.reason)).toEqual(
      eventsOf(a, 'delivered').length > 0 ? [] : ['peer_restarted'],
    );
    expect(eventsOf(a, 'lost')).toEqual([]);
    const request = eventsOf(a, 'request')[0];
    // The same key as before the crash (the handshake proved it).
    expect(request).toMatchObject({ peer: b.address, publicKey: eventsOf(a, 'accepted')[0]?.publicKey });
    expect(a.endpoint.listSessions().map((s) => s.state)).toEqual(['requested']);
    a.endpoint.accept(request?.session ?? -1, net.now);
    net.run(() => eventsOf(b2, 'accepted').length > 0, net.now + 5_000);
    expect(eventsOf(b2, 'accepted').map((e) => e.session)).toEqual([sb2]);
    expect(net.now - crashedAt).toBeLessThan(1_000);
    expect(a.endpoint.stats.superseded).toBe(1);
  });

  it('is found at once when we ask it first: the old channel is probed, and the request moves to a new handshake', () => {
    const net = new VirtualNetwork();
    const { a, b, sa } = openPair(net);
    const b2 = net.restart(b);
    const sa2 = a.endpoint.connect(b.address, net.now); // a still thinks its session with b is open
    const askedAt = net.now;
    acceptNext(net, b2);
    net.run(() => eventsOf(a, 'accepted').length > 1, net.now + 10_000);
    expect(eventsOf(a, 'lost')).toEqual([expect.objectContaining({ session: sa })]);
    expect(eventsOf(a, 'accepted').map((e) => e.session)).toEqual([sa, sa2]);
    expect(eventsOf(a, 'no_answer')).toEqual([]);
    expect(net.now - askedAt).toBeLessThan(3_000);
  });

  it('is reached at once by a new request right after we closed the dead chat', () => {
    const net = new VirtualNetwork();
    const { a, b, sa } = openPair(net);
    const b2 = net.restart(b);
    a.endpoint.close(sa, net.now); // still sending its disconnects into the dead channel
    a.endpoint.connect(b.address, net.now);
    const askedAt = net.now;
    net.run(() => eventsOf(b2, 'request').length > 0, net.now + 10_000);
    expect(eventsOf(b2, 'request')).toHaveLength(1);
    expect(net.now - askedAt).toBeLessThan(1_000);
  });

  it('is reached at once by a second request while our first waits on the channel it lost', () => {
    const net = new VirtualNetwork();
    const a = net.add('127.0.0.1', 1111);
    const b = net.add('127.0.0.2', 2222);
    const first = a.endpoint.connect(b.address, net.now);
    net.run(() => eventsOf(b, 'request').length > 0, net.now + 5_000);
    net.runFor(2_000);
    // b restarts while its person has not answered: a's first request now waits on a dead channel.
    const b2 = net.restart(b);
    const second = a.endpoint.connect(b.address, net.now);
    const askedAt = net.now;
    net.run(() => eventsOf(b2, 'request').length === 2, net.now + 10_000);
    // Both requests moved to a new handshake, the first too: it would otherwise wait out 30 s.
    expect(eventsOf(b2, 'request')).toHaveLength(2);
    expect(net.now - askedAt).toBeLessThan(8_000); // five challenges unanswered by 7.5 s, then the handshake
    for (const r of eventsOf(b2, 'request')) b2.endpoint.accept(r.session, net.now);
    net.run(() => eventsOf(a, 'accepted').length === 2, net.now + 5_000);
    expect(
      eventsOf(a, 'accepted')
        .map((e) => e.session)
        .sort(),
    ).toEqual([first, second].sort());
    expect(eventsOf(a, 'no_answer')).toEqual([]);
  });

  it('a second request while the first waits on a live channel goes over it: a silent person is no dead peer', () => {
    const net = new VirtualNetwork();
    const a = net.add('127.0.0.1', 1111);
    const b = net.add('127.0.0.2', 2222);
    a.endpoint.connect(b.address, net.now);
    net.run(() => eventsOf(b, 'request').length > 0, net.now + 5_000);
    a.endpoint.connect(b.address, net.now);
    // Long past the check of the channel: b's person still thinks, and both requests wait.
    net.runFor(15_000);
    expect(b.endpoint.listSessions().map((s) => s.state)).toEqual(['requested', 'requested']);
    // The channel was asked (its own address challenged), and answered: no new handshake.
    expect(a.endpoint.secureStats.pathChallengesSent).toBeGreaterThan(0);
    expect(a.endpoint.secureStats.handshakesCompleted + b.endpoint.secureStats.handshakesCompleted).toBe(2);
    expect(eventsOf(b, 'closed')).toEqual([]);
  });

  it('a check of a channel whose handshake starts over meanwhile (the peer confirmed none of it) ends without a throw', () => {
    const net = new VirtualNetwork();
    const a = net.add('127.0.0.1', 1111);
    const b = net.add('127.0.0.2', 2222);
    // b's handshake response gets through, nothing after it: a's channel is open but never
    // confirmed, so a starts its handshake over on it (pendingHandshakeTtl, 5 s) mid-check.
    let fromB = 0;
    net.filter = (from) => from.port !== b.address.port || fromB++ === 0;
    const first = a.endpoint.connect(b.address, net.now);
    net.run(() => eventsOf(b, 'request').length > 0, net.now + 5_000);
    net.runFor(1_000);
    const second = a.endpoint.connect(b.address, net.now);
    // The check's challenges go at 0, 0.5, 1.5, 3.5 and 5.5 s: the last ones on a channel with no keys.
    net.runFor(8_000);
    expect(a.endpoint.secureStats.handshakesRestarted).toBeGreaterThan(0);
    net.filter = () => true;
    // b's person takes every request as it comes (those over the old keys end with them).
    net.run(() => {
      for (const s of b.endpoint.listSessions())
        if (s.state === 'requested') b.endpoint.accept(s.id, net.now);
      return eventsOf(a, 'accepted').length === 2;
    }, net.now + 15_000);
    expect(
      eventsOf(a, 'accepted')
        .map((e) => e.session)
        .sort(),
    ).toEqual([first, second].sort());
  });

  it('on a new port (same key) has its old session probed and lost within a round trip or two', () => {
    const net = new VirtualNetwork();
    const { a, b, sa } = openPair(net);
    const b2 = net.restart(b, {}, 2223);
    b2.endpoint.connect(a.address, net.now);
    const startedAt = net.now;
    net.run(() => eventsOf(a, 'lost').length > 0, net.now + 10_000);
    expect(eventsOf(a, 'lost')).toEqual([expect.objectContaining({ session: sa })]);
    expect(net.now - startedAt).toBeLessThan(2_000);
    expect(a.endpoint.stats.probed).toBe(1);
    expect(eventsOf(a, 'request').map((e) => e.peer)).toEqual([b2.address]);
  });

  it('does not end a live session when the same key also talks from a second device', () => {
    const net = new VirtualNetwork();
    const { a, b, sa, sb } = openPair(net);
    // The same key pair on another host: a second device, while the first is alive.
    const device2 = net.twin(b, '127.0.0.3', 3333);
    device2.endpoint.connect(a.address, net.now);
    acceptNext(net, a);
    net.runFor(5_000);
    expect(eventsOf(a, 'lost')).toEqual([]);
    expect(a.endpoint.session(sa)?.state).toBe('open');
    a.endpoint.send(sa, 'still here', net.now);
    net.runFor(1_000);
    expect(eventsOf(b, 'message').map((e) => e.text)).toEqual(['still here']);
    expect(b.endpoint.session(sb)?.state).toBe('open');
  });
});

describe('one channel per peer address', () => {
  it('a second session to the same peer shares the channel and leaves the first one alone', () => {
    const net = new VirtualNetwork();
    const { a, b, sa, sb } = openPair(net);
    const sa2 = a.endpoint.connect(b.address, net.now);
    acceptNext(net, b);
    net.run(() => eventsOf(a, 'accepted').length > 1, net.now + 5_000);
    expect(eventsOf(a, 'accepted').map((e) => e.session)).toEqual([sa, sa2]);
    expect(eventsOf(b, 'closed')).toEqual([]);
    expect(b.endpoint.session(sb)?.state).toBe('open');
    expect(a.endpoint.secureSizes.channels).toBe(1);
    expect(b.endpoint.stats.superseded).toBe(0);
  });

  it('several requests at once, before any handshake completed, share one handshake and all open', () => {
    const net = new VirtualNetwork();
    const a = net.add('127.0.0.1', 1111);
    const b = net.add('127.0.0.2', 2222);
    const ids = [1, 2, 3, 4].map(() => a.endpoint.connect(b.address, 0));
    for (let i = 0; i < 4; i++) acceptNext(net, b, i);
    net.run(() => eventsOf(a, 'accepted').length === 4, net.now + 5_000);
    expect(
      eventsOf(a, 'accepted')
        .map((e) => e.session)
        .sort(),
    ).toEqual(ids);
    expect(eventsOf(b, 'closed')).toEqual([]);
    expect(b.endpoint.listSessions().map((s) => s.state)).toEqual(['open', 'open', 'open', 'open']);
    expect(a.endpoint.secureSizes.channels).toBe(1);
  });
});

describe('limits', () => {
  it('does not count declined requests still draining toward the per-peer limit', () => {
    const net = new VirtualNetwork();
    const a = net.add('127.0.0.1', 1111);
    const b = net.add('127.0.0.2', 2222, { maxSessionsPerPeer: 2 });
    for (let attempt = 0; attempt < 5; attempt++) {
      a.endpoint.connect(b.address, net.now);
      net.run(() => eventsOf(b, 'request').length > attempt, net.now + 5_000);
      const request = eventsOf(b, 'request')[attempt];
      b.endpoint.decline(request?.session ?? -1, net.now, 'busy');
      net.run(() => eventsOf(a, 'declined').length > attempt, net.now + 5_000);
    }
    expect(eventsOf(a, 'declined').map((e) => e.reason)).toEqual(['busy', 'busy', 'busy', 'busy', 'busy']);
    expect(b.endpoint.stats.refusedOverLimit).toBe(0);
  });

  it('answers a peer past the session limit with a decline, never silence', () => {
    const net = new VirtualNetwork();
    const b = net.add('127.0.0.2', 2222, { maxSessions: 3 });
    const askers = Array.from({ length: 10 }, (_, i) => net.add('127.0.0.1', 3000 + i));
    for (const asker of askers) asker.endpoint.connect(b.address, 0);
    net.runFor(2_000);
    expect(eventsOf(b, 'request')).toHaveLength(3);
    const declined = askers.filter((n) => eventsOf(n, 'declined')[0]?.reason === 'too_many_sessions');
    expect(declined).toHaveLength(7);
    expect(askers.filter((n) => eventsOf(n, 'no_answer').length > 0)).toEqual([]);
  });
});

describe('requests from one host', () => {
  it('a stranger with one address and many ports gets maxRequestsPerHost requests waiting, no more; another host still gets in', () => {
    const net = new VirtualNetwork();
    const b = net.add('127.0.0.2', 2222, { maxRequestsPerHost: 5 });
    const stranger = Array.from({ length: 40 }, (_, i) => net.add('192.0.2.66', 3000 + i));
    for (const port of stranger) port.endpoint.connect(b.address, net.now);
    net.runFor(2_000);
    expect(eventsOf(b, 'request')).toHaveLength(5);
    const declined = stranger.filter((n) => eventsOf(n, 'declined')[0]?.reason === 'too_many_sessions');
    expect(declined).toHaveLength(35);
    expect(b.endpoint.stats.refusedOverLimit).toBe(35);
    // Nothing is kept of the declined ones.
    expect(b.endpoint.listSessions()).toHaveLength(5);
    // A friend on another host is asked as usual.
    const friend = net.add('198.51.100.7', 4000);
    friend.endpoint.connect(b.address, net.now);
    net.run(() => eventsOf(b, 'request').length === 6, net.now + 5_000);
    expect(eventsOf(b, 'request')[5]?.peer).toEqual(friend.address);
    // Answered requests no longer count: the stranger's next one waits again.
    for (const r of eventsOf(b, 'request').slice(0, 5)) b.endpoint.decline(r.session, net.now, 'declined');
    const again = net.add('192.0.2.66', 5000);
    again.endpoint.connect(b.address, net.now);
    net.run(() => eventsOf(b, 'request').length === 7, net.now + 5_000);
    expect(eventsOf(b, 'request')).toHaveLength(7);
  });
});

describe('one record per session', () => {
  it('forgets a request whose peer roamed, so connecting to the old address later starts a new session', () => {
    const net = new VirtualNetwork();
    const a = net.add('127.0.0.1', 1111);
    const b = net.add('127.0.0.2', 2222);
    const oldAddress = a.address;
    a.endpoint.connect(b.address, 0);
    net.run(() => eventsOf(b, 'request').length > 0);
    net.rebind(a, 1112); // a's NAT gives it a new port while its request waits
    net.runFor(3_000); // retries from the new port move b's channel there
    const request = eventsOf(b, 'request')[0];
    b.endpoint.accept(request?.session ?? -1, net.now);
    net.run(() => eventsOf(a, 'accepted').length > 0, net.now + 5_000);
    b.endpoint.close(request?.session ?? -1, net.now);
    net.runFor(5_000);
    expect(b.endpoint.listSessions()).toEqual([]);
    // Today's bug: a stale "waiting request" entry under the old address made this throw.
    expect(() => b.endpoint.connect(oldAddress, net.now)).not.toThrow();
    expect(b.endpoint.listSessions().map((s) => s.state)).toEqual(['connecting']);
  });
});

describe('the host a request counts against', () => {
  it('an IPv4 address or IPv6 /64 whatever the port; each relayed peer its own, though they share one virtual host', () => {
    expect(requestHost({ host: '192.0.2.7', port: 1 })).toBe(requestHost({ host: '192.0.2.7', port: 2 }));
    expect(requestHost({ host: '2001:db8:1:2::5', port: 1 })).toBe(
      requestHost({ host: '2001:db8:1:2::9', port: 7 }),
    );
    expect(requestHost({ host: RELAY_HOST, port: 1 })).not.toBe(requestHost({ host: RELAY_HOST, port: 2 }));
    expect(requestHost({ host: RELAY_HOST, port: 1 })).toBe(requestHost({ host: RELAY_HOST, port: 1 }));
  });
});

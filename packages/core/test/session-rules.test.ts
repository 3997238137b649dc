/**
 * The session rules an independent implementation, written from PROTOCOL.md alone, asked about:
 * each answer as PROTOCOL.md now states it, pinned here so spec and code cannot drift apart.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Datagram, resolveOptions } from '../src/index.js';
import { ReliableReceiver } from '../src/session/reliable-receiver.js';
import { PRESENCE_BURST } from '../src/session/session.js';
import { rawSession } from './support/raw-peer.js';
import { ackOf, advance, harness, openResponder, receive } from './support/session-harness.js';
import { eventsOf, openPair, VirtualNetwork } from './support/virtual-network.js';

describe('what PROTOCOL.md answers', () => {
  it('ackDelay is 0 while nothing has been received (the acknowledgement covers no fragment)', () => {
    expect(new ReliableReceiver(128, 65_536).ackFields(90_000)).toEqual({ ack: 0, sack: 0, ackDelayMs: 0 });
    const h = harness();
    const session = openResponder(h, 1_000);
    advance(h, session, 5_000); // heartbeats at 1, 2, 3 … s, long after the session opened
    const heartbeats = h.sent.filter((d) => d.type === 'heartbeat');
    expect(heartbeats.length).toBeGreaterThan(0);
    for (const heartbeat of heartbeats) expect(heartbeat).toMatchObject({ ack: 0, sack: 0, ackDelay: 0 });
  });

  it("the handshake's round trip is the first RTT estimate, so the first RTO comes from it; the first sample replaces it", () => {
    const h = harness({}, { handshakeRtt: 300 });
    const session = openResponder(h);
    session.send(1, 'first', h.now);
    // srtt 300, rttvar 150: RTO = 300 + 4 × 150 + 10 (the peer's max ack delay) = 910 ms.
    advance(h, session, 909);
    expect(h.sent.filter((d) => d.type === 'text')).toHaveLength(1);
    advance(h, session, 910);
    expect(h.sent.filter((d) => d.type === 'text').map((d) => d.at)).toEqual([0, 910]);
    // A sample from a fragment sent once replaces the estimate outright (no averaging with 300).
    session.send(2, 'second', h.now);
    h.now += 40;
    receive(h, session, ackOf(2));
    expect(session.info().rtt).toBe(40);
  });

  it('disconnect is resent every RTO without backing off, 4 times in all, then the session is forgotten', () => {
    const net = new VirtualNetwork();
    const { a, sa } = openPair(net);
    net.filter = (from) => from.port !== a.address.port; // nothing a sends arrives
    const closedAt = net.now;
    a.endpoint.close(sa, net.now);
    net.run(() => a.endpoint.session(sa) === undefined, net.now + 10_000);
    const disconnects = a.sent.filter((s) => s.message?.type === 'disconnect').map((s) => s.at - closedAt);
    // The handshake's 10 ms round trip puts the RTO at minRto: 200 ms.
    expect(disconnects).toEqual([0, 200, 400, 600]);
    expect(net.now - closedAt).toBe(800);
  });

  it('a presence dropped for pace still counts as a sign of life (it is authentic and of the session)', () => {
    const { net, b, raw, session, sb } = rawSession();
    const presence: Datagram = { type: 'presence', session, activity: 'typing', nick: 'raw' };
    for (let i = 0; i < PRESENCE_BURST; i++) raw.send(presence);
    net.runFor(100);
    expect(eventsOf(b, 'presence')).toHaveLength(PRESENCE_BURST);
    const errorsBefore = b.endpoint.stats.protocolErrors;
    raw.send(presence);
    net.runFor(100);
    expect(eventsOf(b, 'presence')).toHaveLength(PRESENCE_BURST); // dropped and counted …
    expect(b.endpoint.stats.protocolErrors).toBe(errorsBefore + 1);
    expect(b.endpoint.session(sb)?.lastHeard).toBe(net.now - 100 + 5); // … but heard (5 ms link)
  });
});

describe("packages/core/README.md's option defaults", () => {
  it('are the defaults the code uses', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const defaults = resolveOptions() as unknown as Record<string, unknown>;
    const checked: string[] = [];
    for (const row of readme.matchAll(/^\| ((?:`\w+`(?:, )?)+) \| ([\d ,]+) \|/gm)) {
      const names = [...(row[1] ?? '').matchAll(/`(\w+)`/g)].map((m) => m[1] as string);
      const values = (row[2] ?? '').split(',').map((v) => Number(v.replace(/ /g, '')));
      expect(values, row[0]).toHaveLength(names.length);
      names.forEach((name, i) => {
        expect(defaults[name], `README's ${name}`).toBe(values[i]);
        checked.push(name);
      });
    }
    expect(checked).toEqual(
      expect.arrayContaining(['connectRetryInitial', 'connectRetryMax', 'closeLinger']),
    );
  });
});

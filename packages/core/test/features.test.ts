/**
 * Capabilities at connect (PROTOCOL.md, Capabilities): each side learns as the session opens
 * whether the other takes streams; a peer that predates them (played by an endpoint whose decoder
 * drops the newer codes and that sends none of them) keeps chatting as before, and a stream to it
 * is refused at once.
 */
import { describe, expect, it } from 'vitest';
import { NetchatError } from '../src/index.js';
import { eventsOf, type Node, VirtualNetwork } from './support/virtual-network.js';

/** `a` asks `b`, `b` accepts: both open. */
function open(net: VirtualNetwork, a: Node, b: Node) {
  const sa = a.endpoint.connect(b.address, net.now);
  net.run(() => eventsOf(b, 'request').length > 0, net.now + 10_000);
  const sb = eventsOf(b, 'request')[0]?.session as number;
  b.endpoint.accept(sb, net.now);
  net.run(() => eventsOf(a, 'accepted').length > 0, net.now + 10_000);
  return { sa, sb };
}

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return error instanceof NetchatError ? error.code : String(error);
  }
  return undefined;
}

describe('capabilities', () => {
  it('two peers that take streams know it as the session opens, each side', () => {
    const net = new VirtualNetwork();
    const a = net.add('127.0.0.1', 1111, { streams: true, maxIncomingStreams: 5, streamWindow: 100_000 });
    const b = net.add('127.0.0.2', 2222, { streams: true, maxIncomingStreams: 7, streamWindow: 200_000 });
    const { sa, sb } = open(net, a, b);
    // a knew b's as b's accept arrived: the features event comes right after `accepted`.
    const typesA = a.events.map((e) => e.type);
    expect(typesA.indexOf('features')).toBe(typesA.indexOf('accepted') + 1);
    expect(eventsOf(a, 'features')).toMatchObject([
      { session: sa, features: { streams: true, maxStreams: 7, streamWindow: 200_000 } },
    ]);
    expect(eventsOf(b, 'features')).toMatchObject([
      { session: sb, features: { streams: true, maxStreams: 5, streamWindow: 100_000 } },
    ]);
    expect(a.endpoint.session(sa)?.peerFeatures).toEqual({
      streams: true,
      files: false,
      maxStreams: 7,
      streamWindow: 200_000,
      largeDatagrams: true, // the default
    });
    // One `features` each way, nothing asked again.
    net.runFor(1_000);
    const featuresSent = (n: Node) => n.sent.filter((d) => d.message?.type === 'features').length;
    expect([featuresSent(a), featuresSent(b)]).toEqual([1, 1]);
  });

  it('an old peer keeps chatting as before, and a stream to it is refused at once', () => {
    for (const oldAsks of [false, true]) {
      const net = new VirtualNetwork();
      const fresh = net.add('127.0.0.1', 1111, { streams: true });
      const old = net.add('127.0.0.2', 2222, {}, 2222, { legacyPeer: true });
      const [a, b] = oldAsks ? [old, fresh] : [fresh, old];
      const { sa, sb } = open(net, a, b);
      const [sFresh, sOld] = oldAsks ? [sb, sa] : [sa, sb];
      // Text both ways, as always.
      fresh.endpoint.send(sFresh, 'hello old friend', net.now);
      old.endpoint.send(sOld, 'hello new friend', net.now);
      net.runFor(500);
      expect(eventsOf(old, 'message').map((e) => e.text)).toEqual(['hello old friend']);
      expect(eventsOf(fresh, 'message').map((e) => e.text)).toEqual(['hello new friend']);
      expect(eventsOf(old, 'delivered')).toHaveLength(1);
      // The new peer knew at the open that the old one is text only; a stream fails at once.
      expect(eventsOf(fresh, 'features')).toMatchObject([{ features: { streams: false } }]);
      expect(codeOf(() => fresh.endpoint.openStream(sFresh, net.now))).toBe('STREAMS_UNSUPPORTED');
      // The old peer dropped our features as unknown codes (counted), and answered none of them.
      expect(old.endpoint.stats.malformed).toBeGreaterThan(0);
      expect(old.endpoint.stats.lastDropReason).toBe('unknown message code 10');
      expect(old.sent.some((d) => d.message?.type === 'features')).toBe(false);
      expect(old.endpoint.session(sOld)?.state).toBe('open');
    }
  });

  it('a peer that does not take streams says so, and our own disabled streams say why', () => {
    const net = new VirtualNetwork();
    const a = net.add('127.0.0.1', 1111, { streams: true });
    const b = net.add('127.0.0.2', 2222);
    const { sa, sb } = open(net, a, b);
    expect(eventsOf(a, 'features')).toMatchObject([{ features: { streams: false, maxStreams: 0 } }]);
    expect(codeOf(() => a.endpoint.openStream(sa, net.now))).toBe('STREAMS_UNSUPPORTED');
    expect(codeOf(() => b.endpoint.openStream(sb, net.now))).toBe('STREAMS_DISABLED');
    // An application that does not take streams sees no stream events at all.
    expect(eventsOf(b, 'features')).toEqual([]);
  });

  it('a lost `features` makes a new peer look text only for a moment; its answer to the ask corrects that', () => {
    const net = new VirtualNetwork();
    const a = net.add('127.0.0.1', 1111, { streams: true });
    const b = net.add('127.0.0.2', 2222, { streams: true });
    // b's first features (before its accept) is lost.
    let dropped = 0;
    net.filter = (from, _to, _data, message) =>
      !(message?.type === 'features' && from.port === 2222 && dropped++ === 0);
    const { sa } = open(net, a, b);
    net.runFor(100);
    expect(eventsOf(a, 'features').map((e) => e.features.streams)).toEqual([false, true]);
    expect(a.endpoint.openStream(sa, net.now)).toBe(0);
  });

  it('the ask goes again while the answer does not come: a `features` and an answer both lost still end in streams', () => {
    const net = new VirtualNetwork();
    const a = net.add('127.0.0.1', 1111, { streams: true });
    const b = net.add('127.0.0.2', 2222, { streams: true });
    // b's features before its accept and its answer to a's first ask are both lost.
    let dropped = 0;
    net.filter = (from, _to, _data, message) =>
      !(message?.type === 'features' && from.port === 2222 && dropped++ < 2);
    const { sa } = open(net, a, b);
    const asked = () => a.sent.filter((d) => d.message?.type === 'features').length;
    net.runFor(50);
    expect(eventsOf(a, 'features').map((e) => e.features.streams)).toEqual([false]);
    expect(asked()).toBe(2); // the one before the request, and the ask as the session opened
    // One RTO later a asks again, and this answer arrives.
    net.run(() => eventsOf(a, 'features').length > 1, net.now + 5_000);
    expect(eventsOf(a, 'features').map((e) => e.features.streams)).toEqual([false, true]);
    expect(asked()).toBe(3);
    expect(a.endpoint.openStream(sa, net.now)).toBe(0);
    net.runFor(30_000);
    expect(asked()).toBe(3); // heard: no more asks
  });

  it('an old peer that never answers is asked three times in all, then no more', () => {
    const net = new VirtualNetwork();
    const fresh = net.add('127.0.0.1', 1111, { streams: true });
    const old = net.add('127.0.0.2', 2222, {}, 2222, { legacyPeer: true });
    open(net, fresh, old);
    net.runFor(120_000);
    const asks = fresh.sent.filter((d) => d.message?.type === 'features' && (d.message.flags & 1) === 1);
    // The one before the request asks too (nothing heard yet), then three after the open.
    expect(asks).toHaveLength(4);
    expect(eventsOf(fresh, 'features')).toHaveLength(1);
  });

  it('a features for a session nobody asked for is kept only for a while (64 at most)', () => {
    const net = new VirtualNetwork();
    const a = net.add('127.0.0.1', 1111, { streams: true });
    const b = net.add('127.0.0.2', 2222, { streams: true });
    const { sa } = open(net, a, b);
    const held = (b.endpoint as unknown as { transport: { heldFeatures: Map<string, unknown> } }).transport
      .heldFeatures;
    // The peer's session is open; features for 1,000 other session ids are held (bounded), never answered.
    const route = (a.endpoint as unknown as { get(id: number): { session: { route: unknown } } }).get(sa)
      .session.route;
    const sentBefore = b.sent.length;
    for (let i = 0; i < 1_000; i++)
      (a.endpoint as unknown as { transmit(c: unknown, d: unknown): void }).transmit(route, {
        type: 'features',
        session: 100_000 + i,
        features: 1,
        flags: 1,
        streamWindow: 1,
        maxStreams: 1,
      });
    net.runFor(100);
    expect(held.size).toBe(64);
    expect(b.sent.length - sentBefore).toBeLessThan(5);
    expect(b.endpoint.stats.unknownSession).toBe(0);
  });
});

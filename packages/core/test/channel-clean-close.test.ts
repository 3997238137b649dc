/**
 * A channel whose last session ended by a clean close (a disconnect sent and acknowledged) is
 * closed at once on both sides; one whose session ended otherwise waits out the 30 s grace
 * (PROTOCOL.md, Channels). A request of ours that was on such a channel moves to a new
 * handshake, since the peer may have closed the channel before the request reached it. On
 * virtual time.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SECURE_OPTIONS } from '../src/secure/secure-transport.js';
import { eventsOf, openPair, VirtualNetwork } from './support/virtual-network.js';

describe('closing a channel after its last session', () => {
  it('closes it at once on both sides when the session closed cleanly', () => {
    const net = new VirtualNetwork();
    const { a, b, sa } = openPair(net, { heartbeatInterval: 1_000 });
    expect(a.endpoint.secureSizes.channels).toBe(1);
    expect(b.endpoint.secureSizes.channels).toBe(1);
    const closedAt = net.now;
    a.endpoint.close(sa, net.now);
    net.run(() => !a.endpoint.busy && !b.endpoint.busy, net.now + 10_000);
    // Both forgot the session within a round trip or two, and the channel with it.
    expect(net.now - closedAt).toBeLessThan(1_000);
    expect(a.endpoint.secureSizes.channels).toBe(0);
    expect(b.endpoint.secureSizes.channels).toBe(0);
    expect(a.endpoint.secureStats.channelsClosedClean).toBe(1);
    expect(b.endpoint.secureStats.channelsClosedClean).toBe(1);
    expect(eventsOf(b, 'closed')).toEqual([expect.objectContaining({ reason: 'peer_closed' })]);
  });

  it('closes it at once when both sides close at the same time', () => {
    const net = new VirtualNetwork();
    const { a, b, sa, sb } = openPair(net, { heartbeatInterval: 1_000 });
    a.endpoint.close(sa, net.now);
    b.endpoint.close(sb, net.now);
    net.run(() => !a.endpoint.busy && !b.endpoint.busy, net.now + 10_000);
    expect(a.endpoint.secureSizes.channels).toBe(0);
    expect(b.endpoint.secureSizes.channels).toBe(0);
  });

  it('keeps the 30 s grace when the disconnect was never acknowledged (the peer may still send)', () => {
    const net = new VirtualNetwork();
    const { a, b, sa } = openPair(net, { heartbeatInterval: 1_000 });
    // b hears a's disconnects, but none of its acknowledgements reach a.
    net.filter = (from, _to, _data, message) =>
      !(from.port === b.address.port && message?.type === 'disconnect_ack');
    a.endpoint.close(sa, net.now);
    net.run(() => a.endpoint.session(sa) === undefined, net.now + 10_000);
    const forgotAt = net.now;
    // b acknowledged and closed cleanly; a gave up on its disconnect: its channel waits out the grace.
    expect(b.endpoint.secureSizes.channels).toBe(0);
    expect(a.endpoint.secureSizes.channels).toBe(1);
    expect(a.endpoint.secureStats.channelsClosedClean).toBe(0);
    net.run(
      () => a.endpoint.secureSizes.channels === 0,
      forgotAt + DEFAULT_SECURE_OPTIONS.unusedChannelTtl + 1_000,
    );
    expect(net.now - forgotAt).toBeGreaterThanOrEqual(DEFAULT_SECURE_OPTIONS.unusedChannelTtl - 1_000);
  });

  it('keeps the 30 s grace when the session was lost', () => {
    const net = new VirtualNetwork();
    const { a, b, sa } = openPair(net, { heartbeatInterval: 200 });
    net.filter = (from) => from.port !== b.address.port; // b went silent
    net.run(() => a.endpoint.session(sa) === undefined, net.now + 10_000);
    expect(eventsOf(a, 'lost')).toHaveLength(1);
    const lostAt = net.now;
    expect(a.endpoint.secureSizes.channels).toBe(1);
    net.runFor(DEFAULT_SECURE_OPTIONS.unusedChannelTtl - 1_000);
    expect(a.endpoint.secureSizes.channels).toBe(1);
    net.run(
      () => a.endpoint.secureSizes.channels === 0,
      lostAt + DEFAULT_SECURE_OPTIONS.unusedChannelTtl + 1_000,
    );
    expect(a.endpoint.secureSizes.channels).toBe(0);
  });

  it('moves a request of ours to a new handshake when the other session on its channel closed cleanly first', () => {
    const net = new VirtualNetwork();
    const { a, b, sa } = openPair(net, { heartbeatInterval: 1_000 });
    // A second chat with b goes over the same channel; its first request is lost, and the first
    // chat closes at once: b, knowing of no other session there, closes the channel.
    let dropped = 0;
    net.filter = (from, _to, _data, message) => {
      if (from.port !== a.address.port || message?.type !== 'connect_request' || dropped > 0) return true;
      dropped++;
      return false;
    };
    const second = a.endpoint.connect(b.address, net.now);
    a.endpoint.close(sa, net.now);
    net.run(() => eventsOf(b, 'request').length > 1, net.now + 10_000);
    expect(dropped).toBe(1);
    const request = eventsOf(b, 'request')[1];
    if (!request) throw new Error('the second request never reached b');
    b.endpoint.accept(request.session, net.now);
    net.run(() => eventsOf(a, 'accepted').some((e) => e.session === second), net.now + 10_000);
    expect(eventsOf(a, 'accepted').map((e) => e.session)).toContain(second);
    expect(eventsOf(a, 'no_answer')).toEqual([]);
  });
});

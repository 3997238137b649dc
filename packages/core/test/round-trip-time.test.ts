/**
 * The round-trip time a session reports leaves out the peer's deliberate ack delay (5 ms by
 * default), and a session we accepted knows it before sending anything. On virtual time, with a
 * link as fast as loopback (0.1 ms each way), so the figure does not depend on the machine's load.
 */
import { describe, expect, it } from 'vitest';
import { eventsOf, openPair, VirtualNetwork } from './support/virtual-network.js';

describe('round-trip time', () => {
  it('reads the link (0.2 ms), not the 5 ms ack delay, on both sides', () => {
    const net = new VirtualNetwork();
    net.conditions = { latency: 0.1, jitter: 0, loss: 0, duplicate: 0 };
    const { a, b, sa, sb } = openPair(net);
    // b accepted and has sent nothing but its accept: the handshake measured the round trip.
    expect(b.endpoint.session(sb)?.rtt).toBeDefined();
    for (let i = 0; i < 30; i++) {
      a.endpoint.send(sa, `ping ${i}`, net.now);
      net.run(() => eventsOf(a, 'delivered').length > i, net.now + 1_000);
    }
    expect(eventsOf(a, 'delivered')).toHaveLength(30);
    // Each ping was acknowledged by a delayed ack (5 ms later): counted, the RTT would read ~5.2 ms.
    const rtt = a.endpoint.session(sa)?.rtt ?? Number.POSITIVE_INFINITY;
    expect(rtt).toBeGreaterThan(0.19);
    expect(rtt).toBeLessThan(0.5);
  });
});

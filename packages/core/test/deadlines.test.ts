/**
 * The endpoint files a session's deadline in its heap only when it moves earlier; a deadline that
 * moved later is found when the earlier entry comes due (endpoint.ts, settle). These check that
 * no timer is ever served late that way, with traffic that moves the ack and retransmission
 * deadlines back and forth on every datagram.
 */
import { describe, expect, it } from 'vitest';
import type { Node } from './support/virtual-network.js';
import { eventsOf, openPair, VirtualNetwork } from './support/virtual-network.js';
import { seededRandom } from './support/random.js';

const ACK_DELAY = 5;
const CARRIES_ACK = new Set(['ack', 'text', 'heartbeat']);

/** For each message `receiver` got, how long until it next sent anything that carries an ack. */
function ackWaits(receiver: Node): number[] {
  const acks = receiver.sent.filter((s) => s.message && CARRIES_ACK.has(s.message.type)).map((s) => s.at);
  return eventsOf(receiver, 'message').map((m) => {
    const next = acks.find((at) => at >= m.at);
    return next === undefined ? Number.POSITIVE_INFINITY : next - m.at;
  });
}

describe('deadlines filed only when they move earlier', () => {
  it('serve every delayed ack within ackDelay while replies move the deadlines back and forth', () => {
    const net = new VirtualNetwork(7);
    const { a, b, sa, sb } = openPair(net);
    const random = seededRandom(11);
    const MESSAGES = 300;
    for (let i = 0; i < MESSAGES; i++) {
      a.endpoint.send(sa, `ping ${i}`, net.now);
      // Every third one answered at once: b's deadline jumps to a retransmission timeout and back.
      if (i % 3 === 0) b.endpoint.send(sb, `pong ${i}`, net.now);
      // Gaps shorter and longer than the ack delay, so the ack timer is sometimes pending, sometimes not.
      net.run(() => false, net.now + 0.5 + random() * 12);
    }
    net.run(() => eventsOf(a, 'delivered').length === MESSAGES, net.now + 5_000);
    expect(eventsOf(a, 'delivered')).toHaveLength(MESSAGES);
    expect(eventsOf(b, 'message')).toHaveLength(MESSAGES);
    for (const node of [a, b]) {
      const waits = ackWaits(node);
      expect(waits.length).toBeGreaterThan(0);
      expect(Math.max(...waits)).toBeLessThanOrEqual(ACK_DELAY);
    }
  });

  it('keep the heartbeat grid after a burst of traffic moved every other deadline', () => {
    const interval = 200;
    const net = new VirtualNetwork(3);
    const { a, b, sa } = openPair(net, { heartbeatInterval: interval });
    for (let i = 0; i < 50; i++) {
      a.endpoint.send(sa, `burst ${i}`, net.now);
      net.run(() => false, net.now + 1);
    }
    const quietFrom = net.now;
    net.run(() => false, quietFrom + 10 * interval);
    const beats = a.sent.filter((s) => s.message?.type === 'heartbeat' && s.at > quietFrom).map((s) => s.at);
    expect(beats.length).toBeGreaterThanOrEqual(9);
    // On the grid: every gap is the interval, to within the link's own timing.
    for (let i = 1; i < beats.length; i++)
      expect((beats[i] as number) - (beats[i - 1] as number)).toBeCloseTo(interval, 6);
    expect(eventsOf(a, 'heartbeat_missed')).toEqual([]);
    expect(eventsOf(b, 'heartbeat_missed')).toEqual([]);
  });
});

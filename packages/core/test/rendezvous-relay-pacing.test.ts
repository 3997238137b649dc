/**
 * The relayed path, paced (PROTOCOL.md, "Relay"): the client asks its rendezvous for the relay
 * budget R (`relay_rate_request` with its `register`), and caps what it sends to each relayed
 * peer at R × 1200 / 1232 (the relay adds 32 bytes a packet), so a relayed bulk stream fits the
 * budget instead of being dropped against it. The first relayed init goes the moment the connect
 * moves to the relay; and once the relay carries a chat, one direct-path probe answered moves it
 * back. On the virtual network, homes behind NAT routers.
 */
import { describe, expect, it } from 'vitest';
import { type Address, decodePacket } from '../src/index.js';
import { RELAY_PACKET_CODE } from '../src/rendezvous/relay.js';
import { relayedPathCap } from '../src/rendezvous/relay-paths.js';
import { chat, type Home, RendezvousLab } from './support/rendezvous-lab.js';
import { pattern, StreamReader, StreamWriter } from './support/stream-apps.js';
import { eventsOf } from './support/virtual-network.js';

const RATE = 64 * 1024;

function relayedStreamChat(serverOptions = {}) {
  const lab = new RendezvousLab(
    {},
    { relayBytesPerSecond: RATE, relayBurstBytes: 2 * RATE, ...serverOptions },
  );
  lab.net.conditions = { latency: 20, jitter: 0, loss: 0, duplicate: 0 };
  const a = lab.home('port-randomising', 'anyone', [], { streams: true });
  const b = lab.home('port-randomising', 'anyone', [], { streams: true });
  expect(lab.run(() => lab.registered(a, b))).toBe(true);
  const result = chat(lab, a, b);
  const relayed = result.accepted?.peer;
  if (relayed?.host !== 'relay' || result.session === undefined || !result.incoming)
    throw new Error('no relayed chat');
  const sa = result.session;
  const sb = result.incoming.session;
  lab.run(() => a.node.endpoint.session(sa)?.peerFeatures !== undefined, 5_000);
  return { lab, a, b, sa, sb, relayed };
}

/** a streams to b for `seconds` through the relay; the stream's goodput and the rendezvous's drops. */
function bulk(lab: RendezvousLab, a: Home, b: Home, sa: number, sb: number, seconds: number) {
  const reader = new StreamReader(lab.net, b.node, sb);
  const stream = a.node.endpoint.openStream(sa, lab.net.now);
  new StreamWriter(lab.net, a.node, sa, stream, pattern(20_000_000));
  const droppedBefore = lab.server.stats.relayOverBudget;
  const start = lab.net.now;
  lab.runFor(seconds * 1000);
  return {
    goodput: (reader.bytesRead * 1000) / (lab.net.now - start),
    overBudget: lab.server.stats.relayOverBudget - droppedBefore,
  };
}

describe('the relayed path, paced to the relay budget', () => {
  it('the client learns the budget, caps the relayed path at R × 1200 / 1232, and a bulk stream fits: nothing dropped over budget', () => {
    const { lab, a, b, sa, sb, relayed } = relayedStreamChat();
    const { goodput, overBudget } = bulk(lab, a, b, sa, sb, 20);
    expect(relayedPathCap(RATE)).toBeCloseTo((RATE * 1200) / 1232);
    expect(a.node.endpoint.pathInfo(relayed)?.rateLimit).toBeCloseTo(relayedPathCap(RATE));
    expect(overBudget).toBe(0);
    // Stream bytes per relayed byte: about 1139 of each 1232 (headers, tags, the relay's 32).
    expect(goodput).toBeGreaterThan(0.8 * RATE);
    expect(goodput).toBeLessThanOrEqual(RATE);
  });

  it('against a rendezvous that never tells the budget (one that predates relay_rate), it is as before: unpaced, and dropped against the budget', () => {
    const { lab, a, b, sa, sb, relayed } = relayedStreamChat();
    // As if the answer never came: the client forgets what it was told (an old rendezvous).
    a.node.endpoint.setPathRateLimit(relayed, undefined);
    const { overBudget } = bulk(lab, a, b, sa, sb, 20);
    expect(overBudget).toBeGreaterThan(0);
  });
});

describe('moving to and from the relay', () => {
  it('the first relayed init goes at once when the connect moves to the relay (3 s after the moment named)', () => {
    const lab = new RendezvousLab();
    const a = lab.home('port-randomising');
    const b = lab.home('port-randomising');
    expect(lab.run(() => lab.registered(a, b))).toBe(true);
    const sentBefore = a.node.sent.length;
    const result = chat(lab, a, b);
    expect(result.accepted?.peer.host).toBe('relay');
    const moved = lab.updatesOf(a, 'relayed')[0];
    if (!moved) throw new Error('never relayed');
    const firstRelayed = a.node.sent
      .slice(sentBefore)
      .find((s) => s.data[3] === RELAY_PACKET_CODE && isInit(s.data.subarray(32)));
    expect(firstRelayed?.at).toBe(moved.at);
  });

  it('one direct-path probe answered moves the chat back to a direct path, both sides', () => {
    const lab = new RendezvousLab();
    const a = lab.home('endpoint-independent');
    const b = lab.home('endpoint-independent');
    expect(lab.run(() => lab.registered(a, b))).toBe(true);
    // A firewall between the two homes: nothing goes straight from one to the other.
    const direct = (from: Address, to: Address) =>
      from.host.startsWith('203.0.113.') && to.host.startsWith('10.');
    lab.net.filter = (from, to) => !direct(from, to);
    const result = chat(lab, a, b);
    const sa = result.session as number;
    const sb = result.incoming?.session as number;
    expect(result.accepted?.peer.host).toBe('relay');
    const introducedAt = (lab.updatesOf(a, 'ready')[0]?.at ?? 0) as number;
    // It opens before the first probes (8 s after the introduction).
    lab.run(() => lab.net.now >= introducedAt + 6_000, 10_000);
    lab.net.filter = () => true;
    const onRelay = (home: Home, session: number) =>
      home.node.endpoint.session(session)?.peer.host === 'relay';
    lab.run(() => !onRelay(a, sa) && !onRelay(b, sb), 60_000);
    expect(onRelay(a, sa)).toBe(false);
    expect(onRelay(b, sb)).toBe(false);
    // Both sides probe at 8 s: the first answered one sufficed, before anyone's second (13 s).
    expect(lab.net.now - introducedAt).toBeLessThan(9_000);
    expect(a.client.stats.directProbes + b.client.stats.directProbes).toBeLessThanOrEqual(2);
    const relayedBefore = lab.server.stats.relayed;
    a.node.endpoint.send(sa, 'direct now', lab.net.now);
    lab.run(() => eventsOf(b.node, 'message').some((e) => e.text === 'direct now'));
    expect(lab.server.stats.relayed).toBe(relayedBefore);
  });
});

function isInit(inner: Uint8Array): boolean {
  const p = decodePacket(inner);
  return p.ok && p.datagram.type === 'handshake_init';
}

/**
 * A client's relayed paths share its relay send budget (PROTOCOL.md, "Relay": pacing). The
 * rendezvous's budget R belongs to the registration: a client that sent bulk to two or three
 * relayed peers at once, each capped at R × 1200 / 1232, sent two or three times R and lost the
 * excess at the relay. Now the caps of its relayed addresses add up to at most that, a lone
 * path still gets all of it, and a path that leaves gives its share back. On the virtual network,
 * homes behind NAT routers, on the injected clock.
 */
import { describe, expect, it } from 'vitest';
import { type Address, encodeRendezvous } from '../src/index.js';
import { RELAY_PACKET_CODE, sealRelay } from '../src/rendezvous/relay.js';
import { relayedPathCap } from '../src/rendezvous/relay-paths.js';
import { IDLE_SWEEPS, SWEEP_MS } from '../src/rendezvous/relay-shares.js';
import { chat, type Home, hostOf, RENDEZVOUS_ADDRESS, RendezvousLab } from './support/rendezvous-lab.js';
import { pattern, StreamReader, StreamWriter } from './support/stream-apps.js';
import { eventsOf } from './support/virtual-network.js';

const RATE = 64 * 1024;
const CAP = relayedPathCap(RATE);

interface RelayedChat {
  peer: Home;
  /** The session on the sender's side, and on the peer's. */
  sa: number;
  sb: number;
  relayed: Address;
}

/** A sender and `peers` others, each in a chat with it over the relay (their NATs defeat punching). */
function relayedChats(peers: number, kind: 'port-randomising' | 'endpoint-independent' = 'port-randomising') {
  const lab = new RendezvousLab({}, { relayBytesPerSecond: RATE, relayBurstBytes: 2 * RATE });
  lab.net.conditions = { latency: 20, jitter: 0, loss: 0, duplicate: 0 };
  const a = lab.home(kind, 'anyone', [], { streams: true });
  const others = Array.from({ length: peers }, () => lab.home(kind, 'anyone', [], { streams: true }));
  if (kind === 'endpoint-independent') {
    // A firewall between the homes: nothing goes straight from one to another (until lifted).
    lab.net.filter = (from, to) => !(from.host.startsWith('203.0.113.') && to.host.startsWith('10.'));
  }
  expect(lab.run(() => lab.registered(a, ...others))).toBe(true);
  const chats: RelayedChat[] = others.map((peer) => {
    const result = chat(lab, a, peer);
    const relayed = result.accepted?.peer;
    if (relayed?.host !== 'relay' || result.session === undefined || !result.incoming)
      throw new Error('no relayed chat');
    const sa = result.session;
    lab.run(() => a.node.endpoint.session(sa)?.peerFeatures !== undefined, 5_000);
    return { peer, sa, sb: result.incoming.session, relayed };
  });
  return { lab, a, chats };
}

/** Starts a bulk stream from `a` on each chat (20 MB: more than the tests ever send). */
function startBulk(lab: RendezvousLab, a: Home, chats: RelayedChat[]) {
  return chats.map((c) => {
    const reader = new StreamReader(lab.net, c.peer.node, c.sb);
    const stream = a.node.endpoint.openStream(c.sa, lab.net.now);
    const writer = new StreamWriter(lab.net, a.node, c.sa, stream, pattern(20_000_000));
    return { reader, writer };
  });
}

/** What `a` sent the rendezvous as relay packets (outer bytes) since `since`, a second. */
function relaySendRate(lab: RendezvousLab, a: Home, since: number): number {
  let bytes = 0;
  for (const s of a.node.sent)
    if (s.at >= since && s.to.host === RENDEZVOUS_ADDRESS.host && s.data[3] === RELAY_PACKET_CODE)
      bytes += s.data.length;
  return (bytes * 1000) / (lab.net.now - since);
}

const capOf = (a: Home, c: RelayedChat) => a.node.endpoint.pathInfo(c.relayed)?.rateLimit;

describe('relayed paths share the relay send budget', () => {
  for (const peers of [2, 3]) {
    it(`bulk to ${peers} relayed peers at once: nothing dropped over budget, the caps add up to R × 1200 / 1232, and R is used`, () => {
      const { lab, a, chats } = relayedChats(peers);
      const overBefore = lab.server.stats.relayOverBudget;
      const apps = startBulk(lab, a, chats);
      const start = lab.net.now;
      lab.runFor(20_000);
      const over = lab.server.stats.relayOverBudget - overBefore;
      const caps = chats.map((c) => capOf(a, c) as number);
      const sum = caps.reduce((x, y) => x + y, 0);
      const rate = relaySendRate(lab, a, start);
      console.log(
        `[relay-shares] ${peers} relayed bulk streams: dropped over budget ${over}, caps ${caps.map((c) => c.toFixed(0)).join(' + ')} of ${CAP.toFixed(0)}, sent ${(rate / 1024).toFixed(1)} KiB/s of ${RATE / 1024}, goodputs ${apps.map((p) => ((p.reader.bytesRead * 1000) / (lab.net.now - start) / 1024).toFixed(1)).join(', ')} KiB/s`,
      );
      expect(over).toBe(0);
      expect(sum).toBeLessThanOrEqual(CAP + 1e-6);
      // The relay's bucket starts full (2R): over 20 s it allows R and a tenth of R more.
      expect(rate).toBeLessThanOrEqual(RATE + (2 * RATE) / 20);
      expect(rate).toBeGreaterThan(0.85 * RATE);
      // Each stream gets its share (no path starved).
      for (const p of apps) expect(p.reader.bytesRead).toBeGreaterThan(((0.6 * RATE) / peers) * 20);
    }, 60_000);
  }

  it('a lone relayed bulk stream still gets all of the budget, beside an idle relayed chat', () => {
    const { lab, a, chats } = relayedChats(2);
    const [busy, idle] = chats as [RelayedChat, RelayedChat];
    startBulk(lab, a, [busy]);
    // One line on the idle chat now and then: it takes a share only while it sends.
    const start = lab.net.now;
    for (let i = 0; i < 4; i++) {
      lab.runFor(5_000);
      a.node.endpoint.send(idle.sa, `line ${i}`, lab.net.now);
    }
    lab.runFor(2_000);
    const rate = relaySendRate(lab, a, start);
    console.log(
      `[relay-shares] a lone bulk stream beside an idle relayed chat: ${(rate / 1024).toFixed(1)} KiB/s of ${RATE / 1024}`,
    );
    expect(rate).toBeGreaterThanOrEqual(0.9 * RATE);
    expect(capOf(a, busy)).toBeCloseTo(CAP);
    expect(eventsOf(idle.peer.node, 'message').map((e) => e.text)).toEqual([
      'line 0',
      'line 1',
      'line 2',
      'line 3',
    ]);
  }, 60_000);

  it('a path that carries only acknowledgements (a download) keeps a small share: the upload beside it gets most', () => {
    const { lab, a, chats } = relayedChats(2);
    const [up, down] = chats as [RelayedChat, RelayedChat];
    startBulk(lab, a, [up]);
    // The second peer sends a bulk stream to a: a's path to it carries a's acknowledgements.
    new StreamReader(lab.net, a.node, down.sa);
    const stream = down.peer.node.endpoint.openStream(down.sb, lab.net.now);
    new StreamWriter(lab.net, down.peer.node, down.sb, stream, pattern(20_000_000));
    lab.runFor(3_000);
    const overBefore = lab.server.stats.relayOverBudget;
    const start = lab.net.now;
    lab.runFor(10_000);
    const [upCap, downCap] = [capOf(a, up) as number, capOf(a, down) as number];
    console.log(
      `[relay-shares] upload beside a download: caps ${upCap.toFixed(0)} (upload) + ${downCap.toFixed(0)} (acks) of ${CAP.toFixed(0)}`,
    );
    expect(upCap + downCap).toBeLessThanOrEqual(CAP + 1e-6);
    // The acknowledgements path keeps twice what it uses (about 5 % of C).
    expect(upCap).toBeGreaterThan(0.85 * CAP);
    expect(relaySendRate(lab, a, start)).toBeGreaterThan(0.85 * RATE);
    expect(lab.server.stats.relayOverBudget - overBefore).toBe(0);
  }, 60_000);

  it('a session that closes gives its share back', () => {
    const { lab, a, chats } = relayedChats(2);
    const [stays, leaves] = chats as [RelayedChat, RelayedChat];
    startBulk(lab, a, chats);
    lab.runFor(3_000);
    expect(capOf(a, stays)).toBeCloseTo(CAP / 2);
    a.node.endpoint.close(leaves.sa, lab.net.now);
    const closedAt = lab.net.now;
    expect(lab.run(() => capOf(a, stays) === CAP, 10_000)).toBe(true);
    expect(lab.net.now - closedAt).toBeLessThanOrEqual((IDLE_SWEEPS + 2) * SWEEP_MS);
    const overBefore = lab.server.stats.relayOverBudget;
    const start = lab.net.now;
    lab.runFor(5_000);
    expect(relaySendRate(lab, a, start)).toBeGreaterThanOrEqual(0.9 * RATE);
    expect(lab.server.stats.relayOverBudget - overBefore).toBe(0);
  }, 60_000);

  it('a chat that finds a direct path gives its share back', () => {
    const { lab, a, chats } = relayedChats(2, 'endpoint-independent');
    const [stays, moves] = chats as [RelayedChat, RelayedChat];
    startBulk(lab, a, chats);
    lab.runFor(2_000);
    expect(capOf(a, stays)).toBeCloseTo(CAP / 2);
    // The firewall opens between a and the second peer only: its direct-path probes get through.
    const homeOf = (h: Home) => [h.node.address.host, h.nat.publicHost];
    const pair = [...homeOf(a), ...homeOf(moves.peer)];
    lab.net.filter = (from, to) =>
      !(from.host.startsWith('203.0.113.') && to.host.startsWith('10.')) ||
      (pair.includes(from.host) && pair.includes(to.host));
    const movedOff = () => a.node.endpoint.session(moves.sa)?.peer.host !== 'relay';
    expect(lab.run(movedOff, 30_000)).toBe(true);
    expect(lab.run(() => capOf(a, stays) === CAP, 5_000)).toBe(true);
    expect(a.client.stats.directProbes).toBeGreaterThan(0);
  }, 60_000);
});

describe("the attacker: the budget and its caps are the rendezvous's and ours alone", () => {
  it('forged relay packets and a relay_rate from a peer change no cap', () => {
    const { lab, a, chats } = relayedChats(2);
    startBulk(lab, a, chats);
    lab.runFor(3_000);
    const capsBefore = chats.map((c) => capOf(a, c));
    const droppedBefore = a.client.stats.relayDropped;
    // A stranger on the internet: relay packets with made-up tags, counters and keys, a flood.
    const malformedBefore = a.client.stats.malformed;
    const inner = new Uint8Array(200).fill(7);
    for (let i = 0; i < 2_000; i++) {
      const forged = sealRelay(
        { from: 1 + (i % 50), to: 1 + ((i * 7) % 50), counter: i, inner },
        new Uint8Array(32).fill(i & 0xff),
      );
      lab.net.inject(a.node, { host: '192.0.2.66', port: 4000 + i }, forged);
    }
    // A relayed peer (a session with a, but not a's rendezvous) says the budget is 4 GB/s.
    const peerHost = hostOf(chats[0]?.peer.node.endpoint as never);
    const channel = peerHost.channelOf(chats[0]?.sb as number);
    if (!channel) throw new Error('no channel');
    peerHost.sendControl(
      channel.id,
      encodeRendezvous({ type: 'relay_rate', request: 0, bytesPerSecond: 0xffff_ffff }),
      lab.net.now,
    );
    lab.runFor(300);
    expect(chats.map((c) => capOf(a, c))).toEqual(capsBefore);
    expect(a.client.stats.relayDropped - droppedBefore).toBe(2_000);
    expect(a.client.stats.malformed - malformedBefore).toBe(1);
  }, 60_000);
});

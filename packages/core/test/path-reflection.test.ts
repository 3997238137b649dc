/**
 * The attacker's test for path validation (issue 17, item 6): a stranger makes a channel with the
 * target (any stranger can) and sends it authentic packets with forged sources, so that the
 * target's path challenges go to a victim. Measured: the bytes the target sent to the victim
 * against the bytes the attacker sent as the victim (never more: amplification at most 1), and
 * an absolute bound per victim host and in total. And a real peer that roams during the attack
 * still moves its path. On virtual time.
 */
import { describe, expect, it } from 'vitest';
import type { Address } from '../src/index.js';
import { DEFAULT_SECURE_OPTIONS } from '../src/secure/secure-transport.js';
import { PATH_PACKET_BYTES } from '../src/secure/path-validation.js';
import { RawPeer } from './support/raw-peer.js';
import { eventsOf, type Node, openPair, VirtualNetwork } from './support/virtual-network.js';

const PER_HOST = DEFAULT_SECURE_OPTIONS.pathPacketsPerSecondPerHost;
const TOTAL = DEFAULT_SECURE_OPTIONS.pathPacketsPerSecond;
const KEEPALIVE = new Uint8Array(0);
/** The attacker's best: just long enough (41 bytes on the wire) to pay for one challenge each. */
const PAYING = new Uint8Array([0x4e, 0x43, 1, 2, 3, 4, 5, 6, 7]);

/** An attacker holding a channel with `target`, and what it made the target send where. */
function attackerOf(net: VirtualNetwork, target: Node, host = '10.0.0.66', port = 6666) {
  const raw = net.attach(new RawPeer(), host, port).endpoint;
  raw.connect(target.address, net.now);
  const completed = target.endpoint.secureStats.handshakesCompleted;
  net.run(() => target.endpoint.secureStats.handshakesCompleted > completed, net.now + 1_000);
  if (!raw.channel) throw new Error('the attacker has no channel');
  let sentAs = 0;
  return {
    raw,
    /** Seals `plaintext` on the attacker's channel and delivers it to the target as if from `from`. */
    forge(from: Address, plaintext: Uint8Array): void {
      raw.sendRaw(plaintext);
      const packet = raw.pollTransmit();
      if (!packet) throw new Error('nothing sealed');
      sentAs += packet.data.length;
      net.inject(target, from, packet.data);
    },
    get bytesForged() {
      return sentAs;
    },
  };
}

/** Bytes and packets `node` sent to hosts `to` accepts, from virtual time `since` on. */
function sentTo(node: Node, to: (host: string) => boolean, since = 0) {
  const packets = node.sent.filter((s) => s.at >= since && to(s.to.host));
  return { packets: packets.length, bytes: packets.reduce((n, s) => n + s.data.length, 0) };
}

describe('reflection through path challenges', () => {
  it('1,000 spoofed ports of one victim host: keepalives get nothing, paying packets ≤ 10 a second', () => {
    const net = new VirtualNetwork(3);
    const target = net.add('10.0.0.2', 2222);
    const attacker = attackerOf(net, target);
    const victim = (port: number): Address => ({ host: '10.9.9.9', port });
    const atVictim = (host: string) => host === '10.9.9.9';
    const start = net.now;
    // The attack: one 32-byte keepalive from each of 1,000 ports (it got 1,000 challenges).
    for (let port = 1; port <= 1_000; port++) attacker.forge(victim(port), KEEPALIVE);
    expect(target.endpoint.secureStats).toMatchObject({ unknownChannel: 0, forged: 0, replayed: 0 });
    expect(sentTo(target, atVictim, start)).toEqual({ packets: 0, bytes: 0 });
    // The attacker's best: 1,000 ports a second for 10 s, each packet paying for a challenge.
    for (let second = 0; second < 10; second++) {
      for (let port = 1; port <= 1_000; port++) attacker.forge(victim(port), PAYING);
      net.runFor(1_000);
    }
    const reflected = sentTo(target, atVictim, start);
    expect(reflected.packets).toBeLessThanOrEqual(PER_HOST + 10 * PER_HOST); // burst + rate × 10 s
    expect(reflected.packets).toBeGreaterThan(0); // the limit is a rate, not a ban
    expect(reflected.bytes).toBeLessThanOrEqual((PER_HOST + 10 * PER_HOST) * PATH_PACKET_BYTES);
    expect(reflected.bytes / attacker.bytesForged).toBeLessThan(0.01);
    expect(target.endpoint.secureStats.pathPacketsLimited).toBeGreaterThan(9_000);
  });

  it('ten attackers share the victim host’s budget: it is per host, not per channel', () => {
    const net = new VirtualNetwork(4);
    const target = net.add('10.0.0.2', 2222);
    const attackers = Array.from({ length: 10 }, (_, i) => attackerOf(net, target, `10.0.1.${i + 1}`));
    const start = net.now;
    for (let second = 0; second < 5; second++) {
      for (const [i, attacker] of attackers.entries())
        for (let port = 1; port <= 100; port++)
          attacker.forge({ host: '10.9.9.9', port: i * 100 + port }, PAYING);
      net.runFor(1_000);
    }
    const reflected = sentTo(target, (host) => host === '10.9.9.9', start);
    expect(reflected.packets).toBeLessThanOrEqual(PER_HOST + 5 * PER_HOST);
  });

  it('2,000 victim hosts a second: never more bytes to any host than forged as it, and ≤ 1,000 challenges a second in all', () => {
    const net = new VirtualNetwork(5);
    const target = net.add('10.0.0.2', 2222);
    const attacker = attackerOf(net, target);
    const victimHost = (i: number) => `10.8.${i >> 8}.${i & 255}`;
    const isVictim = (host: string) => host.startsWith('10.8.');
    const forgedAs = new Map<string, number>();
    const start = net.now;
    for (let second = 0; second < 5; second++) {
      for (let i = 0; i < 2_000; i++) {
        const host = victimHost(i);
        attacker.forge({ host, port: 40_000 + second }, second % 2 === 0 ? PAYING : KEEPALIVE);
        forgedAs.set(host, (forgedAs.get(host) ?? 0) + (second % 2 === 0 ? 41 : 32));
      }
      net.runFor(1_000);
    }
    const reflected = sentTo(target, isVictim, start);
    expect(reflected.packets).toBeLessThanOrEqual(TOTAL + 5 * TOTAL);
    expect(reflected.bytes).toBeLessThanOrEqual(attacker.bytesForged);
    const perHost = new Map<string, number>();
    for (const s of target.sent.filter((x) => x.at >= start && isVictim(x.to.host)))
      perHost.set(s.to.host, (perHost.get(s.to.host) ?? 0) + s.data.length);
    for (const [host, bytes] of perHost) expect(bytes).toBeLessThanOrEqual(forgedAs.get(host) ?? 0);
    expect(target.endpoint.secureSizes.rateLimitedAddresses).toBeLessThanOrEqual(100_000);
  });

  it('replayed packets from spoofed sources get nothing at all', () => {
    const net = new VirtualNetwork(6);
    const { a, b, sa } = openPair(net);
    a.endpoint.send(sa, 'a message long enough to pay for a challenge', net.now);
    net.runFor(200);
    const start = net.now;
    // Every data packet a sent (a replayed handshake init is answered as any init is: with a
    // response of its own size, see the handshake's tests).
    const captured = a.sent.filter((s) => s.data[3] === 5);
    expect(captured.length).toBeGreaterThanOrEqual(2); // the request and the text
    for (const s of captured)
      for (let port = 1; port <= 100; port++) net.inject(b, { host: '10.9.9.9', port }, s.data);
    expect(b.endpoint.secureStats.replayed).toBe(100 * captured.length);
    expect(sentTo(b, (host) => host === '10.9.9.9', start).packets).toBe(0);
    expect(b.endpoint.secureStats.pathChallengesSent).toBe(0);
  });

  it.each([
    ['one victim host', (i: number) => ({ host: '10.9.9.9', port: 1 + (i % 60_000) })],
    [
      '2,000 victim hosts a second',
      (i: number) => ({ host: `10.8.${(i >> 8) & 7}.${i & 255}`, port: 40_000 }),
    ],
  ])('a real peer that roams during an attack on %s still moves its path', (_what, victim) => {
    const net = new VirtualNetwork(7);
    const { a, b, sa, sb } = openPair(net);
    const attacker = attackerOf(net, b);
    let forged = 0;
    /** 200 forged packets every 100 ms (2,000 a second), spread over the run. */
    const attackFor = (ms: number) => {
      for (let t = 0; t < ms; t += 100) {
        for (let i = 0; i < 200; i++) attacker.forge(victim(forged++), PAYING);
        net.runFor(100);
      }
    };
    attackFor(1_000);
    const moved = net.rebind(a, 4444); // a's NAT gives it a new port, mid-attack
    a.endpoint.send(sa, 'from the new port', net.now);
    attackFor(3_000);
    expect(b.endpoint.session(sb)?.peer).toEqual(moved);
    expect(b.endpoint.secureStats.pathMoves).toBe(1);
    b.endpoint.send(sb, 'reply on the new path', net.now);
    attackFor(500);
    expect(eventsOf(a, 'message').map((e) => e.text)).toEqual(['reply on the new path']);
    expect(eventsOf(b, 'message').map((e) => e.text)).toEqual(['from the new port']);
  });
});

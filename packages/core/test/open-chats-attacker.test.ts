/**
 * The open chats a rendezvous client keeps going (rendezvous/open-chats.ts, relay-fallback.ts),
 * attacked. A hostile rendezvous names a chat's peer at addresses of third parties, to make the
 * client a reflector: what reaches them, per byte the rendezvous sent. And peers of relayed chats
 * that all go dark (a relayed chat's silence makes the client doubt its rendezvous): the client
 * must not doubt a good rendezvous into registering again, nor probe it more than its limit.
 * Virtual time; every figure from the datagrams each node sent.
 */
import { describe, expect, it } from 'vitest';
import { RELAY_HOST } from '../src/index.js';
import { PROBE_EVERY_MS } from '../src/rendezvous/client-registration.js';
import { PUNCH_RATE } from '../src/rendezvous/introductions.js';
import { chat, hostileIntroducer, RENDEZVOUS_ADDRESS, RendezvousLab } from './support/rendezvous-lab.js';
import { eventsOf } from './support/virtual-network.js';

const HEARTBEATS = { heartbeatInterval: 2_000 };
const THIRD_PARTIES = '192.0.2.';

describe('open chats, attacked', () => {
  it('a hostile rendezvous naming a chat’s peer at 200 third-party addresses, 20 introductions a second for 10 s: less reaches them than it sent, within the punch rate, and the chat stays', () => {
    const lab = new RendezvousLab(HEARTBEATS);
    const a = lab.home('endpoint-independent', 'anyone', [], HEARTBEATS);
    const b = lab.home('endpoint-independent', 'anyone', [], HEARTBEATS);
    expect(lab.run(() => lab.registered(a, b))).toBe(true);
    const opened = chat(lab, a, b);
    expect(opened.accepted).toBeDefined();
    const before = a.node.endpoint.listSessions()[0]?.peer;
    const introduce = hostileIntroducer(lab, '203.0.113.1');
    const key = b.node.endpoint.identity.publicKey;
    const rendezvousSentBefore = lab.rendezvous.sent.length;
    const sentBefore = a.node.sent.length;
    const start = lab.net.now;
    let n = 0;
    for (let second = 0; second < 10; second++) {
      for (let i = 0; i < 20; i++, n++) {
        const third = { host: `${THIRD_PARTIES}${(n % 20) + 1}`, port: 9000 + Math.floor(n / 20) };
        introduce(key, third, 1 + n);
      }
      lab.runFor(1_000);
    }
    const seconds = (lab.net.now - start) / 1000;
    const bytesIn = lab.rendezvous.sent
      .slice(rendezvousSentBefore)
      .filter((s) => s.to.host === '203.0.113.1')
      .reduce((sum, s) => sum + s.data.length, 0);
    // What left a's NAT for the third parties (a.node sent them from its home address).
    const toThird = a.node.sent.slice(sentBefore).filter((s) => s.to.host.startsWith(THIRD_PARTIES));
    const bytesOut = toThird.reduce((sum, s) => sum + s.data.length, 0);
    console.log(
      `[open chats] hostile rendezvous: ${n} introductions naming third parties (${bytesIn} bytes to a, its heartbeats' answers included) over ${seconds} s; ${toThird.length} packets, ${bytesOut} bytes to the third parties (${(bytesOut / bytesIn).toFixed(2)} per byte in)`,
    );
    expect(bytesOut).toBeLessThan(bytesIn);
    // One path challenge (41 bytes) per introduction acted on, within the punch rate.
    expect(toThird.length).toBeLessThanOrEqual(PUNCH_RATE.burst + PUNCH_RATE.perSecond * seconds);
    for (const packet of toThird) expect(packet.data.length).toBe(41);
    // The chat stays where it was, and goes on.
    expect(a.node.endpoint.listSessions()[0]?.peer).toEqual(before);
    a.node.endpoint.send(opened.session as number, 'still here', lab.net.now);
    expect(lab.run(() => eventsOf(b.node, 'message').some((m) => m.text === 'still here'))).toBe(true);
  });

  it('8 relayed chats whose peers all go dark for 60 s: the client probes its rendezvous at most every 5 s and never registers again', () => {
    const lab = new RendezvousLab(HEARTBEATS);
    const a = lab.home('port-randomising', 'anyone', [], HEARTBEATS);
    const peers = Array.from({ length: 8 }, () => lab.home('port-randomising', 'anyone', [], HEARTBEATS));
    expect(lab.run(() => lab.registered(a, ...peers))).toBe(true);
    for (const peer of peers) {
      const opened = chat(lab, peer, a);
      expect(opened.accepted, JSON.stringify(opened.failed)).toBeDefined();
      lab.runFor(300);
    }
    const relayed = a.node.endpoint.listSessions().filter((s) => s.peer.host === RELAY_HOST);
    expect(relayed).toHaveLength(8);
    // The peers' homes are cut off from everyone (the rendezvous keeps their registrations a while).
    const dark = new Set(peers.map((p) => p.nat.publicHost));
    lab.net.filter = (from, to) => !dark.has(from.host) && !dark.has(to.host);
    const probesBefore = a.client.stats.probes;
    const reregistrationsBefore = a.client.stats.reregistrations;
    const sentBefore = a.node.sent.length;
    const start = lab.net.now;
    lab.runFor(60_000);
    const toRendezvous = a.node.sent
      .slice(sentBefore)
      .filter((s) => s.to.host === RENDEZVOUS_ADDRESS.host)
      .reduce((sum, s) => sum + s.data.length, 0);
    const probes = a.client.stats.probes - probesBefore;
    console.log(
      `[open chats] 8 relayed peers dark for 60 s: ${probes} probes of the rendezvous, ${a.client.stats.reregistrations - reregistrationsBefore} registrations again, ${a.client.stats.refinds} refinds, ${toRendezvous} bytes to the rendezvous`,
    );
    expect(probes).toBeLessThanOrEqual(Math.ceil((lab.net.now - start) / PROBE_EVERY_MS) + 1);
    expect(a.client.stats.reregistrations).toBe(reregistrationsBefore);
    expect(a.client.isRegistered).toBe(true);
    // Everything to the rendezvous: 8 chats' heartbeats and refinds through the relay, and our own.
    expect(toRendezvous).toBeLessThan(100_000);
  });
});

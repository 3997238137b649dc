/**
 * A hostile rendezvous holds its client's relay key: it can send the client authentic relay
 * packets naming any `from` tag, for sessions that do not exist. Each tag becomes a relayed
 * address (relay-paths.ts keeps the latest MAX_ALIASES), and the inner packet goes to the
 * endpoint as from that address. Measured on the virtual network: what the client keeps, what it
 * sends back (only ever to the rendezvous), and that nothing reaches its application unasked.
 */
import { describe, expect, it } from 'vitest';
import { RendezvousClient } from '../src/index.js';
import { sealRelay } from '../src/rendezvous/relay.js';
import { type Peer, RENDEZVOUS_ADDRESS, RendezvousLab } from './support/rendezvous-lab.js';
import { eventsOf } from './support/virtual-network.js';

const TAGS = 6_000;
const INITS = 40;
/** relay-paths.ts: relayed addresses kept at most. */
const MAX_ALIASES = 4_096;

describe('a hostile rendezvous and relay packets for sessions that do not exist', () => {
  it(`${TAGS} made-up tags, each sending a stranger's handshake_init, then data packets for no channel: aliases bounded, no session, bytes out no more than in, all to the rendezvous`, () => {
    const lab = new RendezvousLab();
    const node = lab.net.add('192.0.2.40', 5000, { nick: 'victim' });
    const client = node.endpoint.use(
      (host) =>
        new RendezvousClient(host, { server: RENDEZVOUS_ADDRESS, acceptFrom: 'anyone', listedKeys: [] }),
    );
    const peer: Peer = { node, client, updates: [], fingerprint: '' };
    lab.peers.push(peer);
    client.start(lab.net.now);
    expect(lab.run(() => client.isRegistered)).toBe(true);
    const own = (client as unknown as { paths: { credentials: { tag: number; key: Uint8Array } } }).paths
      .credentials;

    // Strangers' first handshake datagrams, each from a key of its own.
    const inits: Uint8Array[] = [];
    for (let i = 0; i < INITS; i++) {
      const stranger = lab.net.add(`203.0.113.${i + 1}`, 6000, { nick: `s${i}` });
      stranger.endpoint.connect({ host: '203.0.113.250', port: 9 }, lab.net.now);
      lab.runFor(1);
      const first = stranger.sent[0];
      if (!first) throw new Error('no init');
      inits.push(first.data);
    }
    const start = lab.net.now;
    let into = 0;
    let counter = 0;
    for (let i = 0; i < TAGS; i++) {
      const from = 100_000 + i;
      if (from === own.tag) continue;
      for (const inner of [
        inits[i % INITS] as Uint8Array,
        (inits[i % INITS] as Uint8Array).map((b, j) => (j < 4 ? b : b ^ 0x5a)),
      ]) {
        const packet = sealRelay({ from, to: own.tag, counter: counter++, inner }, own.key);
        into += packet.length;
        lab.net.inject(node, RENDEZVOUS_ADDRESS, packet);
      }
      if (i % 100 === 99) lab.runFor(20);
    }
    lab.runFor(30_000);
    const sent = node.sent.filter((s) => s.at >= start);
    const out = sent.reduce((n, s) => n + s.data.length, 0);
    const aliases = (client as unknown as { paths: { portOfTag: Map<number, number> } }).paths.portOfTag.size;
    console.log(
      `${counter} authentic relay packets (${into} bytes) from ${TAGS} made-up tags: ${aliases} aliases kept; ${sent.length} datagrams (${out} bytes) sent back in 30 s; ${eventsOf(node, 'request').length} requests, ${node.endpoint.listSessions().length} sessions`,
    );
    expect(aliases).toBeLessThanOrEqual(MAX_ALIASES);
    expect(
      sent.every((s) => s.to.host === RENDEZVOUS_ADDRESS.host && s.to.port === RENDEZVOUS_ADDRESS.port),
    ).toBe(true);
    expect(out).toBeLessThanOrEqual(into);
    expect(eventsOf(node, 'request')).toEqual([]);
    expect(node.endpoint.listSessions().filter((s) => s.peer.host === 'relay')).toEqual([]);
    expect(client.isRegistered).toBe(true);
  });
});

/**
 * Interop with a real rendezvous (`serveRendezvous` on a NetchatPeer, on loopback): the independent
 * peer (written from PROTOCOL.md alone) registers, asks for a netchat peer by fingerprint and is
 * asked for; and, behind a firewall that lets through only the rendezvous, its chats go through
 * the relay (authenticated relay packets) whichever side asked.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fingerprint, type NetchatPeer, RendezvousLink, serveRendezvous } from '../src/index.js';
import { bigText, Stage } from './interop/harness.js';
import { type Address, type IndependentPeer, RendezvousClient } from './interop/index.mjs';

let stage: Stage;
afterEach(async () => {
  await stage.close();
});

const same = (a: Address, b: Address) =>
  a.port === b.port && a.host.replace('::ffff:', '') === b.host.replace('::ffff:', '');

async function rendezvousServer(s: Stage): Promise<NetchatPeer> {
  const server = await s.netchat('R');
  server.on('request', (e) => server.accept(e.session)); // its program accepts everyone
  serveRendezvous(server);
  return server;
}

async function netchatClient(s: Stage, name: string, server: NetchatPeer) {
  const peer = await s.netchat(name);
  const link = new RendezvousLink(peer, { server: server.address, acceptFrom: 'anyone', listedKeys: [] });
  expect(await link.whenRegistered(10_000)).toBe(true);
  return { peer, link };
}

async function independentClient(s: Stage, name: string, server: NetchatPeer, firewalled = false) {
  const onlyRendezvous = (a: Address) => same(a, server.address);
  const peer = await s.independent(name, {
    onRequest: () => 'accept',
    ...(firewalled ? { inbound: onlyRendezvous, outbound: onlyRendezvous } : {}),
  });
  const client = new RendezvousClient(peer, { server: server.address });
  client.start();
  expect(await client.whenRegistered(10_000)).toBe(true);
  return { peer, client };
}

/** A firewalled independent peer asks for a netchat peer: their chat opens through the relay. */
async function relayedChat(s: Stage) {
  const r = s.recorder;
  const server = await rendezvousServer(s);
  const n = await netchatClient(s, 'N', server);
  const p = await independentClient(s, 'P', server, true);
  n.peer.on('request', (e) => n.peer.accept(e.session));
  const found = await p.client.find(fingerprint(n.peer.publicKey));
  await r.waitFor('P', 'accepted', (e) => e.session === found.session, 15_000);
  const ns = (await r.waitFor('N', 'request')).session as number;
  return { r, n, p, found, ns };
}

function expectClean(p: IndependentPeer): void {
  expect(p.errors).toEqual([]);
  expect(p.stats.malformedMessages).toBe(0);
  expect(p.rendezvous?.stats.malformed).toBe(0);
}

describe('interop: the independent peer with a netchat rendezvous', () => {
  it('registers, finds netchat by fingerprint and is found by it; the chats go direct', async () => {
    stage = new Stage();
    const r = stage.recorder;
    const server = await rendezvousServer(stage);
    const n = await netchatClient(stage, 'N', server);
    const p1 = await independentClient(stage, 'P1', server);
    // The rendezvous tells it where it sees it (as STUN would), a non-zero tag and a key.
    expect(p1.client.registered?.address).toEqual(p1.peer.address);
    expect(p1.client.registered?.tag).not.toBe(0);

    // The independent peer asks for netchat.
    n.peer.on('request', (e) => n.peer.accept(e.session));
    const found = await p1.client.find(fingerprint(n.peer.publicKey));
    expect(found.address).toEqual(n.peer.address);
    await r.waitFor('P1', 'accepted', (e) => e.session === found.session);
    p1.peer.send(found.session, 'found you 🔎');
    await r.waitFor('N', 'message', (e) => e.text === 'found you 🔎');
    expect(p1.client.stats.introductionsAsRequester).toBe(1);

    // netchat asks for a second independent peer, which punches towards it.
    const p2 = await independentClient(stage, 'P2', server);
    const address = await n.link.find(p2.peer.fingerprint);
    expect(address).toEqual(p2.peer.address);
    const ns = n.peer.connectTo(address);
    await r.waitFor('N', 'accepted', (e) => e.session === ns);
    n.peer.send(ns, 'and you 🔍');
    await r.waitFor('P2', 'message', (e) => e.text === 'and you 🔍');
    expect(p2.client.stats.introductionsAsIntroduced).toBe(1);
    await r.until(() => p2.client.stats.punchesSent === 1, 5000, 'the punch');
    expect(p2.client.stats.relayedIn + p2.client.stats.relayedOut).toBe(0); // direct
    expectClean(p1.peer);
    expectClean(p2.peer);
  });

  it('behind a firewall, the independent peer asks for netchat: the handshake moves to the relay and they chat', async () => {
    stage = new Stage();
    const { r, n, p, found, ns } = await relayedChat(stage);
    expect(found.relayTag).not.toBe(0);
    expect(p.client.stats.movedToRelay).toBe(1);
    expect(n.peer.session(ns)?.peer.host).toBe('relay');

    const big = bigText(30_000);
    p.peer.send(found.session, 'through the relay 🛰');
    p.peer.send(found.session, big);
    n.peer.send(ns, 'back through it');
    await r.until(
      () => r.of('N', 'message').length === 2 && r.of('P', 'message').length === 1,
      15_000,
      'messages',
    );
    expect(r.of('N', 'message').map((e) => e.text)).toEqual(['through the relay 🛰', big]);
    expect(r.of('P', 'message')[0]?.text).toBe('back through it');
    await r.until(() => r.of('P', 'delivered').length === 2, 10_000, 'delivered');
    expect(p.client.stats.relayedIn).toBeGreaterThan(0);
    expect(p.client.stats.relayedOut).toBeGreaterThan(0);
    expect(p.client.stats.relayDropped).toBe(0);
    expect(p.peer.stats.droppedIn + p.peer.stats.droppedOut).toBeGreaterThan(0); // the firewall did its part

    p.peer.closeSession(found.session);
    expect((await r.waitFor('N', 'closed', (e) => e.session === ns, 10_000)).reason).toBe('peer_closed');
    expectClean(p.peer);
  });

  it('behind a firewall, the independent peer is asked for by netchat: it answers the relayed handshake', async () => {
    stage = new Stage();
    const r = stage.recorder;
    const server = await rendezvousServer(stage);
    const n = await netchatClient(stage, 'N', server);
    const p = await independentClient(stage, 'P', server, true);
    const address = await n.link.find(p.peer.fingerprint);
    const ns = n.peer.connectTo(address);
    await r.waitFor('N', 'accepted', (e) => e.session === ns, 15_000);
    const ps = (await r.waitFor('P', 'request')).session as number;
    expect(p.peer.session(ps)?.channel.address.host).toBe('relay');

    n.peer.send(ns, 'relayed hello 👋');
    p.peer.send(ps, 'relayed answer 🤝');
    await r.waitFor('P', 'message', (e) => e.text === 'relayed hello 👋');
    await r.waitFor('N', 'message', (e) => e.text === 'relayed answer 🤝');
    await r.until(
      () => r.of('N', 'delivered').length === 1 && r.of('P', 'delivered').length === 1,
      10_000,
      'acks',
    );
    expect(p.client.stats.relayedIn).toBeGreaterThan(0);
    expect(p.client.stats.relayDropped).toBe(0);

    n.peer.closeSession(ns);
    expect((await r.waitFor('P', 'closed', (e) => e.session === ps, 10_000)).reason).toBe('peer_closed');
    expectClean(p.peer);
  });

  it('a relayed chat goes back to a direct path once the firewall opens (direct keepalives, path validation)', async () => {
    stage = new Stage();
    const { r, n, p, found, ns } = await relayedChat(stage);
    expect(n.peer.session(ns)?.peer.host).toBe('relay');
    // The firewall opens: from 8 s after the introduction each side probes the other's public
    // address straight every 5 s (netchat with a path challenge, this peer as the document had it
    // before, with keepalives); whichever gets through first, both end up validated (Roaming).
    const options = (p.peer as unknown as { options: Record<string, unknown> }).options;
    options.inbound = undefined;
    options.outbound = undefined;
    // netchat's challenge answered moves it; its two keepalives after it pay for this peer's
    // challenge (a keepalive alone, 32 bytes, would not: its own second one at 13 s would).
    await r.until(
      () => same(p.peer.session(found.session)?.channel.address ?? { host: '', port: 0 }, n.peer.address),
      40_000,
      'the independent side on the direct path',
    );
    // Everything it sends now goes direct: netchat credits it, challenges, and moves too.
    p.peer.send(found.session, 'from the direct path');
    await r.waitFor('N', 'message', (e) => e.text === 'from the direct path');
    await r.until(
      () => same(n.peer.session(ns)?.peer ?? { host: '', port: 0 }, p.peer.address),
      5000,
      'netchat direct',
    );
    // By a relay path's probe, or by the one netchat's claim of the relayed chat sends (its
    // introduction is answered as a refind's is: a challenge to the address it names).
    const { directProbes, refindProbes } = n.link.client.stats;
    expect(p.client.stats.directProbes + directProbes + refindProbes).toBeGreaterThanOrEqual(1);
    // From here every text goes direct both ways. (A packet netchat put on the relay just before
    // it moved may still come out of it later on a loaded machine: what is checked is where each
    // new text travels, not that the relay stays silent.)
    const relayedOutBefore = p.client.stats.relayedOut;
    const textsFrom: { host: string; port: number }[] = [];
    const onWire = (w: { message: { type: string }; from: { host: string; port: number } }) => {
      if (w.message.type === 'text') textsFrom.push(w.from);
    };
    p.peer.on('wire_message', onWire);
    p.peer.send(found.session, 'direct now');
    n.peer.send(ns, 'direct too');
    await r.waitFor('N', 'message', (e) => e.text === 'direct now');
    await r.waitFor('P', 'message', (e) => e.text === 'direct too');
    await r.until(
      () => r.of('P', 'delivered').length === 2 && r.of('N', 'delivered').length === 1,
      5000,
      'acks',
    );
    p.peer.off('wire_message', onWire);
    expect(p.client.stats.relayedOut).toBe(relayedOutBefore);
    expect(textsFrom.length).toBeGreaterThanOrEqual(1);
    for (const from of textsFrom) expect(same(from, n.peer.address), `${from.host} ${from.port}`).toBe(true);
    expectClean(p.peer);
  }, 75_000);
});

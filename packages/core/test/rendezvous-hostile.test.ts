/**
 * A hostile rendezvous: it sends its clients whatever introductions it likes. A client punches
 * only for introductions it asked for or accepts, at a bounded rate, and never to an address no
 * datagram can go to (port 0, unspecified, multicast, broadcast, an IP version its socket cannot
 * reach): those are ignored and counted, and nothing throws. On the virtual network, and once on
 * real sockets on loopback.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Address,
  addressToWire,
  encodeRendezvous,
  fingerprint,
  generateKeyPair,
  NetchatPeer,
  RendezvousClient,
  RendezvousLink,
  serveRendezvous,
} from '../src/index.js';
import { PUNCH_RATE } from '../src/rendezvous/introductions.js';
import { hostOf, type Peer, RENDEZVOUS_ADDRESS, RendezvousLab } from './support/rendezvous-lab.js';

const INIT_BYTES = 108;

/** Sends `peer` a rendezvous message from the rendezvous, on the channel of peer's session with it. */
function fromRendezvous(
  lab: RendezvousLab,
  peer: Peer,
): (message: Parameters<typeof encodeRendezvous>[0]) => void {
  const host = hostOf(lab.rendezvous.endpoint);
  const public_ = lab.homes.find((h) => h === peer)?.nat.publicHost ?? peer.node.address.host;
  const session = lab.rendezvous.endpoint.listSessions().find((s) => s.peer.host === public_);
  const channel = session && host.channelOf(session.id);
  if (!channel) throw new Error('no session with that peer');
  return (message) => host.sendControl(channel.id, encodeRendezvous(message), lab.net.now);
}

function introduction(role: 'introduced' | 'requester', to: Address, request = 0) {
  return {
    type: 'introduction' as const,
    request,
    role,
    key: generateKeyPair().publicKey,
    ...addressToWire(to),
    startIn: 0,
    relayTag: 0,
  };
}

const sentTo = (peer: Peer, host: string) => peer.node.sent.filter((s) => s.to.host === host);

describe('a hostile rendezvous', () => {
  it('cannot make a client punch arbitrary addresses faster than the punch rate', () => {
    const lab = new RendezvousLab();
    const a = lab.home('endpoint-independent');
    expect(lab.run(() => lab.registered(a))).toBe(true);
    const send = fromRendezvous(lab, a);
    const start = lab.net.now;
    // 20 introductions at once, then 20 a second for 10 s: 220 victims named.
    for (let i = 0; i < 20; i++) send(introduction('introduced', { host: '192.0.2.7', port: 7000 + i }));
    for (let second = 0; second < 10; second++) {
      lab.runFor(1_000);
      for (let i = 0; i < 20; i++)
        send(introduction('introduced', { host: '192.0.2.7', port: 8000 + second * 20 + i }));
    }
    lab.runFor(1_000);
    const seconds = (lab.net.now - start) / 1000;
    const punches = sentTo(a, '192.0.2.7');
    const allowed = PUNCH_RATE.burst + PUNCH_RATE.perSecond * seconds;
    expect(punches.length).toBe(a.client.stats.punches);
    expect(punches.length).toBeLessThanOrEqual(allowed);
    expect(punches.reduce((sum, p) => sum + p.data.length, 0)).toBeLessThanOrEqual(allowed * INIT_BYTES);
    expect(a.client.stats.ignored.punch_rate).toBe(220 - punches.length);
  });

  it('cannot make a client that accepts known peers only punch anyone, nor connect for a request never made', () => {
    const lab = new RendezvousLab();
    const strict = lab.home('endpoint-independent', 'listed', [generateKeyPair().publicKey]);
    expect(lab.run(() => lab.registered(strict))).toBe(true);
    const send = fromRendezvous(lab, strict);
    for (let i = 0; i < 10; i++) send(introduction('introduced', { host: '192.0.2.8', port: 7000 + i }));
    for (let i = 0; i < 10; i++)
      send(introduction('requester', { host: '192.0.2.8', port: 8000 + i }, 1000 + i));
    lab.runFor(5_000);
    expect(sentTo(strict, '192.0.2.8')).toHaveLength(0);
    expect(strict.client.stats.ignored.not_accepted).toBe(10);
    expect(strict.client.stats.ignored.unasked).toBe(10);
    expect(lab.updatesOf(strict, 'ready')).toHaveLength(0);
    expect(lab.updatesOf(strict, 'punched')).toHaveLength(0);
  });

  it('names unusable addresses in vain: ignored, counted, nothing sent, nothing thrown', () => {
    const lab = new RendezvousLab();
    const a = lab.home('endpoint-independent');
    expect(lab.run(() => lab.registered(a))).toBe(true);
    const send = fromRendezvous(lab, a);
    const unusable: Address[] = [
      { host: '198.51.100.9', port: 0 },
      { host: '0.0.0.0', port: 7 },
      { host: '224.0.0.1', port: 7 },
      { host: '239.255.255.250', port: 1900 },
      { host: '255.255.255.255', port: 7 },
      { host: '::', port: 7 },
      { host: 'ff02::1', port: 7 },
    ];
    for (const address of unusable) send(introduction('introduced', address));
    // Our own request, answered with an address no datagram can go to: it fails, it connects nowhere.
    const request = a.client.introduce('AAAQ-EAYE-AUDA-OCAJ', lab.net.now);
    send(introduction('requester', { host: '198.51.100.9', port: 0 }, request));
    lab.runFor(5_000);
    for (const address of unusable)
      expect(sentTo(a, address.host).filter((s) => s.to.port === address.port)).toHaveLength(0);
    expect(a.client.stats.ignored.bad_address).toBe(unusable.length);
    expect(a.client.stats.punches).toBe(0);
    // The key it named does not have the fingerprint asked for: refused before the address is looked at.
    expect(lab.updatesOf(a, 'failed').find((u) => u.request === request)?.reason).toBe('wrong_key');
  });

  it('a requester introduction for our own request naming port 0 fails our request, and connects nowhere', () => {
    const lab = new RendezvousLab();
    const a = lab.home('endpoint-independent');
    expect(lab.run(() => lab.registered(a))).toBe(true);
    const send = fromRendezvous(lab, a);
    const target = generateKeyPair();
    const request = a.client.introduce(fingerprint(target.publicKey), lab.net.now);
    send({ ...introduction('requester', { host: '198.51.100.9', port: 0 }, request), key: target.publicKey });
    lab.runFor(1_000);
    expect(lab.updatesOf(a, 'failed').find((u) => u.request === request)?.reason).toBe('bad_address');
    expect(lab.updatesOf(a, 'ready')).toHaveLength(0);
    expect(a.client.stats.ignored.bad_address).toBe(1);
  });

  it('names an address of an IP version the socket cannot reach in vain', () => {
    const lab = new RendezvousLab();
    const node = lab.net.add('192.0.2.30', 5000, { nick: 'v4only' });
    const client = node.endpoint.use(
      (host) =>
        new RendezvousClient(host, {
          server: RENDEZVOUS_ADDRESS,
          acceptFrom: 'anyone',
          listedKeys: [],
          canReach: (address) => !address.host.includes(':'),
        }),
    );
    const peer: Peer = { node, client, updates: [], fingerprint: '' };
    lab.peers.push(peer);
    client.start(lab.net.now);
    expect(lab.run(() => client.isRegistered)).toBe(true);
    fromRendezvous(lab, peer)(introduction('introduced', { host: '2001:db8::5', port: 7000 }));
    lab.runFor(1_000);
    expect(node.sent.filter((s) => s.to.host === '2001:db8::5')).toHaveLength(0);
    expect(client.stats.ignored.bad_address).toBe(1);
  });
});

describe('a hostile rendezvous, on real sockets', () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  it('an introduction naming port 0 or a broadcast address neither crashes the client nor sends anything there', async () => {
    const server = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick: 'hostile' });
    closers.push(() => server.close(100));
    serveRendezvous(server);
    server.on('request', (e) => server.accept(e.session));
    const victim = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick: 'victim' });
    closers.push(() => victim.close(100));
    const link = new RendezvousLink(victim, { server: server.address, acceptFrom: 'anyone', listedKeys: [] });
    expect(await link.whenRegistered(10_000)).toBe(true);
    const sentTo: string[] = [];
    const send = victim.udpSocket.send.bind(victim.udpSocket) as (...args: unknown[]) => void;
    victim.udpSocket.send = ((...args: unknown[]) => {
      // send(data, port, host, ...): the first number and the first string after the data.
      const port = args.slice(1).find((x) => typeof x === 'number');
      const to = args.slice(1).find((x) => typeof x === 'string');
      sentTo.push(`${String(to)}:${String(port)}`);
      send(...args);
    }) as typeof victim.udpSocket.send;
    const host = hostOf(server.endpoint);
    const session = server.listSessions()[0];
    const channel = session && host.channelOf(session.id);
    if (!channel) throw new Error('no session with the victim');
    server.run((_e, now) => {
      for (const to of [
        { host: '127.0.0.1', port: 0 },
        { host: '255.255.255.255', port: 9 },
        { host: '::1', port: 9 }, // IPv6, to a socket bound to 127.0.0.1
      ])
        host.sendControl(channel.id, encodeRendezvous(introduction('introduced', to)), now);
    });
    const deadline = Date.now() + 5_000;
    while (link.client.stats.ignored.bad_address < 3 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(link.client.stats.ignored.bad_address).toBe(3);
    // What it did send went to the rendezvous (a request of its own, to show the count works).
    await expect(link.find('AAAQ-EAYE-AUDA-OCAJ')).rejects.toThrow(/unknown to the rendezvous/);
    expect(sentTo.length).toBeGreaterThan(0);
    expect(sentTo.filter((to) => !to.endsWith(`:${server.address.port}`))).toEqual([]);
    expect(link.client.isRegistered).toBe(true);
  });
});

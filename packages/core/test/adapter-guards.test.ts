/**
 * The node adapter never lets the network make it throw: datagrams from sources it cannot answer
 * are dropped and counted before the endpoint sees them, destinations are checked before every
 * send, and a send that throws anyway is counted and reported. In-process, on a real socket: the
 * socket's own `message` event is emitted with the source a forged datagram would have (a real
 * one from port 0 needs a raw socket; the apps' tests send one), and `send` is made to throw.
 */
import { randomBytes } from 'node:crypto';
import dgram, { type RemoteInfo } from 'node:dgram';
import NoiseState from 'noise-handshake';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type Address,
  encodePacket,
  generateKeyPair,
  NetchatPeer,
  type PeerOptions,
  PROLOGUE,
} from '../src/index.js';
import { hasIpv6Loopback } from './support/ipv6.js';

const open: NetchatPeer[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(open.splice(0).map((p) => p.close(200)));
});

async function listen(options: Partial<PeerOptions> = {}): Promise<NetchatPeer> {
  const peer = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', ...options });
  open.push(peer);
  return peer;
}

/** A valid first handshake message, as any initiator sends: a responder that is not under load answers it. */
function handshakeInit(): Uint8Array {
  const noise = new NoiseState('XX', true, generateKeyPair());
  noise.initialise(PROLOGUE);
  return encodePacket({
    type: 'handshake_init',
    senderIndex: 7,
    cookie: new Uint8Array(16),
    noise: Uint8Array.from(noise.send()),
  });
}

/** Hands `peer`'s socket a datagram as node would, from `from`. */
function arrive(peer: NetchatPeer, bytes: Uint8Array, from: Address): void {
  const family = from.host.includes(':') ? 'IPv6' : 'IPv4';
  const rinfo: RemoteInfo = { address: from.host, family, port: from.port, size: bytes.length };
  peer.udpSocket.emit('message', Buffer.from(bytes), rinfo);
}

/** Waits (at most 10 s, polling) until `done()` holds. */
async function until(done: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** a asks b, b accepts, a says something and b gets it: the peers still work. */
async function chats(a: NetchatPeer, b: NetchatPeer, text: string, to = b.address): Promise<void> {
  b.once('request', (e) => b.accept(e.session));
  const accepted = new Promise<number>((resolve) => a.once('accepted', (e) => resolve(e.session)));
  const got = new Promise<string>((resolve) => b.once('message', (e) => resolve(e.text)));
  a.connectTo(to);
  a.send(await accepted, text);
  expect(await got).toBe(text);
}

describe('datagrams from sources the socket cannot answer', () => {
  it('a valid init from port 0 is dropped and counted, never answered, and the peer goes on', async () => {
    const b = await listen();
    const init = handshakeInit();
    expect(() => arrive(b, init, { host: '127.0.0.1', port: 0 })).not.toThrow();
    expect(b.stats).toMatchObject({ unusableSources: 1, datagramsIn: 0, datagramsOut: 0 });
    expect(b.endpoint.secureSizes.pending).toBe(0);
    // The same init from a real port is answered: only the source made the difference.
    arrive(b, init, { host: '127.0.0.1', port: 9 });
    expect(b.stats).toMatchObject({ unusableSources: 1, datagramsIn: 1, datagramsOut: 1 });
    await chats(await listen(), b, 'still serving');
  });

  it.each([
    ['the unspecified address', '0.0.0.0', 5555],
    ['an address in 0.0.0.0/8', '0.1.2.3', 5555],
    ['a multicast address', '224.0.0.251', 5353],
    ['the broadcast address', '255.255.255.255', 5555],
    ['an IPv6 address on an IPv4 socket', '::1', 5555],
    ['port 0 on IPv6', '::1', 0],
  ])('from %s (%s port %i): dropped and counted', async (_what, host, port) => {
    const b = await listen();
    expect(() => arrive(b, handshakeInit(), { host, port })).not.toThrow();
    expect(b.stats).toMatchObject({ unusableSources: 1, datagramsIn: 0, datagramsOut: 0 });
  });

  it.skipIf(!hasIpv6Loopback)(
    'on a dual-stack socket: IPv6 multicast, ::, and port 0 as ::ffff:a.b.c.d',
    async () => {
      const b = await listen({ host: undefined });
      for (const from of [
        { host: 'ff02::1', port: 5555 },
        { host: '::', port: 5555 },
        { host: '::ffff:127.0.0.1', port: 0 },
        { host: '::ffff:224.0.0.1', port: 5555 },
      ])
        expect(() => arrive(b, handshakeInit(), from)).not.toThrow();
      expect(b.stats).toMatchObject({ unusableSources: 4, datagramsIn: 0, datagramsOut: 0 });
      arrive(b, handshakeInit(), { host: '::ffff:127.0.0.1', port: 9 });
      expect(b.stats).toMatchObject({ datagramsIn: 1, datagramsOut: 1 });
    },
  );
});

describe('garbage on a real socket', () => {
  it('of every length 0 to 1500, random and behind an init header: counted, nothing thrown, the chat goes on', async () => {
    const a = await listen();
    const b = await listen();
    await chats(a, b, 'before');
    const stranger = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => stranger.bind(0, '127.0.0.1', resolve));
    const base = b.stats.datagramsIn;
    // a's own datagrams to b (a heartbeat, an ack of the chat) arrive in the same count.
    const aBase = a.stats.datagramsOut;
    const fromA = () => a.stats.datagramsOut - aBase;
    let sent = 0;
    // In batches, each waited for: the kernel's receive buffer may be smaller than all of it.
    for (let from = 0; from <= 1500; from += 100) {
      for (let length = from; length < Math.min(from + 100, 1501); length++) {
        for (const header of [[], [0x4e, 0x43, 0x02, 0x01]]) {
          const garbage = randomBytes(length);
          garbage.set(header.slice(0, length));
          stranger.send(garbage, b.address.port, '127.0.0.1');
          sent++;
        }
      }
      await until(() => b.stats.datagramsIn - base >= sent);
    }
    stranger.close();
    await until(() => b.stats.datagramsIn - base === sent + fromA());
    expect(b.stats.datagramsIn - base).toBe(sent + fromA());
    expect(b.endpoint.secureSizes.channels).toBe(1);
    const got = new Promise<string>((resolve) => b.once('message', (e) => resolve(e.text)));
    a.send(a.listSessions()[0]?.id ?? -1, 'after 3,002 datagrams of garbage');
    expect(await got).toBe('after 3,002 datagrams of garbage');
  });
});

describe('destinations the socket cannot send to', () => {
  it('are never handed to the socket: counted, and reported as send_error with the address', async () => {
    const a = await listen();
    const errors: (Error & { to: Address; code?: string })[] = [];
    a.on('send_error', (e) => errors.push(e));
    const bad = [
      { host: '127.0.0.1', port: 0 },
      { host: '224.0.0.1', port: 5555 },
      { host: '0.0.0.0', port: 5555 },
      { host: '255.255.255.255', port: 5555 },
      { host: '::1', port: 5555 },
      { host: 'not-an-ip', port: 5555 },
    ];
    // What a hostile rendezvous could make the endpoint do: start a handshake to any address.
    for (const to of bad) expect(() => a.run((endpoint, now) => endpoint.connect(to, now))).not.toThrow();
    expect(a.stats).toMatchObject({
      unusableDestinations: bad.length,
      sendErrors: 0,
      datagramsOut: bad.length,
    });
    expect(errors.map((e) => e.to)).toEqual(bad);
    expect(errors.every((e) => e.code === 'INVALID_ADDRESS')).toBe(true);
    await chats(a, await listen(), 'unharmed');
  });

  it('connectTo refuses them with INVALID_ADDRESS before anything starts', async () => {
    const a = await listen();
    expect(() => a.connectTo({ host: '127.0.0.1', port: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ADDRESS' }),
    );
    expect(() => a.connectTo({ host: '239.1.2.3', port: 5555 })).toThrow(/no datagram can go there/);
    await expect(a.connect('127.0.0.1', 70_000)).rejects.toMatchObject({ code: 'INVALID_ADDRESS' });
    expect(a.listSessions()).toEqual([]);
  });
});

describe('a send that throws', () => {
  it('is counted and reported; it never escapes the receive path', async () => {
    const b = await listen();
    const reported: Error[] = [];
    b.on('send_error', (e) => reported.push(e));
    vi.spyOn(b.udpSocket, 'send').mockImplementation(() => {
      throw Object.assign(new Error('simulated synchronous failure'), { code: 'ERR_TEST' });
    });
    // b's answer to this init throws inside the socket's own message handler.
    expect(() => arrive(b, handshakeInit(), { host: '127.0.0.1', port: 9 })).not.toThrow();
    expect(b.stats.sendErrors).toBe(1);
    expect(reported.map((e) => e.message)).toEqual(['simulated synchronous failure']);
    expect(reported[0]).toMatchObject({ to: { host: '127.0.0.1', port: 9 } });
  });

  it('with nobody listening is still counted, and calls into the peer do not throw either', async () => {
    const a = await listen();
    vi.spyOn(a.udpSocket, 'send').mockImplementation(() => {
      throw new Error('simulated');
    });
    expect(() => a.connectTo({ host: '127.0.0.1', port: 9 })).not.toThrow();
    expect(a.stats.sendErrors).toBe(1);
  });

  it('the socket reporting a failure later counts it too, while someone listens', async () => {
    const a = await listen();
    const failed = new Promise<Error & { to: Address }>((resolve) => a.once('send_error', resolve));
    // Over the largest datagram a socket takes: the kernel refuses it (EMSGSIZE), after send returned.
    a.run((endpoint, now) => endpoint.connect({ host: '127.0.0.1', port: 9 }, now));
    vi.spyOn(a.udpSocket, 'send');
    const original = a.udpSocket.send.bind(a.udpSocket);
    vi.mocked(a.udpSocket.send).mockImplementation(((
      _data: Uint8Array,
      port: number,
      host: string,
      cb: never,
    ) => original(new Uint8Array(70_000), port, host, cb)) as never);
    a.connectTo({ host: '127.0.0.1', port: 10 });
    const error = await failed;
    expect(error.to).toEqual({ host: '127.0.0.1', port: 10 });
    expect(a.stats.sendErrors).toBe(1);
  });
});

describe('the rest of the adapter', () => {
  it('never asks setTimeout for more than it can wait (a heartbeat interval of 49 days)', async () => {
    const timeouts = vi.spyOn(globalThis, 'setTimeout');
    const weeks = { heartbeatInterval: 2 ** 32 - 1 };
    const a = await listen(weeks);
    const b = await listen(weeks);
    await chats(a, b, 'rarely heartbeating');
    // Once the handshake's timers have run out (5 s), the next deadline is weeks away.
    const delays = () => timeouts.mock.calls.map((call) => Number(call[1] ?? 0));
    await until(() => delays().some((ms) => ms > 1_000_000_000));
    expect(Math.max(...delays())).toBe(2 ** 31 - 1);
  });

  it('closes once however often close is called, and still says where it was bound', async () => {
    const a = await listen();
    const where = a.address;
    await expect(Promise.all([a.close(), a.close(), a.close()])).resolves.toBeDefined();
    await a.close();
    expect(a.address).toEqual(where);
  });

  it('refuses a port outside 0-65535 with a BindError, not a raw node error', async () => {
    await expect(NetchatPeer.listen({ port: 70_000, host: '127.0.0.1' })).rejects.toMatchObject({
      name: 'BindError',
      code: 'EINVAL',
    });
    await expect(NetchatPeer.listen({ port: -1 })).rejects.toMatchObject({ name: 'BindError' });
  });

  it.skipIf(!hasIpv6Loopback)(
    'bound to :: explicitly, is dual-stack: it reaches and answers IPv4 peers',
    async () => {
      const b = await listen({ host: '::' });
      const a = await listen();
      await chats(a, b, 'v4 to ::', { host: '127.0.0.1', port: b.address.port });
      await chats(b, a, 'and back');
    },
  );
});

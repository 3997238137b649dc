import dgram from 'node:dgram';
import NoiseState from 'noise-handshake';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decodePacket,
  encodePacket,
  generateKeyPair,
  NetchatPeer,
  type PeerOptions,
  PROLOGUE,
} from '../src/index.js';
import { hasIpv6Loopback } from './support/ipv6.js';
import { LossyRelay, type RelayConditions } from './support/lossy-relay.js';

const open: { close(): unknown }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
});

async function listen(options: Partial<PeerOptions> & { host?: string } = {}): Promise<NetchatPeer> {
  const peer = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', ...options });
  open.push({ close: () => peer.close(200) });
  return peer;
}

/** Resolves with the first event of `type`, or rejects after `ms`. */
function next<T>(emitter: NetchatPeer, type: string, ms = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} within ${ms} ms`)), ms);
    emitter.once(type as 'message', (event) => {
      clearTimeout(timer);
      resolve(event as T);
    });
  });
}

/** Waits (at most 10 s, polling) until `done()` holds. */
async function until(done: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** a talks to b through a relay on loopback with these conditions (fast retransmission for tests). */
async function relayedPair(conditions: RelayConditions, seed: number) {
  const fast = { minRto: 30, ackDelay: 5, connectRetryInitial: 100 };
  const b = await listen(fast);
  const a = await listen(fast);
  const relay = await LossyRelay.start(b.address.port, conditions, seed);
  open.push(relay);
  const session = await connectPair(a, b, '127.0.0.1', relay.portForA);
  return { a, b, relay, session };
}

async function connectPair(a: NetchatPeer, b: NetchatPeer, host = '127.0.0.1', port = b.address.port) {
  b.once('request', (e) => b.accept(e.session));
  const accepted = next<{ session: number }>(a, 'accepted');
  await a.connect(host, port);
  return (await accepted).session;
}

describe('over real UDP on loopback', () => {
  it('chats both ways', async () => {
    const a = await listen({ nick: 'alice' });
    const b = await listen({ nick: 'bob' });
    const session = await connectPair(a, b);
    const got = next<{ text: string }>(b, 'message');
    a.send(session, 'hello over UDP');
    expect((await got).text).toBe('hello over UDP');
  });

  // The 1,000-message version runs on virtual time (session.test.ts); here real sockets and real
  // timers carry a smaller load, so that a loaded machine's stalls (which inflate the RTO) cannot
  // stretch it past its limit.
  it('delivers 300 messages exactly once and in order through 30% loss each way', async () => {
    const { a, b, relay, session } = await relayedPair(
      { loss: 0.3, duplicate: 0.05, delay: 0.2, maxDelayMs: 15 },
      2026,
    );
    const received: string[] = [];
    b.on('message', (e) => received.push(e.text));
    let delivered = 0;
    let failed = 0;
    a.on('delivered', () => delivered++);
    a.on('failed', () => failed++);
    const expected = Array.from({ length: 300 }, (_, i) => `message ${i}`);
    for (const text of expected) a.send(session, text);
    await until(() => delivered + failed === 300, 100_000);
    expect(failed).toBe(0);
    expect(delivered).toBe(300);
    expect(received).toEqual(expected);
    expect(relay.dropped).toBeGreaterThan(90);
  }, 110_000);

  it('keeps the chat when the peer changes address mid-chat (a relay switches its source port)', async () => {
    const { a, b, relay, session } = await relayedPair({ loss: 0, duplicate: 0, delay: 0, maxDelayMs: 0 }, 1);
    const received: string[] = [];
    b.on('message', (e) => received.push(e.text));
    const replies: string[] = [];
    a.on('message', (e) => replies.push(e.text));
    b.on('message', (e) => b.send(e.session, `re: ${e.text}`));
    for (let i = 0; i < 20; i++) a.send(session, `before ${i}`);
    await until(() => replies.length === 20);
    const newPort = await relay.switchPort();
    for (let i = 0; i < 20; i++) a.send(session, `after ${i}`);
    await until(() => replies.length === 40);
    const expected = [
      ...Array.from({ length: 20 }, (_, i) => `before ${i}`),
      ...Array.from({ length: 20 }, (_, i) => `after ${i}`),
    ];
    expect(received).toEqual(expected);
    expect(replies).toEqual(expected.map((t) => `re: ${t}`));
    expect(b.endpoint.secureStats.pathMoves).toBe(1);
    expect(b.endpoint.listSessions()[0]?.peer).toEqual({ host: '127.0.0.1', port: newPort });
  });

  it('under a handshake flood from many source ports, stays bounded and still lets a real peer in', async () => {
    const b = await listen();
    const flooders = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const s = dgram.createSocket('udp4');
        await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
        open.push(s);
        return s;
      }),
    );
    // Each flooder does the cookie round trip properly, then sends valid message 1s and never finishes.
    for (const s of flooders) {
      const noise = new NoiseState('XX', true, generateKeyPair());
      noise.initialise(PROLOGUE);
      const message1 = Uint8Array.from(noise.send());
      s.on('message', (data) => {
        const reply = decodePacket(data);
        if (!reply.ok || reply.datagram.type !== 'cookie_reply') return;
        const init = encodePacket({
          type: 'handshake_init',
          senderIndex: 7,
          cookie: reply.datagram.cookie,
          noise: message1,
        });
        for (let i = 0; i < 3; i++) s.send(init, b.address.port, '127.0.0.1');
      });
      s.send(
        encodePacket({ type: 'handshake_init', senderIndex: 7, cookie: new Uint8Array(16), noise: message1 }),
        b.address.port,
        '127.0.0.1',
      );
    }
    const a = await listen();
    const session = await connectPair(a, b);
    const got = next<{ text: string }>(b, 'message');
    a.send(session, 'through the flood');
    expect((await got).text).toBe('through the flood');
    // Every flooder was answered (the first ones at once, then with cookies once the load showed).
    const answered = () => {
      const st = b.endpoint.secureStats;
      return st.cookiesSent + st.handshakesCompleted + b.endpoint.secureSizes.pending >= 200;
    };
    await until(answered);
    expect(b.endpoint.secureSizes.pending).toBeLessThanOrEqual(1024);
    expect(b.endpoint.secureSizes.channels).toBeLessThanOrEqual(2);
  });

  it.skipIf(!hasIpv6Loopback)('works over IPv6 loopback (skipped where ::1 is missing)', async () => {
    const a = await listen({ host: '::1' });
    const b = await listen({ host: '::1' });
    const session = await connectPair(a, b, '::1');
    const got = next<{ text: string; peer: { host: string } }>(b, 'message');
    a.send(session, 'v6');
    expect(await got).toMatchObject({ text: 'v6', peer: { host: '::1' } });
  });

  it('listens on every interface by default and resolves host names such as localhost', async () => {
    const a = await listen({ host: undefined });
    const b = await listen({ host: undefined });
    const session = await connectPair(a, b, 'localhost');
    const got = next<{ text: string }>(b, 'message');
    a.send(session, 'by name');
    expect((await got).text).toBe('by name');
    await expect(a.connect('no-such-host.invalid', 1)).rejects.toThrow(/host name not found/);
  });

  it('listens on an IPv4-mapped address (::ffff:127.0.0.1) as on its IPv4 form, and chats both ways', async () => {
    // It was a udp6 socket that reported itself as 127.0.0.1, took IPv4 addresses to send to, and
    // sent nothing (no request reached b; the connect gave up 'no_answer').
    const a = await listen({ host: '::ffff:127.0.0.1', nick: 'mapped', connectTimeout: 5_000 });
    const b = await listen({ nick: 'plain' });
    expect(a.address.host).toBe('127.0.0.1');
    const session = await connectPair(a, b);
    const got = next<{ text: string }>(a, 'message');
    const theirs = b.listSessions()[0]?.id as number;
    b.send(theirs, 'to the mapped one');
    expect((await got).text).toBe('to the mapped one');
    expect(a.stats.sendErrors + a.stats.unusableDestinations).toBe(0);
    expect(session).toBeGreaterThan(0);
  });

  it('reports a datagram the socket cannot send as send_error, with the address it was for', async () => {
    const peer = await listen();
    const failed = next<Error & { to: { host: string; port: number } }>(peer, 'send_error');
    // An IPv6 destination on an IPv4 socket: refused before the socket (adapter-guards.test.ts), nothing leaves.
    // (Through the endpoint: connectTo itself refuses such an address before anything is sent.)
    peer.endpoint.connect({ host: '::1', port: 9 }, peer.now());
    peer.closeSession(-1); // any call sends what the endpoint queued
    const error = await failed;
    expect(error.to).toEqual({ host: '::1', port: 9 });
    expect(error).toBeInstanceOf(Error);
  });

  it('reports a port already in use clearly', async () => {
    const a = await listen();
    await expect(NetchatPeer.listen({ port: a.address.port, host: '127.0.0.1' })).rejects.toMatchObject({
      code: 'EADDRINUSE',
      message: `UDP port ${a.address.port} on 127.0.0.1 is already in use (pick another, or 0 for any free port)`,
    });
  });

  it('drops and counts garbage from the network without harm', async () => {
    const a = await listen();
    const b = await listen();
    const session = await connectPair(a, b);
    const raw = dgram.createSocket('udp4');
    open.push(raw);
    for (const junk of ['', 'hello', '\x4e\x43\x01\x01'])
      raw.send(Buffer.from(junk, 'latin1'), b.address.port, '127.0.0.1');
    await until(() => b.endpoint.secureStats.malformedPackets >= 3);
    expect(b.endpoint.secureStats.malformedPackets).toBe(3);
    const got = next<{ text: string }>(b, 'message');
    a.send(session, 'still fine');
    expect((await got).text).toBe('still fine');
  });

  it('closes gracefully: the peer hears the session closed', async () => {
    const a = await listen();
    const b = await listen();
    await connectPair(a, b);
    const closed = next(b, 'closed');
    await a.close();
    await closed;
    expect(b.endpoint.busy).toBe(false);
  });
});

/**
 * The node adapter handles a batch of datagrams (Node runs the socket's `message` callback up to
 * 32 times in a row) with one timer update and one `pumped` at its end, not one per datagram:
 * what the endpoint queued to send still goes at once. And the destination it checked last is
 * remembered by object, so a peer that sends to two addresses in turn sends each datagram to the
 * right one.
 */
import type { RemoteInfo } from 'node:dgram';
import NoiseState from 'noise-handshake';
import { afterEach, describe, expect, it } from 'vitest';
import { type Address, encodePacket, generateKeyPair, NetchatPeer, PROLOGUE } from '../src/index.js';
import { until } from './support/until.js';

const open: NetchatPeer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close(200)));
});

async function listen(): Promise<NetchatPeer> {
  const peer = await NetchatPeer.listen({ port: 0, host: '127.0.0.1' });
  open.push(peer);
  return peer;
}

function handshakeInit(senderIndex: number): Uint8Array {
  const noise = new NoiseState('XX', true, generateKeyPair());
  noise.initialise(PROLOGUE);
  return encodePacket({
    type: 'handshake_init',
    senderIndex,
    cookie: new Uint8Array(16),
    noise: Uint8Array.from(noise.send()),
  });
}

/** Hands `peer`'s socket a datagram as node does: inside its `message` callback. */
function arrive(peer: NetchatPeer, bytes: Uint8Array, from: Address): void {
  const rinfo: RemoteInfo = { address: from.host, family: 'IPv4', port: from.port, size: bytes.length };
  peer.udpSocket.emit('message', Buffer.from(bytes), rinfo);
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('a batch of datagrams', () => {
  it('is answered at once, and pumped (timer, `pumped`) once when the batch is over', async () => {
    const b = await listen();
    let pumped = 0;
    b.on('pumped', () => pumped++);
    // Three inits in one turn of the event loop, as a batch from the socket arrives.
    for (let i = 0; i < 3; i++) arrive(b, handshakeInit(10 + i), { host: '127.0.0.1', port: 9 + i });
    // Each was answered inside its own callback: replies never wait for the batch to end.
    expect(b.stats).toMatchObject({ datagramsIn: 3, datagramsOut: 3 });
    expect(pumped).toBe(0);
    await nextTurn();
    expect(pumped).toBe(1);
    // The pending handshakes' deadline was armed at the end of the batch: the endpoint has one,
    // and the next batch (or call) is pumped again.
    expect(b.endpoint.nextTimeout()).toBeDefined();
    b.setNick('after');
    expect(pumped).toBe(2);
  });

  it('leaves nothing unsent when the peer is closed during it', async () => {
    const b = await listen();
    arrive(b, handshakeInit(20), { host: '127.0.0.1', port: 19 });
    await b.close(200);
    // The batch's end comes after the close: it must neither throw nor send.
    await nextTurn();
    expect(b.stats.datagramsOut).toBe(1);
  });
});

describe('the destination remembered from the last send', () => {
  it('is never used for another address: two peers in turn each get their own lines', async () => {
    const a = await listen();
    const b = await listen();
    const c = await listen();
    for (const p of [b, c]) p.on('request', (e) => p.accept(e.session));
    const accepted = new Map<string, number>();
    a.on('accepted', (e) => accepted.set(`${e.peer.host}:${e.peer.port}`, e.session));
    a.connectTo(b.address);
    a.connectTo(c.address);
    const key = (p: NetchatPeer) => `${p.address.host}:${p.address.port}`;
    expect(await until(() => accepted.size === 2)).toBe(true);
    const got: Record<string, string[]> = { b: [], c: [] };
    b.on('message', (e) => got.b?.push(e.text));
    c.on('message', (e) => got.c?.push(e.text));
    for (let i = 0; i < 10; i++) {
      a.send(accepted.get(key(b)) as number, `b${i}`);
      a.send(accepted.get(key(c)) as number, `c${i}`);
    }
    expect(await until(() => got.b?.length === 10 && got.c?.length === 10)).toBe(true);
    expect(got.b).toEqual(Array.from({ length: 10 }, (_, i) => `b${i}`));
    expect(got.c).toEqual(Array.from({ length: 10 }, (_, i) => `c${i}`));
  });
});

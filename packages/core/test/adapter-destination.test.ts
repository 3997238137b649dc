/**
 * The node adapter remembers the destination it checked last (by object, with the host string
 * it gave the socket): a peer that sends to two addresses in turn sends each datagram to the
 * right one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { NetchatPeer } from '../src/index.js';
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

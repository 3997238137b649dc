/** The node adapter refuses, at once and clearly, connects that could never open. */
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { NetchatPeer, type PeerOptions } from '../src/index.js';

const open: NetchatPeer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close(200)));
});

async function listen(options: Partial<PeerOptions> = {}): Promise<NetchatPeer> {
  const peer = await NetchatPeer.listen({ port: 0, ...options });
  open.push(peer);
  return peer;
}

/** The first non-loopback IPv4 address of this machine, if it has one. */
function someInterfaceAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces()))
    for (const entry of list ?? []) if (entry.family === 'IPv4' && !entry.internal) return entry.address;
  return undefined;
}

describe('connecting to this peer itself', () => {
  it('fails at once with SELF_CONNECT for every way of naming the own port', async () => {
    const peer = await listen(); // every interface
    const port = peer.address.port;
    const names = ['127.0.0.1', '127.0.0.53', 'localhost', '::1', '0.0.0.0', someInterfaceAddress()];
    for (const host of names.filter((h): h is string => h !== undefined)) {
      await expect(peer.connect(host, port), host).rejects.toMatchObject({ code: 'SELF_CONNECT' });
    }
    expect(peer.endpoint.listSessions()).toEqual([]);
  });

  it('still connects to another peer on the same machine', async () => {
    const a = await listen({ host: '127.0.0.1' });
    const b = await listen({ host: '127.0.0.1' });
    b.once('request', (e) => b.accept(e.session));
    const accepted = new Promise((resolve) => a.once('accepted', resolve));
    await a.connect('127.0.0.1', b.address.port);
    await expect(accepted).resolves.toMatchObject({ type: 'accepted' });
  });

  it('bound to one address, refuses that address and its port only', async () => {
    const peer = await listen({ host: '127.0.0.1' });
    await expect(peer.connect('127.0.0.1', peer.address.port)).rejects.toMatchObject({
      code: 'SELF_CONNECT',
    });
    // 127.0.0.2 on the same port is somebody else (this socket does not receive there).
    expect(() => peer.connectTo({ host: '127.0.0.2', port: peer.address.port })).not.toThrow();
  });
});

describe('an address the socket cannot reach', () => {
  it('fails at once with ADDRESS_FAMILY when an IPv4 socket is asked for IPv6', async () => {
    const peer = await listen({ host: '127.0.0.1' });
    await expect(peer.connect('::1', 6666)).rejects.toMatchObject({
      code: 'ADDRESS_FAMILY',
      message: expect.stringContaining('[::1]:6666'),
    });
    expect(peer.endpoint.listSessions()).toEqual([]);
  });
});

/** `netchat-bot --rendezvous` as the rendezvous of two peers on loopback that find each other by fingerprint. */
import { fingerprint, NetchatPeer, RendezvousLink } from '@netchat/core';
import { afterEach, describe, expect, it } from 'vitest';
import { BotProcess } from './support/bot-process.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((f) => f()));
});

async function client(nick: string, rendezvousPort: number) {
  const peer = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick });
  cleanup.push(() => peer.close(100));
  const link = new RendezvousLink(peer, {
    server: { host: '127.0.0.1', port: rendezvousPort },
    acceptFrom: 'anyone',
    listedKeys: [],
  });
  return { peer, link };
}

describe('netchat-bot --rendezvous', () => {
  it('registers peers and introduces them; they chat directly', async () => {
    const bot = new BotProcess(['0', '--host', '127.0.0.1', '--rendezvous']);
    cleanup.push(() => bot.kill());
    const [listening] = await bot.waitForLogs((l) => l.event === 'listening');
    expect(listening?.rendezvous).toBe(true);
    const port = await bot.port();
    const alice = await client('alice', port);
    const bob = await client('bob', port);
    expect(await alice.link.whenRegistered(10_000)).toBe(true);
    expect(await bob.link.whenRegistered(10_000)).toBe(true);
    const address = await alice.link.find(fingerprint(bob.peer.publicKey));
    expect(address).toEqual(bob.peer.address);
    bob.peer.on('request', (e) => bob.peer.accept(e.session));
    const accepted = new Promise<string>((resolve) =>
      alice.peer.once('accepted', (e) => resolve(e.fingerprint)),
    );
    alice.peer.connectTo(address);
    expect(await accepted).toBe(fingerprint(bob.peer.publicKey));
    // The bot's own sessions with them are the registrations, not chats they see.
    expect(alice.peer.listSessions().length).toBe(2);
  });
});

/**
 * One datagram must never kill the bot or the rendezvous: a stranger's handshake_init whose UDP
 * source port is 0 (forged through a raw socket: see @netchat/testkit's forged-udp.ts) used to be
 * answered, and node's send threw ERR_SOCKET_BAD_PORT out of the receive path (exit 1). Each must
 * stay up and keep serving. Needs root and python3 (CI has both); skipped, saying why, without them.
 */
import { fingerprint, NetchatPeer, RendezvousLink } from '@netchat/core';
import { forgedUdpUnavailable, sendForgedUdp, strangersInit } from '@netchat/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { BotProcess } from './support/bot-process.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((f) => f()));
});

const loopback = (port: number) => ({ host: '127.0.0.1', port });

function bot(...args: string[]): BotProcess {
  const process = new BotProcess(['0', ...args]);
  cleanup.push(() => process.kill());
  return process;
}

async function peer(nick: string): Promise<NetchatPeer> {
  const p = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick });
  cleanup.push(() => p.close(100));
  return p;
}

describe.skipIf(forgedUdpUnavailable !== undefined)(
  `netchat-bot and a datagram from UDP source port 0${forgedUdpUnavailable ? ` (skipped: ${forgedUdpUnavailable})` : ''}`,
  () => {
    it('the bot stays up and keeps answering (on its default dual-stack socket)', async () => {
      const b = bot();
      const port = await b.port();
      await sendForgedUdp(loopback(0), loopback(port), strangersInit());
      const p = await peer('ana');
      const accepted = new Promise<number>((resolve) => p.once('accepted', (e) => resolve(e.session)));
      await p.connect('127.0.0.1', port);
      const session = await b.whileRunning(accepted);
      await sendForgedUdp(loopback(0), loopback(port), strangersInit());
      const reply = new Promise<string>((resolve) => p.on('message', (e) => resolve(e.text)));
      p.send(session, 'still there?');
      expect(await b.whileRunning(reply)).toBe('echo: still there?'); // its default rule
      expect(b.child.exitCode).toBe(null);
      // The operator sees what was dropped: both forged datagrams, in the summary's counters.
      b.kill('SIGTERM');
      const [summary] = await b.waitForLogs((l) => l.event === 'summary');
      expect((summary as { security: Record<string, number> }).security.unusableSources).toBe(2);
    });

    it('the rendezvous stays up, and registers and introduces peers after it', async () => {
      const b = bot('--host', '127.0.0.1', '--rendezvous');
      const port = await b.port();
      await sendForgedUdp(loopback(0), loopback(port), strangersInit());
      const clients = await Promise.all(
        ['alice', 'bob'].map(async (nick) => {
          const p = await peer(nick);
          const link = new RendezvousLink(p, {
            server: loopback(port),
            acceptFrom: 'anyone',
            listedKeys: [],
          });
          return { peer: p, link };
        }),
      );
      const [alice, bob] = clients as [(typeof clients)[0], (typeof clients)[0]];
      expect(await b.whileRunning(alice.link.whenRegistered(10_000))).toBe(true);
      expect(await b.whileRunning(bob.link.whenRegistered(10_000))).toBe(true);
      await sendForgedUdp(loopback(0), loopback(port), strangersInit());
      const address = await b.whileRunning(alice.link.find(fingerprint(bob.peer.publicKey)));
      expect(address).toEqual(bob.peer.address);
      expect(b.child.exitCode).toBe(null);
    });
  },
);

/**
 * One datagram must never kill netchat: a stranger's handshake_init whose UDP source port is 0
 * (forged through a raw socket: see @netchat/testkit's forged-udp.ts) used to be answered, and
 * node's send threw ERR_SOCKET_BAD_PORT out of the receive path (exit 1). netchat must stay up and
 * keep serving. Needs root and python3 (CI has both); skipped, saying why, without them.
 */
import { NetchatPeer } from '@netchat/core';
import { forgedUdpUnavailable, sendForgedUdp, strangersInit } from '@netchat/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { NetchatProcess } from './support/netchat-process.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((f) => f()));
});

const loopback = (port: number) => ({ host: '127.0.0.1', port });

describe.skipIf(forgedUdpUnavailable !== undefined)(
  `netchat and a datagram from UDP source port 0${forgedUdpUnavailable ? ` (skipped: ${forgedUdpUnavailable})` : ''}`,
  () => {
    it('stays up and keeps chatting, before and during a chat (on its default dual-stack socket)', async () => {
      const netchat = new NetchatProcess(['0', '--json', '--yes', '--nick', 'target']);
      cleanup.push(() => netchat.kill());
      const port = await netchat.port();
      await sendForgedUdp(loopback(0), loopback(port), strangersInit());
      const friend = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick: 'friend' });
      cleanup.push(() => friend.close(100));
      const accepted = new Promise<number>((resolve) => friend.once('accepted', (e) => resolve(e.session)));
      await friend.connect('127.0.0.1', port);
      const session = await netchat.whileRunning(accepted);
      friend.send(session, 'after the forged datagram');
      await netchat.waitFor('"text":"after the forged datagram"');
      await sendForgedUdp(loopback(0), loopback(port), strangersInit());
      friend.send(session, 'and after another, mid-chat');
      await netchat.waitFor('"text":"and after another, mid-chat"');
      expect(netchat.child.exitCode).toBe(null);
      expect(netchat.stderr).toBe('');
    });
  },
);

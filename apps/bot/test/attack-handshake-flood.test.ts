/**
 * The attacker's test for the bot's front door, as a stranger runs it against the real process
 * (a rendezvous too, so both roles are in the way): handshake inits with forged sources, all
 * naming one bystander (amplification toward an address that never spoke) and from 5,000 ports
 * (half-open handshakes); then 200 real peers (from two hosts) that complete handshakes and hold sessions open;
 * then churn (connect, request, close) 100 times. Measured: the bot's memory before, at its
 * peak and after, its CPU, the bytes the bystander got against the bytes forged in its name,
 * and the round trip of an honest peer (another loopback address) chatting throughout.
 */
import { NetchatPeer } from '@netchat/core';
import { forgedUdpUnavailable, strangersInit } from '@netchat/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { BotProcess } from './support/bot-process.js';
import { sendForgedFlood } from './support/forged-flood.js';
import { bystander, cpuMs, rssKiB, watchPeakRss } from './support/victim-measures.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** An honest peer on 127.0.0.2 with a session to the bot; `roundTrip` sends and times the echo. */
async function honestChat(port: number) {
  const peer = await NetchatPeer.listen({ port: 0, host: '127.0.0.2', nick: 'honest' });
  cleanup.push(() => peer.close(100));
  const accepted = new Promise<number>((resolve) => peer.once('accepted', (e) => resolve(e.session)));
  await peer.connect('127.0.0.1', port);
  const session = await accepted;
  let n = 0;
  return async (): Promise<number> => {
    const text = `ping ${n++}`;
    const started = performance.now();
    const echo = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no echo of "${text}" in 10 s`)), 10_000);
      const onMessage = (e: { text: string }) => {
        if (e.text !== `echo: ${text}`) return;
        clearTimeout(timer);
        peer.off('message', onMessage);
        resolve();
      };
      peer.on('message', onMessage);
    });
    peer.send(session, text);
    await echo;
    return performance.now() - started;
  };
}

describe.skipIf(forgedUdpUnavailable !== undefined)(
  `netchat-bot (a rendezvous too) under a handshake flood${forgedUdpUnavailable ? ` (skipped: ${forgedUdpUnavailable})` : ''}`,
  () => {
    it('forged inits, 200 held sessions, 100 churns: no amplification, memory bounded, the honest peer served', async () => {
      const b = new BotProcess(['0', '--host', '127.0.0.1', '--rendezvous']);
      cleanup.push(() => b.kill());
      const port = await b.port();
      const pid = b.child.pid ?? 0;
      const bot = { host: '127.0.0.1', port };
      const roundTrip = await honestChat(port);
      const trips = [await roundTrip()];
      const before = rssKiB(pid);
      const cpuBefore = cpuMs(pid);
      const peak = watchPeakRss(pid);

      // 1. 3,000 inits "from" a bystander that never sent a thing.
      const victim = await bystander('127.0.0.5');
      cleanup.push(() => victim.close());
      const named = Array.from({ length: 3000 }, () => ({
        from: { host: '127.0.0.5', port: victim.port },
        payload: strangersInit(),
      }));
      const forgedBytes = named.reduce((sum, d) => sum + d.payload.length, 0);
      await sendForgedFlood(bot, named);
      trips.push(await roundTrip());
      // 2. 5,000 half-open handshakes, each from a port of its own on another host.
      const halfOpen = Array.from({ length: 5000 }, (_, i) => ({
        from: { host: '127.0.0.6', port: 20_000 + i },
        payload: strangersInit(),
      }));
      await sendForgedFlood(bot, halfOpen);
      trips.push(await roundTrip());

      // 3. 200 real peers that complete handshakes and hold their sessions, saying nothing: from
      // two hosts, as strangers on two machines would be (the default --max-sessions-per-host
      // spares loopback, so on this machine one host could hold them all).
      const holders: NetchatPeer[] = [];
      cleanup.push(() => Promise.all(holders.map((h) => h.close(0))));
      for (let i = 0; i < 200; i++) {
        const h = await NetchatPeer.listen({ port: 0, host: i % 2 === 0 ? '127.0.0.3' : '127.0.0.7' });
        holders.push(h);
        const opened = new Promise<boolean>((resolve) => {
          h.once('accepted', () => resolve(true));
          h.once('declined', () => resolve(false));
          setTimeout(() => resolve(false), 10_000);
        });
        await h.connect('127.0.0.1', port).catch(() => undefined);
        await opened;
        if (i % 50 === 49) trips.push(await roundTrip());
      }
      // 4. Churn: connect, request, close, 100 times, from one socket.
      const churner = await NetchatPeer.listen({ port: 0, host: '127.0.0.4' });
      cleanup.push(() => churner.close(0));
      for (let i = 0; i < 100; i++) {
        const opened = new Promise<number | undefined>((resolve) => {
          churner.once('accepted', (e) => resolve(e.session));
          churner.once('declined', () => resolve(undefined));
          setTimeout(() => resolve(undefined), 10_000);
        });
        await churner.connect('127.0.0.1', port).catch(() => undefined);
        const session = await opened;
        if (session !== undefined) churner.closeSession(session);
      }
      trips.push(await roundTrip());
      const peakKiB = peak.stop();
      const cpu = cpuMs(pid) - cpuBefore;
      // What the bystander got: give the bot's last answers a moment to arrive (a condition: two
      // more round trips of the honest peer, which go after them).
      trips.push(await roundTrip(), await roundTrip());
      const after = rssKiB(pid);
      const worst = Math.max(...trips);
      const accepted = b.logs().filter((l) => l.event === 'accept').length;
      console.log(
        `flood: bystander got ${victim.bytes()} B in ${victim.datagrams()} datagrams for ${forgedBytes} B forged in its name ` +
          `(x${(victim.bytes() / forgedBytes).toFixed(3)}); bot RSS ${before} KiB before, ${peakKiB} KiB peak, ${after} KiB after; ` +
          `CPU ${cpu.toFixed(0)} ms; ${accepted} sessions accepted; honest round trips ${trips.map((t) => t.toFixed(0)).join(', ')} ms`,
      );

      // No amplification toward a third party: it gets fewer bytes than were forged in its name.
      expect(victim.bytes()).toBeLessThan(forgedBytes);
      // The held sessions and the churn were served (the limits allow 1,000 sessions).
      expect(accepted).toBeGreaterThanOrEqual(300);
      // Memory: 8,000 half-open handshakes and 300 sessions cost the bot at most 64 MB at the peak.
      expect(peakKiB - before).toBeLessThan(64 * 1024);
      // The honest peer was answered throughout, each echo within 5 s on a loaded 2-core machine.
      expect(worst).toBeLessThan(5000);
      expect(b.child.exitCode).toBe(null);
      b.kill('SIGTERM');
      const [summary] = await b.waitForLogs((l) => l.event === 'summary');
      console.log(`security: ${JSON.stringify((summary as { security: unknown }).security)}`);
      expect(b.stderr).not.toMatch(/uncaught|Error/i);
    }, 240_000);
  },
);

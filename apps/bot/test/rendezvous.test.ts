/**
 * `netchat-bot --rendezvous` on loopback: peers find each other by fingerprint through it; it
 * serves only the peers its policy accepts; its registrations and relay have limits of their
 * own; and a bot killed and started again serves again within seconds.
 */
import { type Address, fingerprint, NetchatPeer, RendezvousLink, type RendezvousUpdate } from '@netchat/core';
import { freshHome } from '@netchat/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { BotProcess } from './support/bot-process.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((f) => f()));
});

/** A client peer registered (or trying to) with the rendezvous on `rendezvousPort`. */
async function client(nick: string, rendezvousPort: number, heartbeatInterval?: number) {
  const peer = await NetchatPeer.listen({
    port: 0,
    host: '127.0.0.1',
    nick,
    ...(heartbeatInterval ? { heartbeatInterval } : {}),
  });
  cleanup.push(() => peer.close(100));
  const link = new RendezvousLink(peer, {
    server: { host: '127.0.0.1', port: rendezvousPort },
    acceptFrom: 'anyone',
    listedKeys: [],
  });
  const updates: RendezvousUpdate[] = [];
  link.on('update', (u) => updates.push(u));
  return { peer, link, updates };
}

function bot(args: string[], env: Record<string, string> = {}, port = '0'): BotProcess {
  const process = new BotProcess([port, '--host', '127.0.0.1', '--rendezvous', ...args], env);
  cleanup.push(() => process.kill());
  return process;
}

/** Waits, at most `ms`, for `ready` to be true. */
async function until(ready: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!ready() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return ready();
}

describe('netchat-bot --rendezvous', () => {
  it('registers peers and introduces them; they chat directly', async () => {
    const rendezvous = bot([]);
    const [listening] = await rendezvous.waitForLogs((l) => l.event === 'listening');
    expect(listening?.rendezvous).toBe(true);
    expect(listening).toMatchObject({ maxRegistrations: 10_000, relayRate: 65_536 });
    const port = await rendezvous.port();
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
    // The session with the rendezvous is the role's own: the application lists its chat only.
    expect(alice.peer.listSessions()).toHaveLength(1);
    // The summary at shutdown counts what the rendezvous did, malformed messages among it.
    rendezvous.kill('SIGTERM');
    const [summary] = await rendezvous.waitForLogs((l) => l.event === 'summary');
    expect(summary?.rendezvous).toMatchObject({
      registrations: 2,
      introductions: 1,
      malformed: 0,
      unadmitted: 0,
    });
  });

  it('serves only the peers its policy accepts (--allow): the others are never registered nor found', async () => {
    const alice = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick: 'alice' });
    cleanup.push(() => alice.close(100));
    const rendezvous = bot(['--allow', `127.0.0.1:${alice.address.port}`]);
    const port = await rendezvous.port();
    const aliceLink = new RendezvousLink(alice, {
      server: { host: '127.0.0.1', port },
      acceptFrom: 'anyone',
      listedKeys: [],
    });
    const mallory = await client('mallory', port);
    expect(await aliceLink.whenRegistered(10_000)).toBe(true);
    expect(await until(() => mallory.updates.some((u) => u.type === 'unregistered'), 10_000)).toBe(true);
    expect(mallory.link.client.isRegistered).toBe(false);
    await rendezvous.waitForLogs((l) => l.event === 'decline' && l.reason === 'not_allowed');
    await expect(aliceLink.find(fingerprint(mallory.peer.publicKey))).rejects.toThrow(
      /unknown to the rendezvous/,
    );
  });

  it('refuses registrations past --max-registrations, and keeps the first', async () => {
    const rendezvous = bot(['--max-registrations', '1']);
    const port = await rendezvous.port();
    const alice = await client('alice', port);
    expect(await alice.link.whenRegistered(10_000)).toBe(true);
    const bob = await client('bob', port);
    expect(await until(() => bob.updates.some((u) => u.type === 'refused'), 10_000)).toBe(true);
    expect(bob.updates.find((u) => u.type === 'refused')).toMatchObject({ reason: 'full' });
    expect(alice.link.client.isRegistered).toBe(true);
    await expect(bob.link.find(fingerprint(alice.peer.publicKey))).rejects.toThrow(/not registered/);
  });

  it('leaves out its heartbeats in intervals where it answered one: an idle session costs about one datagram each way an interval', async () => {
    const rendezvous = bot([]);
    const port = await rendezvous.port();
    // A plain client, heartbeats every 500 ms (the session takes the smaller interval).
    const alice = await NetchatPeer.listen({
      port: 0,
      host: '127.0.0.1',
      nick: 'alice',
      heartbeatInterval: 500,
    });
    cleanup.push(() => alice.close(100));
    let beats = 0;
    alice.on('heartbeat_sent', () => beats++);
    const accepted = new Promise<void>((resolve) => alice.once('accepted', () => resolve()));
    alice.connectTo({ host: '127.0.0.1', port });
    await accepted;
    await until(() => beats >= 2, 20_000); // past the bot's first interval, and any greeting
    const [beatsFrom, inFrom] = [beats, alice.stats.datagramsIn];
    await until(() => beats >= beatsFrom + 12, 30_000);
    const heard = alice.stats.datagramsIn - inFrom;
    const sent = beats - beatsFrom;
    expect(sent).toBeGreaterThanOrEqual(12);
    // Each of alice's heartbeats answered. A bot keeping its grid adds a heartbeat of its own
    // every interval (twice as many datagrams); leaving them out, it sends one only in an
    // interval no heartbeat of alice's reached (a late timer on a loaded machine), which leaves
    // the next with two: at most one in two intervals. One or two in flight at the edges.
    expect(heard).toBeGreaterThanOrEqual(sent - 2);
    expect(heard).toBeLessThanOrEqual(1.5 * sent + 2);
  }, 60_000);

  it('killed and started again with the same key and port, it serves again within seconds', async () => {
    const home = freshHome();
    const first = bot([], { NETCHAT_HOME: home });
    const port = await first.port();
    // Heartbeats every 2 s (the session takes the smaller interval): a client with nothing to ask
    // finds out at its next heartbeat.
    const alice = await client('alice', port, 2_000);
    const bob = await client('bob', port, 2_000);
    expect(await alice.link.whenRegistered(10_000)).toBe(true);
    expect(await bob.link.whenRegistered(10_000)).toBe(true);
    first.kill('SIGKILL');
    await first.exited;
    const restartedAt = Date.now();
    const second = bot([], { NETCHAT_HOME: home }, String(port));
    expect(await second.port()).toBe(port);
    // A lookup at once: it goes unanswered, so alice probes its session, finds it dead, registers
    // with the new bot and asks again; bob finds out at its next heartbeat. Asked again until found.
    let found: Address | undefined;
    for (let attempt = 0; attempt < 60 && !found && Date.now() - restartedAt < 20_000; attempt++) {
      found = await alice.link.find(fingerprint(bob.peer.publicKey)).catch(() => undefined);
      if (!found) await new Promise((r) => setTimeout(r, 250));
    }
    const took = Date.now() - restartedAt;
    console.log(`[bot restart] found by fingerprint again ${took} ms after the bot was started again`);
    expect(found).toEqual(bob.peer.address);
    expect(took).toBeLessThan(15_000);
    expect(alice.link.client.stats.probes).toBeGreaterThanOrEqual(1);
  });
});

/**
 * The built `netchat --rendezvous` registered at a stranger's rendezvous that turns hostile: for
 * 3 s it floods the client with `not_registered` for requests never made, `introduction`s for
 * peers never asked for that name 40 bystanders' addresses (real sockets on loopback that count
 * what reaches them), answers to requests never made, and `relay_rate`s. Measured: the lines the
 * person is shown, what reaches the bystanders (the punch rate: 4 at once, then 1 a second), the
 * client's bytes to the rendezvous against the rendezvous's to it, and the client's memory. It
 * must stay up and go on answering its person. Then a rendezvous that ends each session as soon
 * as it registered the client: the lines said in 20 s (the reconnect back-off).
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import {
  addressToWire,
  type EndpointHost,
  encodeRendezvous,
  generateKeyPair,
  NetchatPeer,
  serveRendezvous,
} from '@netchat/core';
import { freshHome } from '@netchat/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { NetchatProcess } from './support/netchat-process.js';

const BYSTANDERS = 40;
const FLOOD_MS = 3_000;
const BATCH_EVERY_MS = 10;
/** The punch rate (core rendezvous/introductions.ts, PROTOCOL.md "What a client acts on"). */
const PUNCH_BURST = 4;
const PUNCHES_PER_SECOND = 1;

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** The endpoint's host as its rendezvous role sees it (to send control messages as the role). */
function roleHost(peer: NetchatPeer): EndpointHost {
  return (peer.endpoint as unknown as { role: EndpointHost }).role;
}

function rssKiB(pid: number): number {
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

describe('netchat --rendezvous against a hostile rendezvous', () => {
  it(`a 3 s flood of not_registered, unasked introductions naming ${BYSTANDERS} bystanders, and stray answers: one "Registered" line, the bystanders get no more than the punch rate, fewer bytes out than in`, async () => {
    const hostile = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick: 'hostile' });
    cleanup.push(() => hostile.close(100));
    serveRendezvous(hostile);
    hostile.on('request', (e) => hostile.accept(e.session));
    let fromClient = 0;
    hostile.udpSocket.on('message', (data) => {
      fromClient += data.length;
    });
    const bystanders: Socket[] = [];
    const reached = new Map<number, number>();
    for (let i = 0; i < BYSTANDERS; i++) {
      const socket = createSocket('udp4');
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
      socket.on('message', (data) => {
        const port = socket.address().port;
        reached.set(port, (reached.get(port) ?? 0) + data.length);
      });
      cleanup.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
      bystanders.push(socket);
    }

    const client = new NetchatProcess(
      ['0', '--host', '127.0.0.1', '--json', '--rendezvous', `127.0.0.1:${hostile.address.port}`],
      { NETCHAT_HOME: freshHome() },
    );
    cleanup.push(() => client.kill());
    await client.port();
    await client.waitFor('Registered with the rendezvous');
    const pid = client.child.pid as number;
    const rssBefore = rssKiB(pid);
    const session = hostile.listSessions()[0];
    const channel = session && roleHost(hostile).channelOf(session.id);
    if (!channel) throw new Error('no session with the client');

    let toClient = 0;
    const send = (message: Parameters<typeof encodeRendezvous>[0], now: number) =>
      roleHost(hostile).sendControl(channel.id, encodeRendezvous(message), now);
    const bytesOut = hostile.udpSocket.send.bind(hostile.udpSocket) as (...args: unknown[]) => void;
    hostile.udpSocket.send = ((...args: unknown[]) => {
      toClient += (args[0] as Uint8Array).length;
      bytesOut(...args);
    }) as typeof hostile.udpSocket.send;

    const started = Date.now();
    let batch = 0;
    while (Date.now() - started < FLOOD_MS) {
      hostile.run((_endpoint, now) => {
        for (let i = 0; i < 5; i++) {
          const request = 100_000 + batch * 5 + i;
          const bystander = bystanders[(batch * 5 + i) % BYSTANDERS] as Socket;
          const wire = addressToWire({ host: '127.0.0.1', port: bystander.address().port });
          const introduction = { type: 'introduction' as const, key: generateKeyPair().publicKey, ...wire };
          send({ type: 'introduce_failed', request, reason: 'not_registered' }, now);
          send({ ...introduction, request: 0, role: 'introduced', startIn: 0, relayTag: 0 }, now);
          send({ ...introduction, request, role: 'requester', startIn: 0, relayTag: 0 }, now);
          send({ type: 'introduce_failed', request, reason: 'unavailable' }, now);
          send({ type: 'relay_rate', request, bytesPerSecond: (request * 7919) % 100_000 }, now);
        }
      });
      batch++;
      await new Promise((resolve) => setTimeout(resolve, BATCH_EVERY_MS));
    }
    const seconds = (Date.now() - started) / 1000 + 1; // and the second it may still act in
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const rssAfter = rssKiB(pid);

    // Still answering its person: a lookup is asked and answered (the rendezvous still serves).
    client.type('AAAA-BBBB-CCCC-DDDD');
    await client.waitFor('unknown to the rendezvous, or not accepting you');

    const lines = client.events().filter((e) => e.type === 'rendezvous');
    const reachedBytes = [...reached.values()].reduce((a, b) => a + b, 0);
    console.log(
      `${batch * 25} hostile messages in ${FLOOD_MS} ms: ${lines.length} rendezvous lines; ${reached.size} bystanders reached (${reachedBytes} bytes); client sent ${fromClient} bytes to the rendezvous for ${toClient} from it; RSS ${rssBefore} -> ${rssAfter} KiB`,
    );
    expect(client.child.exitCode).toBe(null);
    expect(lines).toHaveLength(1);
    // One handshake init per punch, to one address each.
    expect(reached.size).toBeLessThanOrEqual(PUNCH_BURST + PUNCHES_PER_SECOND * seconds);
    expect(reachedBytes).toBeLessThanOrEqual((PUNCH_BURST + PUNCHES_PER_SECOND * seconds) * 200);
    expect(fromClient).toBeLessThan(toClient);
    expect(rssAfter - rssBefore).toBeLessThan(32 * 1024);
  });

  it('a rendezvous that ends our session as soon as it registered us, again and again for 20 s: a few lines, not two a second', async () => {
    const hostile = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick: 'hostile' });
    cleanup.push(() => hostile.close(100));
    const server = serveRendezvous(hostile);
    hostile.on('request', (e) => hostile.accept(e.session));
    const client = new NetchatProcess(
      ['0', '--host', '127.0.0.1', '--json', '--rendezvous', `127.0.0.1:${hostile.address.port}`],
      { NETCHAT_HOME: freshHome() },
    );
    cleanup.push(() => client.kill());
    await client.port();
    const started = Date.now();
    while (Date.now() - started < 20_000) {
      if (server.size > 0)
        for (const s of hostile.listSessions())
          if (s.state === 'open') hostile.closeSession(s.id, { linger: false });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const lines = client.events().filter((e) => e.type === 'rendezvous');
    console.log(`20 s of a rendezvous that ends each session once it registered us: ${lines.length} lines`);
    expect(client.child.exitCode).toBe(null);
    // New sessions after 1, 2, 4 and 8 s (at 0, 1, 3, 7 and 15 s at the earliest): five, two lines each.
    expect(lines.length).toBeLessThanOrEqual(10);
    expect(lines.length).toBeGreaterThanOrEqual(2);
  }, 40_000);
});

/**
 * Datagrams of every size a stranger can send, at every state of its dealings with the built
 * `netchat-bot --rendezvous --accept-files`: 0 bytes, 1, a bare header, one past each datagram
 * limit (1,200 and 1,452), and 65,507 (the largest UDP payload), each as random bytes and behind a
 * netchat header of every packet code. Sent before any handshake (from a socket that never made
 * one), from a peer in a chat with the bot, and from a peer registered on its rendezvous (the same
 * socket as its session). Nothing may throw or end the bot; every one is dropped and counted in
 * the summary; the chat and the registration go on. Bytes the bot sends back: none for these.
 */
import { createSocket } from 'node:dgram';
import { fingerprint, NetchatPeer, RendezvousLink } from '@netchat/core';
import { DATAGRAM_SIZES, datagramsOfEverySize, temporaryDirectory } from '@netchat/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { BotProcess } from './support/bot-process.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

type Summary = { security: Record<string, number>; rendezvous: Record<string, number> };
/**
 * Every count of a datagram dropped: the summary's security counters that say so, and the
 * rendezvous's relay packets dropped (code 6 is a relay packet, which the relay reads first).
 */
const DROP_COUNTS = [
  'malformedPackets',
  'forged',
  'replayed',
  'unknownChannel',
  'badHandshakes',
  'malformed',
];

describe('netchat-bot and datagrams of every size, at every state', () => {
  it('0 bytes to 65,507, random and behind every header, before a handshake, in a chat, and registered: the bot stays up, answers none, counts each, and the chat and registration go on', async () => {
    const box = temporaryDirectory('netchat-sizes-');
    const bot = new BotProcess(['0', '--host', '127.0.0.1', '--rendezvous', '--accept-files', box]);
    cleanup.push(() => bot.kill());
    const port = await bot.port();
    const to = { host: '127.0.0.1', port };

    // A stranger's socket that never made a handshake: counts what comes back.
    const raw = createSocket('udp4');
    await new Promise<void>((resolve) => raw.bind(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise<void>((resolve) => raw.close(() => resolve())));
    let answered = 0;
    raw.on('message', () => answered++);
    const sendFrom = async (socket: ReturnType<typeof createSocket>, datagrams: Buffer[]) => {
      for (const d of datagrams)
        await new Promise<void>((resolve, reject) =>
          socket.send(d, to.port, to.host, (error) => (error ? reject(error) : resolve())),
        );
    };
    let sent = 0;
    const first = datagramsOfEverySize();
    await sendFrom(raw, first);
    sent += first.length;

    // A peer in a chat with the bot, and registered on its rendezvous, on one socket.
    const peer = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick: 'ana' });
    cleanup.push(() => peer.close(100));
    const other = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick: 'bo' });
    cleanup.push(() => other.close(100));
    const link = new RendezvousLink(peer, { server: to, acceptFrom: 'anyone', listedKeys: [] });
    const otherLink = new RendezvousLink(other, { server: to, acceptFrom: 'anyone', listedKeys: [] });
    expect(await bot.whileRunning(link.whenRegistered(10_000))).toBe(true);
    expect(await bot.whileRunning(otherLink.whenRegistered(10_000))).toBe(true);
    const accepted = new Promise<number>((resolve) =>
      peer.on('accepted', (e) => {
        if (e.peer.port === port) resolve(e.session);
      }),
    );
    await peer.connect('127.0.0.1', port);
    const session = await bot.whileRunning(accepted);
    const echo = async (text: string) => {
      const reply = new Promise<string>((resolve) => {
        const on = (e: { session: number; text: string }) => {
          if (e.session !== session) return;
          peer.off('message', on);
          resolve(e.text);
        };
        peer.on('message', on);
      });
      peer.send(session, text);
      return bot.whileRunning(reply);
    };
    expect(await echo('before')).toBe('echo: before');

    const second = datagramsOfEverySize();
    await sendFrom(peer.udpSocket, second);
    sent += second.length;
    expect(await echo('after')).toBe('echo: after'); // the chat goes on
    expect(await bot.whileRunning(link.find(fingerprint(other.publicKey)))).toEqual(other.address);
    expect(bot.child.exitCode).toBe(null);
    expect(answered).toBe(0);

    bot.kill('SIGTERM');
    const [summary] = (await bot.waitForLogs((l) => l.event === 'summary')) as unknown as Summary[];
    const security = (summary as Summary).security;
    const relayDropped = (summary as Summary).rendezvous.relayDropped ?? 0;
    const dropped = DROP_COUNTS.reduce((n, name) => n + (security[name] ?? 0), relayDropped);
    console.log(
      `${sent} datagrams of ${DATAGRAM_SIZES.join(', ')} bytes: ${dropped} counted dropped (${DROP_COUNTS.map((n) => `${n} ${security[n] ?? 0}`).join(', ')}, relayDropped ${relayDropped}); ${answered} answered`,
    );
    expect(dropped).toBe(sent);
  });
});

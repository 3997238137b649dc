/**
 * Datagrams of every size a stranger can send to the built `netchat`: 0 bytes, 1, a bare header,
 * one past each datagram limit (1,200 and 1,452), and 65,507 (the largest UDP payload), as random
 * bytes and behind a netchat header of every packet code. Sent at the start prompt (from a socket
 * that never made a handshake), while a request waits for the person's answer (from the asker's
 * own socket), and in a chat (from the peer's socket). netchat must stay up, print nothing of
 * them, answer none, and go on: the request is answered, the chat carries lines both ways.
 */
import { createSocket, type Socket } from 'node:dgram';
import { NetchatPeer } from '@netchat/core';
import { DATAGRAM_SIZES, datagramsOfEverySize } from '@netchat/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { NetchatProcess } from './support/netchat-process.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function sendAll(socket: Socket, port: number): Promise<number> {
  const datagrams = datagramsOfEverySize();
  for (const d of datagrams)
    await new Promise<void>((resolve, reject) =>
      socket.send(d, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
    );
  return datagrams.length;
}

describe('netchat and datagrams of every size, at every state', () => {
  it('0 bytes to 65,507, random and behind every header, at the prompt, while a request waits, and in a chat: it stays up, shows and answers none, and goes on', async () => {
    const netchat = new NetchatProcess(['0', '--host', '127.0.0.1', '--json', '--nick', 'target']);
    cleanup.push(() => netchat.kill());
    const port = await netchat.port();
    const raw = createSocket('udp4');
    await new Promise<void>((resolve) => raw.bind(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise<void>((resolve) => raw.close(() => resolve())));
    let answered = 0;
    raw.on('message', () => answered++);
    let sent = await sendAll(raw, port);

    const friend = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick: 'friend' });
    cleanup.push(() => friend.close(100));
    const accepted = new Promise<number>((resolve) => friend.once('accepted', (e) => resolve(e.session)));
    await friend.connect('127.0.0.1', port);
    await netchat.waitForEvent('request');
    sent += await sendAll(friend.udpSocket, port); // while the person has not answered yet
    netchat.type('y');
    const session = await netchat.whileRunning(accepted);
    sent += await sendAll(friend.udpSocket, port); // in the chat
    friend.send(session, 'after the datagrams');
    await netchat.waitFor('"text":"after the datagrams"');
    const reply = new Promise<string>((resolve) => friend.once('message', (e) => resolve(e.text)));
    netchat.type('still here');
    expect(await netchat.whileRunning(reply)).toBe('still here');
    const shown = netchat.events().map((e) => e.type);
    console.log(
      `${sent} datagrams of ${DATAGRAM_SIZES.join(', ')} bytes: ${answered} answered; events shown: ${[...new Set(shown)].join(', ')}`,
    );
    expect(netchat.child.exitCode).toBe(null);
    expect(netchat.stderr).toBe('');
    expect(answered).toBe(0);
    expect(shown.filter((t) => t === 'request')).toHaveLength(1);
  });
});

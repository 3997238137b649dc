/** netchat processes finding each other by fingerprint through a rendezvous (in this process, on loopback). */
import { createSocket } from 'node:dgram';
import { NetchatPeer, serveRendezvous } from '@netchat/core';
import { freshHome } from '@netchat/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { NetchatProcess } from './support/netchat-process.js';

const running: NetchatProcess[] = [];
const peers: NetchatPeer[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) p.kill();
  for (const peer of peers.splice(0)) await peer.close(100);
});

/** A rendezvous peer that accepts every registration, as `netchat-bot --rendezvous` does. */
async function rendezvous(maxRegistrations?: number): Promise<number> {
  const peer = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick: 'rendezvous' });
  serveRendezvous(peer, maxRegistrations === undefined ? {} : { maxRegistrations });
  peer.on('request', (e) => peer.accept(e.session));
  peers.push(peer);
  return peer.address.port;
}

function netchat(...args: string[]): NetchatProcess {
  const p = new NetchatProcess(['0', '--host', '127.0.0.1', ...args], { NETCHAT_HOME: freshHome() });
  running.push(p);
  return p;
}

const fingerprintOf = (p: NetchatProcess) => /Your fingerprint: (\S+)/.exec(p.stdout)?.[1] ?? '';

describe('netchat with --rendezvous', () => {
  it('registers, then opens a chat with a peer named only by its fingerprint', async () => {
    const port = await rendezvous();
    const a = netchat('--nick', 'alice', '--rendezvous', `127.0.0.1:${port}`);
    const b = netchat('--nick', 'bob', '--rendezvous', `127.0.0.1:${port}`);
    const portA = await a.port();
    const portB = await b.port();
    await a.waitFor(`Registered with the rendezvous 127.0.0.1:${port}; it sees you at 127.0.0.1:${portA}.`);
    await b.waitFor(`Registered with the rendezvous 127.0.0.1:${port}; it sees you at 127.0.0.1:${portB}.`);
    await a.waitFor('Start chat with? (IP Port): ');
    // As a person might type it: lower case, no dashes.
    a.type(fingerprintOf(b).toLowerCase().replaceAll('-', ''));
    await a.waitFor(`Sending connection request to ${fingerprintOf(b)}...`);
    await b.waitFor(`[127.0.0.1:${portA}] Accept connection? (y/n): `);
    expect(b.stdout).toContain(`Fingerprint: ${fingerprintOf(a)} (new`);
    b.type('y');
    await a.waitFor(`Connected to 127.0.0.1 ${portB} (bob).`);
    a.type('hello by fingerprint');
    await b.waitFor(`[127.0.0.1:${portA}] alice: hello by fingerprint`);
    a.type('exit');
    await a.waitFor('Start chat with? (IP Port): ', 5_000, 2);
    // bob is now a known peer: his nick names him.
    a.type('bob');
    await b.waitFor(`[127.0.0.1:${portA}] Accept connection? (y/n): `, 10_000, 2);
    expect(b.stdout).toContain(`Fingerprint: ${fingerprintOf(a)} (known as alice)`);
  });

  it('says why a fingerprint cannot be found, and prompts again', async () => {
    const port = await rendezvous();
    const a = netchat('--rendezvous', `127.0.0.1:${port}`);
    await a.waitFor('Registered with the rendezvous');
    a.type('AAAA-BBBB-CCCC-DDDD');
    await a.waitFor('cannot find the peer: unknown to the rendezvous, or not accepting you');
    await a.waitFor('Start chat with? (IP Port): ', 5_000, 2);
  });

  it('with --json, tells of the rendezvous in `rendezvous` events, as README.md lists them', async () => {
    const port = await rendezvous();
    const a = netchat('--json', '--rendezvous', `127.0.0.1:${port}`);
    const own = await a.port();
    await a.waitFor('"type":"rendezvous"');
    expect(a.events().filter((e) => e.type === 'rendezvous')).toEqual([
      {
        type: 'rendezvous',
        text: `Registered with the rendezvous 127.0.0.1:${port}; it sees you at 127.0.0.1:${own}.`,
      },
    ]);
  });

  it('says so when a full rendezvous refuses to register it, and when it will try again', async () => {
    const port = await rendezvous(1);
    const a = netchat('--rendezvous', `127.0.0.1:${port}`);
    await a.waitFor('Registered with the rendezvous');
    const b = netchat('--json', '--rendezvous', `127.0.0.1:${port}`);
    await b.waitFor('would not register you');
    expect(b.events().filter((e) => e.type === 'rendezvous')).toEqual([
      {
        type: 'rendezvous',
        text: `The rendezvous 127.0.0.1:${port} would not register you (it holds as many registrations as its operator allows); trying again in 30 s.`,
      },
    ]);
  });

  it('with the rendezvous down, a fingerprint says at once that it waits for it, then why it failed', async () => {
    // A rendezvous that stopped: its port is bound (so nothing else takes it) and answers nothing.
    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    const server = `127.0.0.1:${silent.address().port}`;
    try {
      const a = netchat('--rendezvous', server, '--connect-timeout', '2');
      await a.waitFor('Start chat with? (IP Port): ');
      a.type('AAAA-BBBB-CCCC-DDDD');
      await a.waitFor(`Not registered with the rendezvous ${server} yet: waiting for it (at most 2 s).`);
      expect(a.stdout).not.toContain('cannot find the peer');
      await a.waitFor(
        `cannot find the peer: not registered with the rendezvous ${server} within 2 s (is it running, and reachable from here?)`,
      );
      await a.waitFor('Start chat with? (IP Port): ', 5_000, 2);
    } finally {
      silent.close();
    }
  });

  it('without a rendezvous, says one is needed for a fingerprint, and prompts again', async () => {
    const a = netchat();
    await a.waitFor('Start chat with? (IP Port): ');
    a.type('AAAA-BBBB-CCCC-DDDD');
    await a.waitFor(
      'to reach a fingerprint you need a rendezvous (--rendezvous HOST:PORT); or type "IP Port"',
    );
    await a.waitFor('Start chat with? (IP Port): ', 5_000, 2);
  });

  it('refuses a bad --rendezvous with one line and exit code 2', async () => {
    const a = netchat('--rendezvous', 'nowhere');
    expect(await a.exited).toBe(2);
    expect(a.stderr.trim().split('\n')).toHaveLength(1);
  });
});

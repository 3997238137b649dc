/**
 * Scripts that name their peer by fingerprint or nick through a rendezvous (in this process, on
 * loopback): --connect FINGERPRINT, and a fingerprint piped as the first line, both before the
 * registration is done (they wait for it, within --connect-timeout).
 */
import { NetchatPeer, serveRendezvous } from '@netchat/core';
import { freshHome } from '@netchat/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { NetchatProcess } from './support/netchat-process.js';

const peers: NetchatPeer[] = [];
afterEach(async () => {
  for (const peer of peers.splice(0)) await peer.close(100);
});

/** A rendezvous peer that accepts every registration, as `netchat-bot --rendezvous` does. */
async function rendezvous(): Promise<number> {
  const peer = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick: 'rendezvous' });
  serveRendezvous(peer);
  peer.on('request', (e) => peer.accept(e.session));
  peers.push(peer);
  return peer.address.port;
}

const netchat = (...args: string[]) =>
  new NetchatProcess(['0', '--host', '127.0.0.1', ...args], { NETCHAT_HOME: freshHome() });
const fingerprintOf = (p: NetchatProcess) => /Your fingerprint: (\S+)/.exec(p.stdout)?.[1] ?? '';

/** bob: registered with the rendezvous, accepting everyone; and his fingerprint. */
async function bobAt(port: number): Promise<[NetchatProcess, string]> {
  const bob = netchat('--nick', 'bob', '--yes', '--rendezvous', `127.0.0.1:${port}`);
  await bob.waitFor('Registered with the rendezvous');
  return [bob, fingerprintOf(bob)];
}

describe('scripts that name the peer by fingerprint (--rendezvous)', () => {
  it('--connect FINGERPRINT waits for the registration, then sends every line; exit 0', async () => {
    const port = await rendezvous();
    const [bob, print] = await bobAt(port);
    const a = netchat('--json', '--rendezvous', `127.0.0.1:${port}`, '--connect', print.toLowerCase());
    a.type('hello by fingerprint');
    a.endInput();
    expect(await a.exited).toBe(0);
    expect(a.events().filter((e) => e.type === 'delivered')).toHaveLength(1);
    await bob.waitFor('hello by fingerprint');
  });

  it('a fingerprint piped as the first line waits for the registration too', async () => {
    const port = await rendezvous();
    const [bob, print] = await bobAt(port);
    const a = netchat('--rendezvous', `127.0.0.1:${port}`);
    // At once, before the registration can be done.
    a.type(print);
    a.type('first line after the fingerprint');
    a.endInput();
    expect(await a.exited).toBe(0);
    expect(a.stdout).toContain(`Connected to 127.0.0.1 ${await bob.port()} (bob).`);
    await bob.waitFor('first line after the fingerprint');
  });

  it('--connect with our own fingerprint is refused with a clear line and exit 2', async () => {
    const home = freshHome();
    const me = new NetchatProcess(['--fingerprint'], { NETCHAT_HOME: home });
    await me.exited;
    const print = /Your fingerprint: (\S+)/.exec(me.stdout)?.[1] ?? '';
    const a = new NetchatProcess(['0', '--rendezvous', '127.0.0.1:9', '--connect', print], {
      NETCHAT_HOME: home,
    });
    expect(await a.exited).toBe(2);
    expect(a.stderr).toBe(
      `netchat: --connect ${print}: ${print} is your own fingerprint: give the other person's (they see theirs with netchat --fingerprint) (see 'netchat --help')\n`,
    );
    expect(a.stdout).toBe('');
  });

  it('--connect NICK without a rendezvous or a known address says what to do, exit 2', async () => {
    const a = netchat('--connect', 'bob');
    expect(await a.exited).toBe(2);
    expect(a.stderr).toBe(
      `netchat: --connect: invalid address "bob": expected IP and port, e.g. 127.0.0.1 6666 or [::1]:6666; no known peer is called "bob" either (see 'netchat --help')\n`,
    );
  });
});

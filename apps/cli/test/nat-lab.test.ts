/**
 * The NAT lab: real network namespaces, veth pairs and iptables MASQUERADE (lab/nat-lab.sh,
 * driven by support/nat-lab.ts), a rendezvous on the "public" network and a netchat CLI in each
 * home: chat found by fingerprint, direct or relayed, and two laptops behind one NAT. Files,
 * loss and cuts are in nat-lab-files.test.ts, NAT rebinding in nat-lab-rebind.test.ts. Needs
 * root, ip and iptables (CI installs them and runs as root); skipped with a message otherwise.
 * Every wait is bounded; traffic goes only to addresses inside the namespaces this test made.
 */
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { hasConntrack, labMissing, labScript, NatLab, removeLabs } from './support/nat-lab.js';
import type { NetchatProcess } from './support/netchat-process.js';

if (labMissing)
  console.log(
    `[nat-lab] skipped: ${labMissing} (needs root, iproute2 with tc, and iptables to build namespaces)`,
  );

afterEach(removeLabs);

const fingerprintOf = (p: NetchatProcess) => /Your fingerprint: (\S+)/.exec(p.stdout)?.[1] ?? '';

/** What the relay must never carry: the rendezvous counts every datagram that holds it. */
const SECRET = 'plaintext the relay must never see';

/** The rendezvous and two registered homes (heartbeats every 2 s, so the flush test stays short). */
async function homes(made: NatLab) {
  const rendezvous = await made.rendezvous(SECRET);
  const common = ['--rendezvous', '10.200.0.1:3478', '--heartbeat-interval', '2', '--connect-timeout', '8'];
  const alice = made.netchat('a', ['--nick', 'alice', ...common]);
  const bob = made.netchat('b', ['--nick', 'bob', ...common]);
  // The rendezvous sees each behind its router's public address.
  await alice.waitFor(/it sees you at 10\.200\.0\.2:\d+\./);
  await bob.waitFor(/it sees you at 10\.200\.0\.3:\d+\./);
  await alice.waitFor('Start chat with? (IP Port): ');
  return { rendezvous, alice, bob };
}

/** alice asks for bob by fingerprint; bob accepts. The time from typing to `Connected`. */
async function chatByFingerprint(
  alice: NetchatProcess,
  bob: NetchatProcess,
  times = 1,
  via = /10\.200\.0\.3 \d+/,
) {
  const start = performance.now();
  alice.type(fingerprintOf(bob));
  await bob.waitFor('Accept connection? (y/n): ', 15_000, times);
  const asked = performance.now() - start;
  bob.type('y');
  await alice.waitFor(new RegExp(`Connected to ${via.source} \\(bob\\)\\.`), 10_000, times);
  return { asked, opened: performance.now() - start };
}

describe.skipIf(labMissing !== '')('NAT lab (network namespaces)', () => {
  it('a lab left by a process that is gone (a killed run) is removed by the next sweep; a living process keeps its own', () => {
    // A process that has exited: its pid names the stale lab (a pid is reused only after many more).
    const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const stale = `n${Number(gone.stdout.trim()).toString(36)}x0-pub`;
    const living = `n${process.pid.toString(36)}x99-pub`;
    const namespaces = () => spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    try {
      for (const ns of [stale, living]) expect(spawnSync('ip', ['netns', 'add', ns]).status).toBe(0);
      expect(spawnSync(labScript, ['sweep']).status).toBe(0);
      expect(namespaces()).not.toContain(stale);
      expect(namespaces()).toContain(living);
    } finally {
      for (const ns of [stale, living]) spawnSync('ip', ['netns', 'del', ns]);
    }
  });

  it('two homes behind endpoint-independent NATs chat directly, found by fingerprint; nothing relayed', async () => {
    const { rendezvous, alice, bob } = await homes(new NatLab('eim'));
    const { asked, opened } = await chatByFingerprint(alice, bob);
    // Direct: alice talks to bob's router's public address, and the chat works both ways.
    alice.type('hello across two NATs');
    await bob.waitFor(/\[10\.200\.0\.2:\d+\] alice: hello across two NATs/);
    bob.type('hello back');
    await alice.waitFor(/\[10\.200\.0\.3:\d+\] bob: hello back/);
    const stats = await rendezvous.stats();
    expect(stats.introductions).toBe(1);
    expect(stats.relayed).toBe(0);
    console.log(
      `[nat-lab] direct: request reached bob ${asked.toFixed(0)} ms after alice typed the fingerprint; chat open after ${opened.toFixed(0)} ms (incl. bob answering)`,
    );
  }, 60_000);

  it('behind port-randomising NATs (MASQUERADE --random-fully) the chat is relayed, and the relay sees no plaintext', async () => {
    const { rendezvous, alice, bob } = await homes(new NatLab('random'));
    const { asked, opened } = await chatByFingerprint(alice, bob, 1, /relay \d+/);
    await alice.waitFor('Relayed through the rendezvous');
    alice.type(SECRET);
    await bob.waitFor(new RegExp(`\\[relay:\\d+\\] alice: ${SECRET}`));
    bob.type(`${SECRET} (back)`);
    await alice.waitFor(`bob: ${SECRET} (back)`);
    const stats = await rendezvous.stats();
    expect(stats.relayed).toBeGreaterThan(0);
    expect(stats.plaintextSeen).toBe(0);
    console.log(
      `[nat-lab] random-fully: relayed; request reached bob ${asked.toFixed(0)} ms after alice typed the fingerprint (3 s of it waiting for a direct path); chat open after ${opened.toFixed(0)} ms; the relay forwarded ${stats.relayed} packets, ${stats.relayedBytes} bytes`,
    );
  }, 60_000);

  it('two laptops behind one NAT that does not hairpin (Linux MASQUERADE) find each other by fingerprint: relayed, and the chat works', async () => {
    // The rendezvous sees both at router a's public address and introduces each at it; a datagram
    // to the router's own public address from inside is not sent back in, so no direct path opens
    // (netchat learns no local addresses) and the relay carries the chat, the user told so.
    const made = new NatLab('eim');
    made.addNeighbour();
    const rendezvous = await made.rendezvous(SECRET);
    const common = ['--rendezvous', '10.200.0.1:3478', '--heartbeat-interval', '2', '--connect-timeout', '8'];
    const alice = made.netchat('a', ['--nick', 'alice', ...common]);
    const bob = made.netchat('n', ['--nick', 'bob', ...common]);
    await alice.waitFor(/it sees you at 10\.200\.0\.2:\d+\./);
    await bob.waitFor(/it sees you at 10\.200\.0\.2:\d+\./);
    await alice.waitFor('Start chat with? (IP Port): ');
    const { asked, opened } = await chatByFingerprint(alice, bob, 1, /relay \d+/);
    await alice.waitFor('Relayed through the rendezvous: no direct path opened');
    alice.type(SECRET);
    await bob.waitFor(new RegExp(`\\[relay:\\d+\\] alice: ${SECRET}`));
    bob.type('hello from the next room');
    await alice.waitFor('bob: hello from the next room');
    const stats = await rendezvous.stats();
    expect(stats.introductions).toBe(1);
    expect(stats.relayed).toBeGreaterThan(0);
    expect(stats.plaintextSeen).toBe(0);
    console.log(
      `[nat-lab] one NAT, no hairpin: relayed; request reached bob ${asked.toFixed(0)} ms after alice typed the fingerprint; chat open after ${opened.toFixed(0)} ms`,
    );
  }, 60_000);

  it.skipIf(!hasConntrack)(
    'a NAT that forgets its mappings (conntrack -F) is re-learnt by the next heartbeat',
    async () => {
      const made = new NatLab('eim');
      const { prefix } = made;
      const { alice, bob } = await homes(made);
      for (const router of ['ra', 'rb']) {
        const flushed = spawnSync('ip', ['netns', 'exec', `${prefix}-${router}`, 'conntrack', '-F'], {
          encoding: 'utf8',
        });
        expect(flushed.status).toBe(0);
      }
      // Each client's next heartbeat makes a new mapping, and the rendezvous's answer through it
      // proves the rendezvous follows it: wait until both routers hold such a replied mapping.
      const mappingAnswered = (router: string) => {
        const listed = spawnSync(
          'ip',
          ['netns', 'exec', `${prefix}-${router}`, 'conntrack', '-L', '-p', 'udp', '--dport', '3478'],
          {
            encoding: 'utf8',
          },
        );
        return listed.stdout
          .split('\n')
          .some((line) => line.includes('dport=3478') && !line.includes('[UNREPLIED]'));
      };
      const deadline = Date.now() + 15_000;
      while (!(mappingAnswered('ra') && mappingAnswered('rb'))) {
        if (Date.now() > deadline) throw new Error('no heartbeat was answered through a new mapping in 15 s');
        await new Promise((r) => setTimeout(r, 50));
      }
      const { opened } = await chatByFingerprint(alice, bob);
      console.log(`[nat-lab] after conntrack -F on both routers: chat open after ${opened.toFixed(0)} ms`);
      expect(alice.stdout + alice.stderr).not.toContain('Lost the rendezvous');
    },
    60_000,
  );
});

/**
 * A running netchat and `netchat contacts` on the same netchat home, as real processes: what the
 * command changes in known_peers.json counts for the running program's next request, and is
 * still there after the running program saves its own changes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KnownPeers } from '@netchat/core';
import { freshHome } from '@netchat/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { NetchatProcess } from './support/netchat-process.js';

const running: NetchatProcess[] = [];
function netchatAt(home: string, ...args: string[]): NetchatProcess {
  const process = new NetchatProcess(args, { NETCHAT_HOME: home });
  running.push(process);
  return process;
}
afterEach(() => {
  for (const p of running.splice(0)) p.kill();
});

/** A script from `home` that says one line to the peer on `port`, and has exited 0. */
async function sayHello(home: string, nick: string, port: number): Promise<void> {
  const script = netchatAt(home, '0', '--nick', nick, '--connect', `127.0.0.1:${port}`);
  script.type(`hello from ${nick}`);
  script.endInput();
  expect(await script.exited).toBe(0);
}

async function fingerprintOf(home: string): Promise<string> {
  const shown = netchatAt(home, '--fingerprint');
  expect(await shown.exited).toBe(0);
  return /Your fingerprint: (\S+)/.exec(shown.stdout)?.[1] ?? '';
}

/** known_peers.json of `home`, by nick. */
function knownPeers(home: string): Record<string, { verified?: string; fingerprint: string }> {
  const file = JSON.parse(readFileSync(join(home, 'known_peers.json'), 'utf8')) as {
    peers: { nick: string; verified?: string; fingerprint: string }[];
  };
  return Object.fromEntries(file.peers.map((p) => [p.nick, p]));
}

describe('netchat contacts while netchat runs on the same home', () => {
  it('a verify done meanwhile is what the running program says of the next request, and survives its next save', async () => {
    const bobHome = freshHome();
    const aliceHome = freshHome();
    const carolHome = freshHome();
    // Bob's netchat runs all along, accepting every request.
    const bob = netchatAt(bobHome, '0', '--nick', 'bob', '--yes');
    const port = await bob.port();
    await sayHello(aliceHome, 'alice', port);
    await bob.waitFor('hello from alice');
    expect(bob.stdout).toContain('(new: this key has not been seen before)');

    // In another terminal, Bob verifies Alice's key, having compared it aloud.
    const alice = await fingerprintOf(aliceHome);
    const verify = netchatAt(bobHome, 'contacts', 'verify', alice);
    expect(await verify.exited).toBe(0);
    expect(knownPeers(bobHome).alice?.verified).toEqual(expect.any(String));

    // Alice again: the running netchat read the change before telling Bob who asks.
    await sayHello(aliceHome, 'alice', port);
    await bob.waitFor('hello from alice', 10_000, 2);
    expect(bob.stdout).toContain(`Fingerprint: ${alice} (known as alice, verified)`);

    // Carol, new: the running netchat saves its list, and Alice's mark is still in it.
    await sayHello(carolHome, 'carol', port);
    await bob.waitFor('hello from carol');
    const saved = knownPeers(bobHome);
    expect(saved.carol).toBeDefined();
    expect(saved.alice?.verified).toEqual(expect.any(String));

    // And a forget done meanwhile: Alice's key is new again for the running netchat.
    const forget = netchatAt(bobHome, 'contacts', 'forget', 'alice');
    expect(await forget.exited).toBe(0);
    await sayHello(aliceHome, 'alice', port);
    await bob.waitFor('hello from alice', 10_000, 3);
    expect(bob.stdout.split('(new: this key has not been seen before)')).toHaveLength(4);
  });

  it('twelve netchat contacts rename at once on one home: every rename is kept (the file is locked while each reads and writes)', async () => {
    const home = freshHome();
    const known = KnownPeers.load(home);
    const key = (i: number) => i.toString(16).padStart(64, '0');
    for (let i = 1; i <= 12; i++)
      known.remember(key(i), `peer${i}`, `P${String(i).padStart(3, '0')}A-AAAA-AAAA-AAAA`);
    const renames = Array.from({ length: 12 }, (_, i) =>
      netchatAt(home, 'contacts', 'rename', `peer${i + 1}`, `renamed${i + 1}`),
    );
    expect(await Promise.all(renames.map((p) => p.exited))).toEqual(Array(12).fill(0));
    expect(
      KnownPeers.load(home)
        .list()
        .map((p) => p.nick)
        .sort(),
    ).toEqual(Array.from({ length: 12 }, (_, i) => `renamed${i + 1}`).sort());
    expect(existsSync(join(home, 'known_peers.json.lock'))).toBe(false);
  });

  it('--json: a request says what its key is to us, and one refused (a new key with a verified nick) ends as declined', async () => {
    const bobHome = freshHome();
    const aliceHome = freshHome();
    const bob = netchatAt(bobHome, '0', '--nick', 'bob', '--yes', '--json');
    const port = await bob.port();
    await sayHello(aliceHome, 'alice', port);
    await bob.waitFor('hello from alice');
    const alice = await fingerprintOf(aliceHome);
    expect(await netchatAt(bobHome, 'contacts', 'verify', alice).exited).toBe(0);
    await sayHello(aliceHome, 'alice', port);
    await bob.waitFor('hello from alice', 10_000, 2);
    // Someone else, with another key, calling itself alice.
    const impostor = netchatAt(freshHome(), '0', '--nick', 'alice', '--connect', `127.0.0.1:${port}`);
    impostor.type('hello from the impostor');
    impostor.endInput();
    expect(await impostor.exited).toBe(3);
    await bob.waitFor('"by":"local"');
    const requests = bob.events().filter((e) => e.type === 'request');
    expect(requests.map((e) => [e.trust, e.verified])).toEqual([
      ['new', undefined],
      ['known', true],
      ['impersonation', true],
    ]);
    expect(bob.events().at(-1)).toEqual({
      type: 'declined',
      session: requests[2]?.session,
      peer: requests[2]?.peer,
      reason: 'not_allowed',
      detail: '',
      by: 'local',
    });
    expect(bob.stdout).not.toContain('hello from the impostor');
  });
});

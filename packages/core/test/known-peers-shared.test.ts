/**
 * One known_peers.json, two programs: a running netchat (or netchat-tui) and `netchat contacts`
 * in another terminal, here two KnownPeers on one home in one process, their changes
 * interleaved. Nothing one of them changes is undone by the other's next save, and the running
 * one answers trust from the file as it is now.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KnownPeers, type KnownPeersOptions, type SaveFailure } from '../src/index.js';

const bob = 'b2'.repeat(32);
const carol = 'c3'.repeat(32);
const mallory = 'dd'.repeat(32);
const BOB = 'BBBB-BBBB-BBBB-BBBB';
const CAROL = 'CCCC-CCCC-CCCC-CCCC';

const homes: string[] = [];
afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});
function home(): string {
  const dir = mkdtempSync(join(tmpdir(), 'netchat-known-shared-'));
  homes.push(dir);
  return dir;
}
/** The file as it is on disk, peer by peer. */
function onDisk(dir: string): Record<string, { nick: string; verified?: string; named?: true }> {
  const file = JSON.parse(readFileSync(join(dir, 'known_peers.json'), 'utf8')) as {
    peers: { publicKey: string; nick: string; verified?: string; named?: true }[];
  };
  return Object.fromEntries(file.peers.map((p) => [p.publicKey, p]));
}

/** Every save at once: these tests are about what two programs' saves do to each other, not when they come. */
const load = (dir: string, options: KnownPeersOptions = {}) =>
  KnownPeers.load(dir, { sightingSaves: { perSecond: 1e6, burst: 1e6 }, ...options });

describe('two programs on one netchat home', () => {
  it("a verify, rename or forget by one is never undone by the other's next save", () => {
    const dir = home();
    const running = load(dir);
    running.remember(bob, 'bob', BOB, { address: { host: '127.0.0.1', port: 6666 } });
    // `netchat contacts verify` in another terminal, while the chat program runs.
    const contacts = load(dir);
    expect(contacts.verify(bob, new Date('2026-12-01T10:00:00Z'))).toBe(true);
    // The running program saves: a new peer seen.
    running.remember(carol, 'carol', CAROL);
    expect(onDisk(dir)[bob]?.verified).toBe('2026-12-01T10:00:00.000Z');
    expect(onDisk(dir)[carol]?.nick).toBe('carol');

    // A rename there, then the peer's own nick seen here: the person's name wins.
    expect(load(dir).rename(carol, 'Caroline')).toBe(true);
    running.remember(carol, 'carol-laptop', CAROL, { address: { host: '::1', port: 7000 } });
    expect(onDisk(dir)[carol]).toMatchObject({
      nick: 'Caroline',
      named: true,
      lastAddress: { host: '::1', port: 7000 },
    });

    // A forget there, then a nick change in the running program's chat: it stays forgotten.
    expect(load(dir).forget(bob)).toBe(true);
    running.remember(bob, 'robert', BOB, { onlyIfKnown: true });
    expect(onDisk(dir)[bob]).toBeUndefined();
    expect(running.list().map((p) => p.publicKey)).toEqual([carol]);
  });

  it('the running program answers trust from the file as it is now: a verify or forget done meanwhile counts', () => {
    const dir = home();
    const running = load(dir);
    running.remember(bob, 'bob', BOB);
    expect(running.check(bob, 'bob')).toEqual({ status: 'known', knownAs: 'bob' });

    load(dir).verify(bob);
    expect(running.check(bob, 'bob')).toEqual({ status: 'known', knownAs: 'bob', verified: true });
    // A new key calling itself bob is refused now, not only warned about.
    expect(running.check(mallory, 'bob')).toEqual({
      status: 'nick_conflict',
      knownFingerprint: BOB,
      verified: true,
    });

    load(dir).forget(bob);
    expect(running.check(bob, 'bob')).toEqual({ status: 'new' });
    expect(running.check(mallory, 'bob')).toEqual({ status: 'new' });
    expect(running.list()).toEqual([]);
    // Chatting with it again (the person accepted a new key) trusts it again: a new entry, not verified.
    running.remember(bob, 'bob', BOB);
    expect(onDisk(dir)[bob]).toMatchObject({ nick: 'bob' });
    expect(onDisk(dir)[bob]?.verified).toBeUndefined();
  });

  it('interleaved changes by both, each applied per key to the file as the other left it', () => {
    const dir = home();
    const a = load(dir);
    const b = load(dir);
    a.remember(bob, 'bob', BOB);
    b.remember(carol, 'carol', CAROL);
    a.verify(bob);
    b.rename(bob, 'Bobby');
    a.remember(bob, 'bob2', BOB);
    b.verify(carol);
    const disk = onDisk(dir);
    expect(Object.keys(disk).sort()).toEqual([bob, carol]);
    expect(disk[bob]).toMatchObject({ nick: 'Bobby', named: true, verified: expect.any(String) });
    expect(disk[carol]).toMatchObject({ nick: 'carol', verified: expect.any(String) });
    // Both see the same list.
    expect(a.list()).toEqual(b.list());
    // A change to a key the other forgot meanwhile finds no one: false, and the key stays gone.
    b.forget(carol);
    expect(a.rename(carol, 'x')).toBe(false);
    expect(a.verify(carol)).toBe(false);
    expect(onDisk(dir)[carol]).toBeUndefined();
  });

  it('a list the person removed stays removed: the next save writes only what was changed since', () => {
    const dir = home();
    const running = load(dir);
    running.remember(bob, 'bob', BOB);
    unlinkSync(join(dir, 'known_peers.json'));
    running.remember(carol, 'carol', CAROL);
    expect(Object.keys(onDisk(dir))).toEqual([carol]);
  });

  it('a file that became corrupt is never written over; the change holds here and is saved once it is readable', () => {
    const dir = home();
    const running = load(dir);
    const told: SaveFailure[] = [];
    running.onSaveFailure((f) => told.push(f));
    running.remember(bob, 'bob', BOB);
    const path = join(dir, 'known_peers.json');
    writeFileSync(path, '{"version":1,"peers":[{"half an edit');
    running.remember(carol, 'carol', CAROL);
    expect(readFileSync(path, 'utf8')).toBe('{"version":1,"peers":[{"half an edit');
    expect(told).toEqual([{ path, reason: 'it is corrupt (move it away to start a new one)' }]);
    expect(running.check(carol, 'carol')).toMatchObject({ status: 'known' });
    // The person puts a good list back (bob only): the next save adds carol to it.
    writeFileSync(
      path,
      JSON.stringify({
        version: 1,
        peers: [{ publicKey: bob, nick: 'bob', fingerprint: BOB, firstSeen: 'x' }],
      }),
    );
    running.remember(mallory, 'mal', 'MMMM-MMMM-MMMM-MMMM');
    expect(Object.keys(onDisk(dir)).sort()).toEqual([bob, carol, mallory].sort());
    expect(running.lastSaveFailure).toBeUndefined();
  });
});

describe("the file's lock", () => {
  it('a lock a live program holds is waited for, then the save fails (told, kept) and the change goes with the next save', () => {
    const dir = home();
    const path = join(dir, 'known_peers.json');
    const running = load(dir, { lockWaitMs: 20 });
    const told: SaveFailure[] = [];
    running.onSaveFailure((f) => told.push(f));
    // Our parent (the test runner's) runs: its lock is live.
    writeFileSync(`${path}.lock`, `${hostname()} ${process.ppid}\n`);
    running.remember(bob, 'bob', BOB);
    expect(told).toEqual([{ path, reason: 'another program is writing it (its .lock file stays)' }]);
    expect(existsSync(path)).toBe(false);
    expect(running.check(bob, 'bob')).toMatchObject({ status: 'known' });
    rmSync(`${path}.lock`);
    running.remember(carol, 'carol', CAROL);
    expect(Object.keys(onDisk(dir)).sort()).toEqual([bob, carol]);
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it('a lock left by a program that died (its pid runs no more), or an old one, is taken over', () => {
    const dir = home();
    const path = join(dir, 'known_peers.json');
    const gone = spawnSync(process.execPath, [
      '-e',
      'process.stdout.write(String(process.pid))',
    ]).stdout.toString();
    writeFileSync(`${path}.lock`, `${hostname()} ${gone}\n`);
    const running = load(dir, { lockWaitMs: 20 });
    running.remember(bob, 'bob', BOB);
    expect(Object.keys(onDisk(dir))).toEqual([bob]);
    // Another machine's lock (a shared home) from 11 s ago.
    writeFileSync(`${path}.lock`, 'elsewhere 1\n');
    const old = (Date.now() - 11_000) / 1000;
    utimesSync(`${path}.lock`, old, old);
    running.remember(carol, 'carol', CAROL);
    expect(Object.keys(onDisk(dir)).sort()).toEqual([bob, carol]);
    expect(existsSync(`${path}.lock`)).toBe(false);
  });
});

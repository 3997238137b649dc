/**
 * What strangers can make the known peers cost: a program that lets everyone in meets fresh keys
 * without end. The list keeps at most MAX_UNMARKED_PEERS keys the person never verified nor
 * renamed, and sightings are saved within a budget (SIGHTING_SAVES: each save writes the whole
 * file), with what waits saved by a timer, with the next save, or as the process exits.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyChange, type KnownPeerEntry, MAX_UNMARKED_PEERS } from '../src/node/known-peers-file.js';
import { KnownPeers } from '../src/index.js';

const key = (i: number) => i.toString(16).padStart(64, '0');
const homes: string[] = [];
const newHome = () => {
  const home = mkdtempSync(join(tmpdir(), 'netchat-known-bounds-'));
  homes.push(home);
  return home;
};
afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});
const keysInFile = (home: string) =>
  (
    JSON.parse(readFileSync(join(home, 'known_peers.json'), 'utf8')) as { peers: { publicKey: string }[] }
  ).peers.map((p) => p.publicKey);

describe('known peers against strangers', () => {
  it(`keeps at most ${MAX_UNMARKED_PEERS} unmarked keys, dropping those seen longest ago, never a verified or renamed one`, () => {
    const entries: KnownPeerEntry[] = [];
    const at = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
    const remember = (i: number, when = i) =>
      applyChange(entries, {
        kind: 'remember',
        publicKey: key(i),
        nick: `p${i}`,
        fingerprint: 'F',
        at: at(when),
      });
    remember(0);
    applyChange(entries, { kind: 'verify', publicKey: key(0), at: at(0) });
    remember(1);
    applyChange(entries, { kind: 'rename', publicKey: key(1), nick: 'friend' });
    for (let i = 2; i < 2 + MAX_UNMARKED_PEERS; i++) remember(i);
    remember(2, 5_000); // key 2 is seen again: now the most recent
    expect(entries).toHaveLength(MAX_UNMARKED_PEERS + 2);
    remember(5_000); // one more stranger: the unmarked key seen longest ago (3) goes
    const kept = new Set(entries.map((e) => e.publicKey));
    expect(entries).toHaveLength(MAX_UNMARKED_PEERS + 2);
    expect([
      kept.has(key(0)),
      kept.has(key(1)),
      kept.has(key(2)),
      kept.has(key(3)),
      kept.has(key(5_000)),
    ]).toEqual([true, true, true, false, true]);
    // A list that grew past the limit before (an older netchat) comes within it at the next key.
    for (let i = 0; i < 50; i++)
      entries.push({ publicKey: key(10_000 + i), nick: 'old', fingerprint: 'F', firstSeen: at(0) });
    remember(20_000);
    expect(entries).toHaveLength(MAX_UNMARKED_PEERS + 2);
    expect(entries.some((e) => e.nick === 'old')).toBe(false);
  });

  it('saves sightings within their budget; a person’s own change saves at once and takes them along', () => {
    const home = newHome();
    const peers = KnownPeers.load(home, { sightingSaves: { perSecond: 1 / 60, burst: 1 } });
    peers.remember(key(1), 'one', 'F1');
    expect(keysInFile(home)).toEqual([key(1)]); // the first save goes at once
    peers.remember(key(2), 'two', 'F2');
    peers.remember(key(3), 'three', 'F3');
    expect(keysInFile(home)).toEqual([key(1)]); // these wait for their turn
    expect(peers.check(key(3), 'three')).toMatchObject({ status: 'known' }); // but count here at once
    expect(peers.verify(key(2))).toBe(true);
    expect(keysInFile(home)).toEqual([key(1), key(2), key(3)]);
    peers.remember(key(4), 'four', 'F4');
    expect(keysInFile(home)).toHaveLength(3);
    expect(peers.flush()).toBe(true);
    expect(keysInFile(home)).toEqual([key(1), key(2), key(3), key(4)]);
  });

  it('sightings past the budget are saved by a timer at the next token', async () => {
    const home = newHome();
    const peers = KnownPeers.load(home, { sightingSaves: { perSecond: 20, burst: 1 } });
    peers.remember(key(1), 'one', 'F1');
    peers.remember(key(2), 'two', 'F2');
    expect(keysInFile(home)).toEqual([key(1)]);
    const until = performance.now() + 5_000;
    while (keysInFile(home).length < 2 && performance.now() < until)
      await new Promise((r) => setTimeout(r, 10));
    expect(keysInFile(home)).toEqual([key(1), key(2)]);
  });

  it('sightings that wait are saved as the process exits', () => {
    const home = newHome();
    const script = `
      const { KnownPeers } = await import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)});
      const peers = KnownPeers.load(${JSON.stringify(home)}, { sightingSaves: { perSecond: 1 / 60, burst: 1 } });
      for (let i = 1; i <= 50; i++) peers.remember(i.toString(16).padStart(64, '0'), 'p' + i, 'F');
      process.exit(0);
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      timeout: 20_000,
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(keysInFile(home)).toHaveLength(50);
  });
});

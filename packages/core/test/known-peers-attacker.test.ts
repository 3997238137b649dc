/**
 * The attacker's test for the known peers past their bound: a program that lets everyone in
 * (netchat --yes) already holds MAX_UNMARKED_PEERS strangers' keys and three the person verified
 * or renamed, and strangers with fresh keys keep coming (a check as each asks, a sighting as its
 * chat opens), 100 a second for 3 s. Each save writes the whole file (about 300 KB at the
 * bound). Measured: bytes written, saves, CPU a stranger; asserted: the bytes within the
 * sightings' byte budget, the person's contacts all kept, the list at its bound.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KnownPeers } from '../src/index.js';
import { writeFileAtomically } from '../src/node/home-files.js';
import { SIGHTING_SAVE_BYTES } from '../src/node/known-peers.js';
import {
  applyChange,
  type KnownPeerEntry,
  knownPeersText,
  MAX_UNMARKED_PEERS,
} from '../src/node/known-peers-file.js';

const key = (i: number) => i.toString(16).padStart(64, '0');
const homes: string[] = [];
afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

const STRANGERS = 300;
const EVERY_MS = 10;

describe('known peers: strangers with fresh keys past the bound', () => {
  it(`${STRANGERS} more strangers, 100 a second: the bytes written held to the byte budget, every contact kept`, async () => {
    const home = mkdtempSync(join(tmpdir(), 'netchat-known-attack-'));
    homes.push(home);
    const at = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, 0, i)).toISOString();
    const entries: KnownPeerEntry[] = [];
    const friends = [key(1), key(2), key(3)];
    friends.forEach((k, i) => {
      applyChange(entries, {
        kind: 'remember',
        publicKey: k,
        nick: `friend${i}`,
        fingerprint: 'F',
        at: at(i),
      });
    });
    applyChange(entries, { kind: 'verify', publicKey: key(1), at: at(0) });
    applyChange(entries, { kind: 'verify', publicKey: key(2), at: at(0) });
    applyChange(entries, { kind: 'rename', publicKey: key(3), nick: 'mum' });
    const address = { host: '203.0.113.77', port: 54_321 };
    for (let i = 0; i < MAX_UNMARKED_PEERS; i++)
      applyChange(entries, {
        kind: 'remember',
        publicKey: key(1_000 + i),
        nick: `stranger-${i}`.padEnd(32, 'x'),
        fingerprint: 'ABCD-EFGH-IJKL-MNOP',
        at: at(10 + i),
        address,
      });
    writeFileSync(join(home, 'known_peers.json'), knownPeersText(entries));
    const fileBytes = knownPeersText(entries).length;

    let written = 0;
    let saves = 0;
    const peers = KnownPeers.load(home, {
      writeFile: (path, text) => {
        written += text.length;
        saves++;
        writeFileAtomically(path, text);
      },
    });
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    for (let i = 0; i < STRANGERS; i++) {
      const stranger = key(100_000 + i);
      const nick = `newcomer-${i}`.padEnd(32, 'x');
      expect(peers.check(stranger, nick).status).toBe('new');
      peers.remember(stranger, nick, 'ABCD-EFGH-IJKL-MNOP', { address });
      await new Promise((r) => setTimeout(r, EVERY_MS));
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuMsEach = (cpu.user + cpu.system) / 1000 / STRANGERS;
    const beforeFlush = written;
    expect(peers.flush()).toBe(true);
    console.log(
      `${STRANGERS} strangers in ${seconds.toFixed(1)} s past ${MAX_UNMARKED_PEERS}: ${saves} saves, ` +
        `${(beforeFlush / 1024).toFixed(0)} KiB written (${(beforeFlush / 1024 / seconds).toFixed(0)} KiB/s; ` +
        `a file is ${(fileBytes / 1024).toFixed(0)} KiB), ${((written - beforeFlush) / 1024) | 0} KiB at the flush; ` +
        `CPU ${cpuMsEach.toFixed(2)} ms a stranger`,
    );

    // Written while they came: the budget's burst and its rate for the time, and one save past it.
    const bound = SIGHTING_SAVE_BYTES.burst + SIGHTING_SAVE_BYTES.perSecond * seconds + fileBytes;
    expect(beforeFlush).toBeLessThanOrEqual(bound);
    // The person's contacts are all there; the list at its bound with the newest strangers.
    const file = JSON.parse(readFileSync(join(home, 'known_peers.json'), 'utf8')) as {
      peers: KnownPeerEntry[];
    };
    const kept = new Set(file.peers.map((p) => p.publicKey));
    expect(friends.every((k) => kept.has(k))).toBe(true);
    expect(file.peers).toHaveLength(MAX_UNMARKED_PEERS + friends.length);
    expect(kept.has(key(100_000 + STRANGERS - 1))).toBe(true);
    // What a stranger costs in CPU here (a check, a sighting, a share of the saves): a few ms.
    expect(cpuMsEach).toBeLessThan(20);
  }, 60_000);
});

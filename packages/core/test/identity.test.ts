import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  assessTrust,
  describeTrust,
  fingerprint,
  identityPath,
  KnownPeers,
  loadIdentity,
  netchatHome,
  toHex,
} from '../src/index.js';

/** Every home a test made, removed after it (even when it fails). */
const made: string[] = [];
const home = () => {
  const dir = mkdtempSync(join(tmpdir(), 'netchat-identity-'));
  made.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('identity key file', () => {
  it('is made on first run with mode 0600, and the same key is read back after', () => {
    const dir = join(home(), 'nested', 'netchat');
    const first = loadIdentity(dir);
    expect(first.created).toBe(true);
    expect(statSync(first.path).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const again = loadIdentity(dir);
    expect(again.created).toBe(false);
    expect(toHex(again.keyPair.publicKey)).toBe(toHex(first.keyPair.publicKey));
  });

  it('is refused, with the fix, when others can read it', () => {
    const dir = home();
    const { path } = loadIdentity(dir);
    chmodSync(path, 0o644);
    expect(() => loadIdentity(dir)).toThrow(
      `${path} can be read by others (mode 644); run: chmod 600 ${path}`,
    );
  });

  it('reports a corrupt file clearly', () => {
    const dir = home();
    const path = identityPath(dir);
    writeFileSync(path, 'not json', { mode: 0o600 });
    expect(() => loadIdentity(dir)).toThrow(/is corrupt \(not a netchat key file\)/);
    const { keyPair } = loadIdentity(home());
    writeFileSync(
      path,
      JSON.stringify({ version: 1, publicKey: '00'.repeat(32), secretKey: toHex(keyPair.secretKey) }),
      { mode: 0o600 },
    );
    expect(() => loadIdentity(dir)).toThrow(/its public key does not match its secret key/);
  });

  it('lives in $NETCHAT_HOME, else $XDG_CONFIG_HOME/netchat, else ~/.config/netchat', () => {
    expect(netchatHome({ NETCHAT_HOME: '/a', XDG_CONFIG_HOME: '/b' })).toBe('/a');
    expect(netchatHome({ XDG_CONFIG_HOME: '/b' })).toBe('/b/netchat');
    expect(netchatHome({})).toMatch(/\.config\/netchat$/);
  });
});

describe('known peers (trust on first use)', () => {
  const alice = 'a1'.repeat(32);
  const mallory = 'bad0'.repeat(16);

  it('says a key is new, then known (as whom) once remembered, also after a restart', () => {
    const dir = home();
    const peers = KnownPeers.load(dir);
    expect(peers.check(alice, 'alice')).toEqual({ status: 'new' });
    peers.remember(alice, 'alice', 'AAAA-AAAA-AAAA-AAAA');
    expect(KnownPeers.load(dir).check(alice, 'whoever')).toEqual({ status: 'known', knownAs: 'alice' });
    expect(statSync(join(dir, 'known_peers.json')).mode & 0o777).toBe(0o600);
  });

  it('warns when a new key uses the nick of a known peer', () => {
    const peers = KnownPeers.inMemory();
    peers.remember(alice, 'alice', 'AAAA-AAAA-AAAA-AAAA');
    const trust = peers.check(mallory, 'alice');
    expect(trust).toEqual({ status: 'nick_conflict', knownFingerprint: 'AAAA-AAAA-AAAA-AAAA' });
    const lines = describeTrust('MMMM-MMMM-MMMM-MMMM', 'alice', trust);
    expect(lines[0]).toBe(
      'WARNING: this peer calls itself "alice", but its key is not the key of the alice you know (AAAA-AAAA-AAAA-AAAA). It may be someone else.',
    );
  });

  it('gives the trust decision as data: a level and the facts', () => {
    const peers = KnownPeers.inMemory();
    expect(assessTrust('AAAA-AAAA-AAAA-AAAA', 'alice', peers.check(alice, 'alice'))).toEqual({
      level: 'new',
      fingerprint: 'AAAA-AAAA-AAAA-AAAA',
      nick: 'alice',
    });
    peers.remember(alice, 'alice', 'AAAA-AAAA-AAAA-AAAA');
    expect(assessTrust('AAAA-AAAA-AAAA-AAAA', 'al', peers.check(alice, 'al'))).toMatchObject({
      level: 'known',
      knownAs: 'alice',
    });
    expect(assessTrust('MMMM-MMMM-MMMM-MMMM', 'alice', peers.check(mallory, 'alice'))).toEqual({
      level: 'impersonation',
      fingerprint: 'MMMM-MMMM-MMMM-MMMM',
      nick: 'alice',
      knownFingerprint: 'AAAA-AAAA-AAAA-AAAA',
    });
  });

  it('loads a list written before it kept last address and last seen, and adds them as peers are seen', () => {
    const dir = home();
    const old = {
      version: 1,
      peers: [
        {
          publicKey: alice,
          nick: 'alice',
          fingerprint: 'AAAA-AAAA-AAAA-AAAA',
          firstSeen: '2026-01-01T00:00:00.000Z',
        },
      ],
    };
    writeFileSync(join(dir, 'known_peers.json'), JSON.stringify(old));
    const peers = KnownPeers.load(dir);
    expect(peers.list()).toEqual([
      {
        publicKey: alice,
        nick: 'alice',
        fingerprint: 'AAAA-AAAA-AAAA-AAAA',
        firstSeen: '2026-01-01T00:00:00.000Z',
        lastAddress: undefined,
        lastSeen: undefined,
      },
    ]);
    peers.remember(mallory, 'mallory', 'MMMM-MMMM-MMMM-MMMM', { at: new Date('2026-11-01T10:00:00Z') });
    peers.remember(alice, 'al', 'AAAA-AAAA-AAAA-AAAA', {
      address: { host: '::1', port: 7000 },
      at: new Date('2026-11-24T10:00:00Z'),
    });
    const reloaded = KnownPeers.load(dir).list();
    expect(reloaded.map((p) => [p.nick, p.lastSeen, p.lastAddress])).toEqual([
      ['al', '2026-11-24T10:00:00.000Z', { host: '::1', port: 7000 }],
      ['mallory', '2026-11-01T10:00:00.000Z', undefined],
    ]);
    expect(reloaded[0]?.firstSeen).toBe('2026-01-01T00:00:00.000Z');
    expect(JSON.parse(readFileSync(join(dir, 'known_peers.json'), 'utf8')).version).toBe(1);
  });

  it('reports a corrupt list clearly', () => {
    const dir = home();
    writeFileSync(join(dir, 'known_peers.json'), '{"version":1,"peers":[{"oops":1}]}');
    expect(() => KnownPeers.load(dir)).toThrow(/known_peers.json is corrupt/);
  });
});

describe('fingerprints', () => {
  it('are 80 bits in base32, four groups of four, and differ for different keys', () => {
    const a = fingerprint(new Uint8Array(32).fill(1));
    expect(a).toMatch(/^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$/);
    expect(fingerprint(new Uint8Array(32).fill(2))).not.toBe(a);
    expect(fingerprint(new Uint8Array(32).fill(1))).toBe(a);
  });
});

/** Known peers in a home that cannot be written: the change holds in memory, the failure is told, nothing is thrown. */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileProblem, KnownPeers, type SaveFailure } from '../src/index.js';

const alice = 'a1'.repeat(32);

describe('KnownPeers when the home cannot be written', () => {
  it('remembers in memory, tells each failure to its listeners in a few words, and throws nothing', () => {
    const failing = KnownPeers.load('/nonexistent/netchat-home', {
      writeFile: () => {
        throw Object.assign(new Error("EACCES: permission denied, open '/x'"), { code: 'EACCES' });
      },
    });
    const told: SaveFailure[] = [];
    failing.onSaveFailure((failure) => told.push(failure));
    expect(() => failing.remember(alice, 'alice', 'AAAA-AAAA-AAAA-AAAA')).not.toThrow();
    expect(failing.check(alice, 'alice')).toMatchObject({ status: 'known', knownAs: 'alice' });
    expect(told).toEqual([
      { path: '/nonexistent/netchat-home/known_peers.json', reason: 'permission denied' },
    ]);
    expect(failing.lastSaveFailure).toEqual(told[0]);
  });

  it('a real write that fails (a folder where its temporary file goes, which stops root too) is told, not thrown', () => {
    const home = mkdtempSync(join(tmpdir(), 'netchat-known-peers-'));
    try {
      mkdirSync(join(home, `known_peers.json.${process.pid}.tmp`));
      const peers = KnownPeers.load(home);
      const told: SaveFailure[] = [];
      peers.onSaveFailure((failure) => told.push(failure));
      peers.remember(alice, 'alice', 'AAAA-AAAA-AAAA-AAAA');
      expect(told).toEqual([
        { path: join(home, 'known_peers.json'), reason: 'a folder is where a file should be' },
      ]);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('words file errors for people', () => {
    expect(fileProblem(Object.assign(new Error('x'), { code: 'EROFS' }))).toBe('read-only file system');
    expect(fileProblem(new Error("EWHAT: something odd, open '/a/b'"))).toBe('something odd');
  });
});

describe('KnownPeers: forget, rename, verify', () => {
  const bob = 'b2'.repeat(32);
  const mallory = 'dd'.repeat(32);

  it('verify marks the key: its trust says so, and a new key with its nick is a verified conflict', () => {
    const peers = KnownPeers.inMemory();
    peers.remember(bob, 'bob', 'BBBB-BBBB-BBBB-BBBB');
    peers.remember(mallory, 'mal', 'MMMM-MMMM-MMMM-MMMM');
    expect(peers.check('ee'.repeat(32), 'bob')).toEqual({
      status: 'nick_conflict',
      knownFingerprint: 'BBBB-BBBB-BBBB-BBBB',
    });
    expect(peers.verify(bob, new Date('2026-11-24T10:00:00Z'))).toBe(true);
    expect(peers.check(bob, 'bob')).toEqual({ status: 'known', knownAs: 'bob', verified: true });
    expect(peers.check('ee'.repeat(32), 'bob')).toEqual({
      status: 'nick_conflict',
      knownFingerprint: 'BBBB-BBBB-BBBB-BBBB',
      verified: true,
    });
    expect(peers.list().find((p) => p.publicKey === bob)?.verified).toBe('2026-11-24T10:00:00.000Z');
  });

  it('a new key whose nick differs from a known one only in case, width, spaces or invisible characters is a conflict too', () => {
    const peers = KnownPeers.inMemory();
    peers.remember(bob, 'bob', 'BBBB-BBBB-BBBB-BBBB');
    peers.verify(bob);
    for (const lookalike of ['BOB', 'Bob', 'ｂｏｂ', ' bob ', 'ＢＯＢ', 'bo\u200bb', 'b\u00adob', '\u2060bob', 'bob\u200d'])
      expect(peers.check(mallory, lookalike), lookalike).toEqual({
        status: 'nick_conflict',
        knownFingerprint: 'BBBB-BBBB-BBBB-BBBB',
        verified: true,
      });
    expect(peers.check(mallory, 'bobby')).toEqual({ status: 'new' });
    expect(peers.check(mallory, '')).toEqual({ status: 'new' });
  });

  it('rename gives the peer a name its own nick no longer replaces; forget removes it', () => {
    const peers = KnownPeers.inMemory();
    peers.remember(bob, 'bob', 'BBBB-BBBB-BBBB-BBBB');
    expect(peers.rename(bob, 'Robert at work')).toBe(true);
    peers.remember(bob, 'bob', 'BBBB-BBBB-BBBB-BBBB');
    expect(peers.list()[0]).toMatchObject({ nick: 'Robert at work', named: true });
    expect(peers.forget(bob)).toBe(true);
    expect(peers.check(bob, 'bob')).toEqual({ status: 'new' });
    expect(peers.forget(bob)).toBe(false);
    expect(peers.rename(bob, 'x')).toBe(false);
    expect(peers.verify(bob)).toBe(false);
  });

  it('a renamed peer keeps its own nick: a new key using it is still a conflict (verified: refused), and the nick follows the peer', () => {
    const peers = KnownPeers.inMemory();
    peers.remember(bob, 'bob', 'BBBB-BBBB-BBBB-BBBB');
    peers.verify(bob);
    peers.rename(bob, 'Robert');
    expect(peers.check(mallory, 'bob')).toEqual({
      status: 'nick_conflict',
      knownFingerprint: 'BBBB-BBBB-BBBB-BBBB',
      verified: true,
    });
    expect(peers.list()[0]).toMatchObject({ nick: 'Robert', named: true, peerNick: 'bob' });
    // Renamed again: still the peer's own nick; the peer's new nick replaces it, not the name.
    peers.rename(bob, 'Rob');
    peers.remember(bob, 'bobby', 'BBBB-BBBB-BBBB-BBBB');
    expect(peers.list()[0]).toMatchObject({ nick: 'Rob', peerNick: 'bobby' });
    expect(peers.check(mallory, 'bobby')).toMatchObject({ status: 'nick_conflict', verified: true });
    expect(peers.check(mallory, 'bob')).toEqual({ status: 'new' });
  });

  it('the marks are saved, and a list written before them still loads', () => {
    const home = mkdtempSync(join(tmpdir(), 'netchat-known-peers-'));
    try {
      const peers = KnownPeers.load(home);
      peers.remember(bob, 'bob', 'BBBB-BBBB-BBBB-BBBB');
      peers.verify(bob);
      peers.rename(bob, 'robert');
      expect(KnownPeers.load(home).list()[0]).toMatchObject({
        nick: 'robert',
        named: true,
        verified: expect.any(String),
      });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

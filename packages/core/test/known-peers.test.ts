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

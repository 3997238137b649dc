/**
 * makeFolder (node/make-folder.ts) given the worst paths a user (or a script's NETCHAT_HOME,
 * --accept-files, a history folder) can give it: a symlink loop, a link to nowhere, a file or a
 * device where a folder should be, a path of 4,000 components, one name past the file system's
 * limit, /proc. Each fails at once with the system's error code (the programs print it in one
 * line), and nothing is made on the way: the temp folder holds afterwards exactly what it held.
 * Each test's folders are removed after it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeFolder } from '../src/index.js';

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // 2,000 folders deep (what a failing makeFolder left) overflow rmSync's stack; rm does not.
      spawnSync('rm', ['-rf', dir]);
    }
  }
});
function temporary(): string {
  const dir = mkdtempSync(join(tmpdir(), 'netchat-make-folder-attack-'));
  made.push(dir);
  return dir;
}

/** Every path under `root` (bounded: the tests make a handful at most, or it says how many). */
function everything(root: string): string[] {
  return readdirSync(root, { recursive: true }).map(String).sort();
}

function fails(path: string, code: string): void {
  expect(() => makeFolder(path, 0o700)).toThrow(expect.objectContaining({ code }));
}

describe('makeFolder, attacked', () => {
  it('a symlink loop, as the folder or on the way: ELOOP, nothing made', () => {
    const root = temporary();
    symlinkSync(join(root, 'loop-b'), join(root, 'loop-a'));
    symlinkSync(join(root, 'loop-a'), join(root, 'loop-b'));
    const before = everything(root);
    fails(join(root, 'loop-a'), 'ELOOP');
    fails(join(root, 'loop-a', 'x', 'y'), 'ELOOP');
    expect(everything(root)).toEqual(before);
  });

  it('a link to nowhere, as the folder or on the way: an error, and nothing made where it points', () => {
    const root = temporary();
    const target = join(temporary(), 'target');
    symlinkSync(target, join(root, 'dangling'));
    expect(() => makeFolder(join(root, 'dangling'))).toThrow();
    expect(() => makeFolder(join(root, 'dangling', 'below'))).toThrow();
    expect(existsSync(target)).toBe(false);
    expect(everything(root)).toEqual(['dangling']);
  });

  it.skipIf(!existsSync('/dev/full'))(
    'a device where a folder should be: EEXIST, or ENOTDIR below it',
    () => {
      fails('/dev/full', 'EEXIST');
      fails('/dev/full/x', 'ENOTDIR');
      fails('/dev/null/x/y', 'ENOTDIR');
    },
  );

  it('a path of 4,000 components (8,000 characters, past PATH_MAX): ENAMETOOLONG before any folder is made', () => {
    const root = temporary();
    fails(join(root, ...Array<string>(4_000).fill('a')), 'ENAMETOOLONG');
    fails(join(root, ...Array<string>(4_000).fill('abcdefghijklmnopqrstuvwxyz')), 'ENAMETOOLONG');
    // Made one at a time, the first 2,039 were there before it failed (and Node's recursive
    // rmSync overflows its stack on them).
    expect(everything(root)).toEqual([]);
  });

  it('a name past the file system’s limit (300 characters), at the end or on the way: ENAMETOOLONG, nothing made', () => {
    const root = temporary();
    fails(join(root, 'x'.repeat(300)), 'ENAMETOOLONG');
    fails(join(root, 'x'.repeat(300), 'below'), 'ENAMETOOLONG');
    fails(join(root, 'ok', 'x'.repeat(300), 'below'), 'ENAMETOOLONG');
    expect(everything(root)).toEqual([]);
  });

  it.skipIf(!existsSync('/proc/self'))('under /proc, and /proc/self: ENOENT at once', () => {
    fails(`/proc/netchat-attack-${process.pid}/a/b`, 'ENOENT');
    fails('/proc/self/netchat-attack', 'ENOENT');
    fails('/proc/self/fd/netchat-attack/x', 'ENOENT');
  });
});

/**
 * makeFolder (node/make-folder.ts): `mkdir -p` one folder at a time, because Node 20's recursive
 * mkdir never returns for a path under /proc. Each test's folders are removed after it.
 */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeFolder } from '../src/index.js';

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function temporary(): string {
  const dir = mkdtempSync(join(tmpdir(), 'netchat-make-folder-'));
  made.push(dir);
  return dir;
}

describe('makeFolder', () => {
  it('makes every missing folder, each with the mode asked for; an existing one is left as it is', () => {
    const root = temporary();
    const deep = join(root, 'a', 'b', 'c');
    makeFolder(deep, 0o700);
    for (const dir of [join(root, 'a'), join(root, 'a', 'b'), deep]) {
      expect(statSync(dir).isDirectory()).toBe(true);
      expect(statSync(dir).mode & 0o777).toBe(0o700);
    }
    makeFolder(deep, 0o700);
    makeFolder(root);
    expect(statSync(root).isDirectory()).toBe(true);
  });

  it('a file in the way throws the system error (ENOTDIR, or EEXIST for the folder itself)', () => {
    const root = temporary();
    const file = join(root, 'file');
    writeFileSync(file, 'x');
    expect(() => makeFolder(join(file, 'below'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
    expect(() => makeFolder(file)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
  });

  it.skipIf(!existsSync('/proc/self'))(
    'under /proc: throws at once (Node 20’s recursive mkdir loops for ever there)',
    () => {
      expect(() => makeFolder(`/proc/netchat-test-${process.pid}/a/b`)).toThrow(
        expect.objectContaining({ code: 'ENOENT' }),
      );
    },
  );
});

/**
 * A vitest setup file (`setupFiles: ['@netchat/testkit/vitest-setup']`): each test file gets a
 * temp folder of its own (TMPDIR, inherited by the programs it starts), and when the file ends,
 * whatever it started or made through the testkit is stopped and removed (`cleanUp`). Anything
 * still in its temp folder after that was made behind the testkit's back and never removed: the
 * file fails, naming what was left, and the folder is removed anyway.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { cleanUp } from './clean-up.js';

const outer = process.env.TMPDIR;
const folder = mkdtempSync(join(tmpdir(), 'netchat-test-'));
process.env.TMPDIR = folder;

afterAll(async () => {
  await cleanUp();
  const left = readdirSync(folder);
  rmSync(folder, { recursive: true, force: true });
  if (outer === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = outer;
  if (left.length > 0)
    throw new Error(
      `this test file left ${left.length} entr${left.length === 1 ? 'y' : 'ies'} in the temp folder (${left.join(', ')}): make them with the testkit's temporaryDirectory, or remove them`,
    );
});

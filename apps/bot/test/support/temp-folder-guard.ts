/**
 * vitest's global setup for the bot's tests: they run with a temp folder of their own (TMPDIR,
 * which their workers and the bots they start inherit), and must leave it empty, as every test
 * removes what it made, even when it fails. Anything left fails the run, listed, and is removed.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const folder = mkdtempSync(join(tmpdir(), 'netchat-bot-tests-'));
  const before = process.env.TMPDIR;
  process.env.TMPDIR = folder;
  return () => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    const left = readdirSync(folder);
    rmSync(folder, { recursive: true, force: true });
    if (left.length === 0) return;
    // vitest reports an error thrown here but still exits 0: set the failure ourselves.
    process.exitCode = 1;
    throw new Error(`the bot's tests left ${left.length} entries in the temp folder: ${left.join(', ')}`);
  };
}

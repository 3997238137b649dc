/**
 * vitest's global set-up: the TUI's tests run with a temporary folder of their own (TMPDIR, which
 * the programs they start in tmux inherit too), so that what a test leaves behind is seen. When
 * the run ends, anything left there fails it, by name, and the folder is removed either way
 * (issue 18: each `pnpm test` left about 140 entries in the temporary folder).
 *
 * Not counted: the `netchat-home-*` folders @netchat/testkit's TmuxTerminal makes for every
 * terminal even when the test names a home of its own; they go with this folder.
 */
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MADE_BY_TESTKIT = /^netchat-home-/;

export default function setup(): () => void {
  const folder = mkdtempSync(join(tmpdir(), 'netchat-tui-tests-'));
  // Others may pass through it (not list or write it): a test runs the TUI as another user.
  chmodSync(folder, 0o711);
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = folder;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    const left = readdirSync(folder).filter((name) => !MADE_BY_TESTKIT.test(name));
    rmSync(folder, { recursive: true, force: true });
    if (left.length === 0) return;
    // vitest reports an error thrown here but still exits 0 when every test passed.
    process.exitCode = 1;
    throw new Error(`the TUI's tests left ${left.join(', ')} in the temporary folder`);
  };
}

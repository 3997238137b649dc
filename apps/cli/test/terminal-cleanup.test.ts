/**
 * The test terminals clean up after themselves: closing one ends its tmux server and removes the
 * server's socket file (a killed tmux server leaves it, and every run used to add a few more).
 */
import { existsSync } from 'node:fs';
import { hasTmux, TmuxTerminal } from '@netchat/testkit';
import { describe, expect, it } from 'vitest';

describe.skipIf(!hasTmux)('a test terminal', () => {
  it('removes its tmux socket when closed', () => {
    const terminal = new TmuxTerminal(['true']);
    try {
      expect(existsSync(terminal.socketPath)).toBe(true);
    } finally {
      terminal.close();
    }
    expect(existsSync(terminal.socketPath)).toBe(false);
  });
});

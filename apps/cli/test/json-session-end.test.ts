/**
 * `--json`: a session's `closed` (reason `local`) is its last word. netchat prints it when it
 * closes the chat, while the engine still lingers and sends the disconnect; a peer that went away
 * meanwhile used to be told after it: `heartbeat_sent`, `heartbeat_missed` and `lost` for the
 * session the script had read as closed. Two real programs; the peer is killed (SIGKILL), so it
 * says nothing more.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { NetchatProcess } from './support/netchat-process.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

type Line = { type: string; session?: number; count?: number };

describe('netchat --json after it closed a session', () => {
  it('prints nothing more of that session, though its peer is lost while the close goes on', async () => {
    const args = ['--json', '-y', '--heartbeat-interval', '0.2'];
    const netchat = new NetchatProcess(['0', ...args]);
    cleanup.push(() => netchat.kill());
    const port = await netchat.port();
    const peer = new NetchatProcess(['0', ...args, '--connect', `127.0.0.1:${port}`]);
    cleanup.push(() => peer.kill());
    await netchat.waitForEvent('accepted');
    await peer.waitForEvent('accepted');
    // The peer goes away without a word; netchat misses a heartbeat, then its input ends.
    await peer.kill();
    await netchat.waitForEvent('heartbeat_missed');
    netchat.endInput();
    const code = await netchat.exited;
    expect(code).toBe(0);
    const lines = netchat.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Line);
    const closedAt = lines.findIndex((l) => l.type === 'closed');
    expect(lines[closedAt]).toMatchObject({ type: 'closed', session: 1, reason: 'local' });
    const after = lines.slice(closedAt + 1).filter((l) => l.session === 1);
    // Only a message's fate may still come (none was sent here).
    expect(after.filter((l) => l.type !== 'delivered' && l.type !== 'failed')).toEqual([]);
  });
});

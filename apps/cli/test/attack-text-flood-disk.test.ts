/**
 * The attacker's test for what one stranger's text makes netchat write to disk: `netchat --yes`
 * lets it in, and it sends 1,000-character lines as fast as netchat takes them. Measured: the
 * bytes netchat wrote (from /proc, less what it printed) for each byte received, and what the
 * home holds after. The history file is bounded (256 KiB a peer, rewritten to its newest 192 KiB
 * each time it passes the bound): the home holds at most that, and netchat writes at most about 4
 * bytes for each byte received (the line appended, then the rewrite every 64 KiB).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type EventOf, NetchatPeer } from '@netchat/core';
import { floodText } from '@netchat/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { NetchatProcess } from './support/netchat-process.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const FLOOD_MS = 3000;
const MAX_MESSAGES = 10_000;
const TEXT = 'x'.repeat(1000);

function writtenBytes(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/io`, 'utf8').match(/^wchar: (\d+)/m)?.[1] ?? 0);
}

describe('netchat --yes and a stranger that sends text as fast as it can', () => {
  it(`for ${FLOOD_MS / 1000} s: the history stays within 256 KiB, about 4 bytes written a byte received at most`, async () => {
    const netchat = new NetchatProcess(['0', '--nick', 'victim', '--yes', '--host', '127.0.0.1']);
    cleanup.push(() => netchat.kill());
    const port = await netchat.port();
    await netchat.waitFor('Start chat with?');
    const pid = netchat.child.pid ?? 0;
    const stranger = await NetchatPeer.listen({ port: 0, host: '127.0.0.5', nick: 'flood' });
    cleanup.push(() => stranger.close(100));
    const accepted = new Promise<EventOf<'accepted'>>((resolve) => stranger.once('accepted', resolve));
    await stranger.connect('127.0.0.1', port);
    const session = (await netchat.whileRunning(accepted)).session;
    const written = () => writtenBytes(pid) - Buffer.byteLength(netchat.stdout);
    const before = written();
    const started = performance.now();
    const flood = await floodText(stranger, session, TEXT, { ms: FLOOD_MS, max: MAX_MESSAGES });
    const { sent } = flood;
    const deadline = Date.now() + 30_000;
    while (flood.delivered() < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const delivered = flood.delivered();
    expect(delivered).toBe(sent);
    // Its printing caught up too: the last line is on stdout, so the history has it.
    await netchat.waitFor(TEXT, 30_000, sent);
    const seconds = (performance.now() - started) / 1000;
    const received = delivered * TEXT.length;
    const wrote = written() - before;
    const folder = join(netchat.home, 'history');
    const files = readdirSync(folder);
    const largest = Math.max(...files.map((f) => statSync(join(folder, f)).size));
    console.log(
      `text flood: ${delivered} messages (${received} B) in ${seconds.toFixed(1)} s; netchat wrote ${wrote} B to disk ` +
        `(${(wrote / received).toFixed(2)} B a byte received); the history file ${largest} B`,
    );
    expect(delivered).toBeGreaterThan(500);
    expect(files).toHaveLength(1);
    expect(largest).toBeLessThanOrEqual(256 * 1024 + 2048);
    expect(wrote / received).toBeLessThan(5);
  }, 90_000);
});

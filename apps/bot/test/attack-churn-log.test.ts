/**
 * The attacker's test for the bot under churn: strangers, each a fresh key from an address of
 * its own, connect, say a line and leave, one after another. The bot keeps no file per peer (its
 * home holds its key only); what grows is its log: a few lines a session (request, accept, the
 * message and its echo, delivered, closed), each session's text cut to --log-text. Measured: the
 * log's bytes a stranger, the bot's memory before and after, and its home.
 */
import { readdirSync } from 'node:fs';
import { type EventOf, NetchatPeer } from '@netchat/core';
import { afterEach, describe, expect, it } from 'vitest';
import { BotProcess } from './support/bot-process.js';
import { rssKiB } from './support/victim-measures.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const STRANGERS = 200;
/** Each says a line as long as a paste: the log keeps 200 characters of it. */
const LINE = 'p'.repeat(5000);

async function visit(port: number, index: number): Promise<void> {
  const host = `127.0.${1 + Math.floor(index / 250)}.${1 + (index % 250)}`;
  const stranger = await NetchatPeer.listen({ port: 0, host, nick: `stranger${index}` });
  try {
    const echoed = new Promise<void>((resolve) => stranger.once('message', () => resolve()));
    const accepted = new Promise<EventOf<'accepted'>>((resolve) => stranger.once('accepted', resolve));
    await stranger.connect('127.0.0.1', port);
    stranger.send((await accepted).session, LINE);
    await echoed;
  } finally {
    await stranger.close(200);
  }
}

describe('the bot and a churn of strangers', () => {
  it(`${STRANGERS} strangers with fresh keys, a 5,000-character line each: about 1 KB of log a stranger (10 KB before the cut), nothing kept`, async () => {
    const b = new BotProcess(['0', '--host', '127.0.0.1']);
    cleanup.push(() => b.kill());
    const port = await b.port();
    const pid = b.child.pid ?? 0;
    const logBefore = Buffer.byteLength(b.stdout);
    const rssBefore = rssKiB(pid);
    for (let i = 0; i < STRANGERS; i++) await b.whileRunning(visit(port, i));
    await b.waitForLogs((l) => l.event === 'closed', STRANGERS, 20_000);
    const rssAfter = rssKiB(pid);
    const logBytes = Buffer.byteLength(b.stdout) - logBefore;
    const home = readdirSync(b.home);
    console.log(
      `bot churn: ${STRANGERS} strangers; log ${logBytes} B (${(logBytes / STRANGERS).toFixed(0)} B a stranger, ` +
        `${(logBytes / (STRANGERS * LINE.length)).toFixed(3)} B a byte received); RSS ${rssBefore} -> ${rssAfter} KiB; home: ${home.join(', ')}`,
    );
    // Each text's 200 characters, not its 5,000: the log grows by a session's lines, not its bytes.
    expect(logBytes / STRANGERS).toBeLessThan(3000);
    expect(
      b
        .logs()
        .filter((l) => l.event === 'message_in')
        .every((l) => l.length === LINE.length),
    ).toBe(true);
    // Nothing a peer: the home holds the bot's key alone.
    expect(home.length).toBeLessThanOrEqual(2);
    // The sessions that ended are gone from memory too (allowing for the heap's own growth).
    expect(rssAfter - rssBefore).toBeLessThan(40 * 1024);
  }, 120_000);
});

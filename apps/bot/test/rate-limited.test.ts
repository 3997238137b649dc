/**
 * The rate limit's report, in process: a Bot on loopback with its log in memory, so the report
 * that main.ts runs every 10 s is called here when the test chooses.
 */
import { type EventOf, NetchatPeer, TokenBuckets } from '@netchat/core';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AccessPolicy } from '../src/access-policy.js';
import { Bot } from '../src/bot.js';
import { LogBudget } from '../src/log-budget.js';
import { RulesEngine } from '../src/rules.js';
import type { LogLine } from './support/bot-process.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((f) => f()));
});

async function listen(nick: string): Promise<NetchatPeer> {
  const p = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick });
  cleanup.push(() => p.close(100));
  return p;
}

/** Waits (at most 10 s, checking every 10 ms) until `done()` holds. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let tries = 0; !done(); tries++) {
    if (tries > 1000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A bot answering with an echo at most 3 replies a second per peer, logging into `lines`. */
async function botWithLog() {
  const lines: LogLine[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const peer = await listen('bot');
  const policy = await AccessPolicy.create('all', []);
  const bot = new Bot(peer, RulesEngine.echo(), policy, new TokenBuckets(3, 3), log, {
    maxSessions: 10,
    maxSessionsPerHost: 10,
    limitsLoopback: true,
    maxMessageBytes: peer.options.maxMessageBytes,
    // Every line logged: this test counts them.
    logBudget: new LogBudget({ textChars: 200, linesPerSecond: 1_000_000 }),
  });
  const events = (event: string, peer?: string) =>
    lines.filter((l) => l.event === event && (peer === undefined || l.peer === peer));
  return { bot, port: peer.address.port, events };
}

async function connect(p: NetchatPeer, port: number): Promise<number> {
  const accepted = new Promise<EventOf<'accepted'>>((resolve) => p.once('accepted', resolve));
  await p.connect('127.0.0.1', port);
  return (await accepted).session;
}

describe('replies dropped by --rate', () => {
  it('are counted, and reported as one line per peer per report with how many, not a line each', async () => {
    const { bot, port, events } = await botWithLog();
    const fast = await listen('fast');
    const slow = await listen('slow');
    const [fastSession, slowSession] = [await connect(fast, port), await connect(slow, port)];
    const at = (p: NetchatPeer) => `127.0.0.1:${p.address.port}`;
    for (let i = 0; i < 300; i++) fast.send(fastSession, `f${i}`);
    for (let i = 0; i < 40; i++) slow.send(slowSession, `s${i}`);
    await until(() => events('message_in').length === 340, '340 messages in');
    expect(events('rate_limited')).toEqual([]);

    bot.reportRateLimited();
    const dropped = (p: NetchatPeer, sent: number) => sent - events('reply_out', at(p)).length;
    const [fastDropped, slowDropped] = [dropped(fast, 300), dropped(slow, 40)];
    expect(fastDropped).toBeGreaterThan(250);
    expect(slowDropped).toBeGreaterThan(0);
    expect(events('rate_limited')).toEqual([
      expect.objectContaining({ peer: at(fast), dropped: fastDropped }),
      expect.objectContaining({ peer: at(slow), dropped: slowDropped }),
    ]);

    // A report with nothing new says nothing; the next flood is counted afresh.
    bot.reportRateLimited();
    expect(events('rate_limited')).toHaveLength(2);
    const repliesBefore = events('reply_out', at(fast)).length;
    for (let i = 0; i < 50; i++) fast.send(fastSession, `again ${i}`);
    await until(() => events('message_in').length === 390, '390 messages in');
    const summary = await bot.shutdown(200);
    const again = 50 - (events('reply_out', at(fast)).length - repliesBefore);
    expect(again).toBeGreaterThan(0);
    expect(events('rate_limited').slice(2)).toEqual([
      expect.objectContaining({ peer: at(fast), dropped: again }),
    ]);
    expect(summary.repliesRateLimited).toBe(fastDropped + slowDropped + again);
  });
});

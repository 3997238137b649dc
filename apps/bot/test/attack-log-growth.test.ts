/**
 * The attacker's test for the bot's log: a stranger sends text as fast as the bot takes it, and
 * the test measures what the bot writes to its log (stdout, which journald or a file keeps) for
 * each byte it received. The bot logged each message's whole text (and again in the echoes --rate
 * let through): 23 MB of log for 20 MB received in 1.7 s, so one stranger grew the log at its own
 * send rate, without bound.
 * Now a text is logged cut to --log-text characters (200) with its length, and a peer's message
 * lines are held to --log-rate a second (20, bursts of 20), the rest counted in `log_suppressed`.
 */
import { type EventOf, NetchatPeer } from '@netchat/core';
import { floodText } from '@netchat/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { BotProcess, type LogLine } from './support/bot-process.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** How long the stranger floods: long enough for the budget's burst to be small beside its rate. */
const FLOOD_MS = 4000;
/** At most this many messages (20 MB), so the log the bot wrote without its budget fits in the test's memory. */
const MAX_MESSAGES = 20_000;
/** Each message: 1,000 characters, a clipboard escape (OSC 52), a C1 CSI and a bidi override first. */
const HOSTILE = '\u001b]52;c;cHduZWQ=\u0007\u009b31m\u202e';
const TEXT = HOSTILE + 'x'.repeat(1000 - HOSTILE.length);

describe('a stranger that sends text as fast as it can', () => {
  it(`for ${FLOOD_MS / 1000} s: the bot's log grows by at most --log-rate lines a second, each text cut to 200 characters`, async () => {
    const b = new BotProcess(['0', '--host', '127.0.0.1']);
    cleanup.push(() => b.kill());
    const port = await b.port();
    const stranger = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick: 'flood\u202e\u2067' });
    cleanup.push(() => stranger.close(100));
    const accepted = new Promise<EventOf<'accepted'>>((resolve) => stranger.once('accepted', resolve));
    await stranger.connect('127.0.0.1', port);
    const session = (await accepted).session;
    const logBefore = Buffer.byteLength(b.stdout);
    const {
      sent,
      delivered: acknowledged,
      seconds,
    } = await floodText(stranger, session, TEXT, {
      ms: FLOOD_MS,
      max: MAX_MESSAGES,
    });
    // What the bot had received is what it acknowledged; its log then has every line it will write.
    await b.whileRunning(waitFor(() => acknowledged() >= sent, 30_000));
    const delivered = acknowledged();
    b.kill('SIGTERM');
    await b.exited;
    const logBytes = Buffer.byteLength(b.stdout) - logBefore;
    const receivedBytes = delivered * Buffer.byteLength(TEXT);
    const lines = b.logs();
    const messageLines = lines.filter((l) => l.event === 'message_in');
    const suppressed = lines.filter((l) => l.event === 'log_suppressed');
    const summary = lines.find((l) => l.event === 'summary') as LogLine;
    console.log(
      `log flood: ${delivered} messages (${receivedBytes} B) in ${seconds.toFixed(1)} s; the bot logged ${logBytes} B ` +
        `(${(logBytes / receivedBytes).toFixed(4)} B a byte received), ${messageLines.length} message_in lines, ` +
        `${suppressed.reduce((n, l) => n + Number(l.lines), 0)} lines suppressed`,
    );

    expect(summary.messagesIn).toBe(delivered);
    expect(delivered).toBeGreaterThan(500); // a flood, far past 20 a second
    // Each text logged is its first 200 characters, with the full length, and no control
    // character (the JSON escapes C0 ones; C1 and bidi controls would reach the reader's terminal raw).
    expect(messageLines[0]).toMatchObject({
      text: `\ufffd]52;c;cHduZWQ=\ufffd\ufffd31m\ufffd${'x'.repeat(200 - HOSTILE.length)}`,
      length: 1000,
    });
    expect(b.stdout).not.toMatch(/[\u0080-\u009f\u202a-\u202e\u2066-\u2069]/);
    // Lines about the stranger's messages: the burst, then 20 a second (message_in, reply_out,
    // delivered all count), however fast it sends.
    const budgetLines = 20 + 20 * (seconds + 5);
    const aboutStranger = lines.filter((l) =>
      ['message_in', 'reply_out', 'delivered', 'failed', 'reply_failed'].includes(String(l.event)),
    );
    expect(aboutStranger.length).toBeLessThanOrEqual(budgetLines);
    // The rest are counted, not lost from sight: who, and how many.
    const left = suppressed.reduce((n, l) => n + Number(l.lines), 0);
    expect(left).toBeGreaterThan(delivered);
    expect(suppressed.at(-1)).toMatchObject({ most: { peer: `127.0.0.1:${stranger.address.port}` } });
    // A log line is at most about 1 KB (200 characters, escaped): the log is bounded by the
    // budget, not by the stranger's bytes (it was about 2 bytes a byte received).
    expect(logBytes).toBeLessThan(budgetLines * 1024 + 64 * 1024);
    expect(logBytes / receivedBytes).toBeLessThan(0.1);
  }, 90_000);
});

/** Waits (at most `ms`, checking every 20 ms) until `done()` holds. */
async function waitFor(done: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the messages to be delivered');
    await new Promise((r) => setTimeout(r, 20));
  }
}

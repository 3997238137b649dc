/**
 * The attacker's test for what netchat (the CLI) prints of a stranger's words: a stranger with a
 * nick of bidi and zero-width characters sends texts made of terminal escapes (ESC and CSI, OSC 52
 * that sets the clipboard, OSC 2 that retitles the window, BEL, the same as C1 controls), bidi
 * overrides, a 60,000-character line and 10,000 combining marks on one letter; another declines a
 * request with a detail of bidi overrides. Whatever it sends, no control character but the
 * newline (and no bidi override) reaches the person's terminal: each is shown as U+FFFD; a letter
 * keeps 30 combining marks at most (10,000 can draw over the lines around it in some terminals).
 * Measured: the bytes printed for each byte the stranger sent.
 */
import { NetchatPeer } from '@netchat/core';
import { afterEach, describe, expect, it } from 'vitest';
import { NetchatProcess } from './support/netchat-process.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** What a terminal would act on, not show: C0 but the newline, DEL, C1, and bidi overrides and isolates. */
const TERMINAL_ACTS_ON = /(?!\n)\p{Cc}|[\u202a-\u202e\u2066-\u2069]/u;

const CLIPBOARD = `\u001b]52;c;${Buffer.from('rm -rf ~').toString('base64')}\u0007`;
const HOSTILE_TEXTS = [
  `clipboard ${CLIPBOARD} end`,
  'title \u001b]2;PWNED\u0007 end',
  'title8 \u009d2;PWNED\u009c end',
  'clear \u001b[2J\u001b[H end',
  'clear8 \u009b2J end',
  'bell \u0007\u0007\u0007 end',
  'bidi \u202eevil\u202c \u2067isolate\u2069 end',
  'zero\u200bwidth\u200d\ufeff end',
  'cr \roverwritten end',
  `long ${'L'.repeat(60_000)} end`,
  `zalgo a${'\u0301'.repeat(10_000)} end`,
];

describe('a stranger whose words are terminal escapes', () => {
  it('never reaches the terminal raw: netchat prints each control as U+FFFD, and every text arrives', async () => {
    const stranger = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick: 'm\u202eyrollam\u200b' });
    cleanup.push(() => stranger.close(100));
    // It accepts the victim's request: the session is the stranger's to write in from then on.
    const opened = new Promise<number>((resolve) =>
      stranger.on('request', (e) => {
        stranger.accept(e.session);
        resolve(e.session);
      }),
    );
    const decliner = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick: 'decliner' });
    cleanup.push(() => decliner.close(100));
    decliner.on('request', (e) => decliner.decline(e.session, 'busy', 'no \u202etxt.exe\u202c thanks'));

    const netchat = new NetchatProcess(['0', '--nick', 'victim']);
    cleanup.push(() => netchat.kill());
    await netchat.port();
    await netchat.waitFor('Start chat with?');
    netchat.type(`127.0.0.1 ${decliner.address.port}`);
    await netchat.waitFor(/declined/i);
    await netchat.waitFor('Start chat with?', 10_000, 2);
    netchat.type(`127.0.0.1 ${stranger.address.port}`);
    const session = await netchat.whileRunning(opened);
    await netchat.waitFor('Connected');
    const printedBefore = Buffer.byteLength(netchat.stdout);
    let sentBytes = 0;
    for (const text of HOSTILE_TEXTS) {
      stranger.send(session, text);
      sentBytes += Buffer.byteLength(text);
    }
    await netchat.waitFor(/zalgo a\u0301+ end/, 20_000);
    const printed = Buffer.byteLength(netchat.stdout) - printedBefore;
    console.log(
      `hostile texts: ${sentBytes} B sent, netchat printed ${printed} B (${(printed / sentBytes).toFixed(2)} B a byte sent)`,
    );

    const out = netchat.stdout;
    const raw = TERMINAL_ACTS_ON.exec(out);
    expect(
      raw,
      `raw U+${raw?.[0].codePointAt(0)?.toString(16)} at ${raw?.index}: ${JSON.stringify(out.slice((raw?.index ?? 0) - 40, (raw?.index ?? 0) + 40))}`,
    ).toBeNull();
    // Each text arrived, shown with its controls replaced, nothing else of it lost.
    expect(out).toContain('clipboard \ufffd]52;c;cm0gLXJmIH4=\ufffd end');
    expect(out).toContain('title \ufffd]2;PWNED\ufffd end');
    expect(out).toContain('title8 \ufffd2;PWNED\ufffd end');
    expect(out).toContain('clear8 \ufffd2J end');
    expect(out).toContain('bell \ufffd\ufffd\ufffd end');
    expect(out).toContain('bidi \ufffdevil\ufffd \ufffdisolate\ufffd end');
    expect(out).toContain(`long ${'L'.repeat(60_000)} end`);
    // The letter keeps 30 of its 10,000 combining marks (Unicode's stream-safe limit), no more.
    expect(out).toContain(`zalgo a${'\u0301'.repeat(30)} end`);
    // The decliner's detail and the stranger's nick, bidi overrides and all, made safe too.
    expect(out).toContain('no \ufffdtxt.exe\ufffd thanks');
    expect(out).toContain('m\ufffdyrollam');
    // What is printed is about what was sent: no text is shown twice or blown up.
    expect(printed).toBeLessThan(sentBytes * 1.5 + 4096);
  }, 60_000);
});

/**
 * The attacker's test for netchat (the CLI) as a stranger runs it: 200 strangers (real keys,
 * each from a port of its own) ask to chat while the person is at the start prompt. netchat asks
 * about the first and declines the rest `busy`; it must stay up, keep its memory, and let the
 * person go on: answer the first, then chat with a friend (another loopback address). Measured:
 * its RSS before and after, and the bytes it prints per stranger (the first three declines are
 * lines on the person's terminal, the rest one count said when the person is free again).
 */
import { readFileSync } from 'node:fs';
import { NetchatPeer } from '@netchat/core';
import { afterEach, describe, expect, it } from 'vitest';
import { NetchatProcess } from './support/netchat-process.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function rssKiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return Number(line?.[1] ?? 0);
}

const STRANGERS = 200;

describe('netchat asked to chat by 200 strangers at once', () => {
  it('declines them busy, keeps its memory, and the person still answers and chats with a friend', async () => {
    const netchat = new NetchatProcess(['0', '--nick', 'target']);
    cleanup.push(() => netchat.kill());
    const port = await netchat.port();
    await netchat.waitFor('Start chat with?');
    const pid = netchat.child.pid ?? 0;
    const before = rssKiB(pid);
    const printedBefore = netchat.stdout.length;

    const strangers: NetchatPeer[] = [];
    cleanup.push(() => Promise.all(strangers.map((s) => s.close(0))));
    const answered: Promise<unknown>[] = [];
    let declined = 0;
    let allDeclined: () => void = () => {};
    const declinedAll = new Promise<void>((resolve) => {
      allDeclined = resolve;
    });
    for (let i = 0; i < STRANGERS; i++) {
      const s = await NetchatPeer.listen({ port: 0, host: '127.0.0.3', nick: `stranger${i}` });
      strangers.push(s);
      answered.push(
        new Promise((resolve) => {
          s.once('declined', (e) => {
            if (++declined === STRANGERS - 1) allDeclined();
            resolve(e);
          });
          s.once('accepted', resolve);
          s.once('no_answer', resolve);
        }),
      );
      await s.connect('127.0.0.1', port);
    }
    // All but the one asked about are declined at once (`busy`): the first three said, the rest
    // counted, and their number said once the person is free again.
    await netchat.whileRunning(
      Promise.race([
        declinedAll,
        new Promise((_, reject) => setTimeout(() => reject(new Error(`${declined} declined`)), 30_000)),
      ]),
    );
    await netchat.waitFor(': busy.', 10_000, 3);
    expect(netchat.stdout.split(': busy.').length - 1).toBe(3);
    expect(netchat.stdout).toContain('More connection requests are being declined while you are busy');
    const printed = netchat.stdout.length - printedBefore;
    // A line a stranger was 72 bytes (14 KB for 200); now a few lines in all, however many come.
    expect(printed).toBeLessThan(2_000);
    const after = rssKiB(pid);

    // The person declines the first, and asks a friend.
    netchat.type('n');
    await netchat.waitFor('Start chat with?', 10_000, 2);
    expect(netchat.stdout).toContain(`Declined ${STRANGERS - 1 - 3} more connection requests while busy.`);
    const friend = await NetchatPeer.listen({ port: 0, host: '127.0.0.2', nick: 'friend' });
    cleanup.push(() => friend.close(100));
    friend.on('request', (e) => friend.accept(e.session));
    const heard = new Promise<string>((resolve) => friend.on('message', (e) => resolve(e.text)));
    netchat.type(`127.0.0.2 ${friend.address.port}`);
    await netchat.waitFor('friend', 10_000);
    netchat.type('hello after the flood');
    expect(await netchat.whileRunning(heard)).toBe('hello after the flood');
    await Promise.all(
      answered.map((a) => netchat.whileRunning(Promise.race([a, new Promise((r) => setTimeout(r, 10_000))]))),
    );
    console.log(
      `request flood: ${STRANGERS} strangers; netchat printed ${printed} B (${(printed / STRANGERS).toFixed(0)} B a stranger); ` +
        `RSS ${before} KiB before, ${after} KiB after`,
    );
    expect(after - before).toBeLessThan(30 * 1024);
    expect(netchat.child.exitCode).toBe(null);
    expect(netchat.stderr).toBe('');
  }, 120_000);
});

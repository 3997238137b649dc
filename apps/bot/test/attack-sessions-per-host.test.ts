/**
 * The attacker's test for the bot's sessions: --max-sessions bounds them in all, and core's
 * limits bound a stranger's sessions per address (4) and its requests waiting per host, but the
 * bot answers every request at once, so nothing waits: one stranger with one IP and a port for
 * each session (or an address of its IPv6 /64 for each) held every session the bot may have, and
 * everyone else was declined `too_many_sessions` for as long as it kept them (idle sessions cost
 * it a heartbeat every 25 s). Now one host (core's `requestHost`: an IPv4 address, an IPv6 /64, a
 * relayed peer as itself) holds at most --max-sessions-per-host (by default a tenth of
 * --max-sessions).
 *
 * Against the real process on loopback: the stranger asks from 127.0.0.1 with a socket for each
 * session, then an honest peer asks from 127.0.0.2. Measured: the stranger's sessions accepted,
 * and the honest peer's answer. Loopback peers are on the bot's own machine, which the default
 * spares (a load test of the operator's holds every session from 127.0.0.1), so the stranger's
 * test sets the default's value explicitly, which applies to every host.
 */
import { type EventOf, NetchatPeer } from '@netchat/core';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultSessionsPerHost } from '../src/arguments.js';
import { BotProcess } from './support/bot-process.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const MAX_SESSIONS = 20;
/** The stranger's sockets, each asking for one session. */
const STRANGER_SESSIONS = MAX_SESSIONS;

/** A peer on `host` asks the bot at `port`; resolves with how the bot answered. */
async function ask(host: string, port: number): Promise<'accepted' | string> {
  const peer = await NetchatPeer.listen({ port: 0, host, nick: 'asker' });
  cleanup.push(() => peer.close(100));
  const answer = new Promise<string>((resolve) => {
    peer.once('accepted', () => resolve('accepted'));
    peer.once('declined', (e: EventOf<'declined'>) => resolve(e.reason));
  });
  await peer.connect('127.0.0.1', port);
  return Promise.race([
    answer,
    new Promise<string>((resolve) => setTimeout(() => resolve('no answer in 10 s'), 10_000)),
  ]);
}

describe('one host asking for every session the bot may have', () => {
  it(`${STRANGER_SESSIONS} sessions from one IP, --max-sessions ${MAX_SESSIONS}: at most a tenth taken, and an honest peer from another host is accepted`, async () => {
    const perHost = String(defaultSessionsPerHost(MAX_SESSIONS));
    const b = new BotProcess([
      '0',
      '--host',
      '127.0.0.1',
      '--max-sessions',
      String(MAX_SESSIONS),
      '--max-sessions-per-host',
      perHost,
    ]);
    cleanup.push(() => b.kill());
    const port = await b.port();
    const answers: string[] = [];
    // One after the other: each is answered before the next asks (as a patient stranger would).
    for (let i = 0; i < STRANGER_SESSIONS; i++) answers.push(await ask('127.0.0.1', port));
    const taken = answers.filter((a) => a === 'accepted').length;
    const honest = await ask('127.0.0.2', port);
    console.log(
      `one host: ${taken} of ${STRANGER_SESSIONS} sessions accepted (${answers.filter((a) => a === 'too_many_sessions').length} declined too_many_sessions); ` +
        `an honest peer from another host: ${honest}`,
    );
    expect(taken).toBeLessThanOrEqual(MAX_SESSIONS / 10);
    expect(taken).toBeGreaterThan(0);
    expect(honest).toBe('accepted');
  }, 60_000);

  it("without --max-sessions-per-host the bot's own machine is spared: every session from loopback is taken", async () => {
    const b = new BotProcess(['0', '--host', '127.0.0.1', '--max-sessions', String(MAX_SESSIONS)]);
    cleanup.push(() => b.kill());
    const port = await b.port();
    const answers: string[] = [];
    for (let i = 0; i < MAX_SESSIONS; i++) answers.push(await ask('127.0.0.1', port));
    expect(answers.filter((a) => a === 'accepted')).toHaveLength(MAX_SESSIONS);
  }, 60_000);

  it('on its default dual-stack socket, one host asking from its IPv4 address and from its IPv4-mapped form is one host', async () => {
    // The bot's '::' socket sees every IPv4 peer as ::ffff:a.b.c.d; the limit must count it as a.b.c.d.
    const b = new BotProcess(['0', '--max-sessions', String(MAX_SESSIONS), '--max-sessions-per-host', '2']);
    cleanup.push(() => b.kill());
    const port = await b.port();
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push(await ask(i % 2 === 0 ? '127.0.0.3' : '::ffff:127.0.0.3', port));
    const honest = await ask('127.0.0.4', port);
    console.log(`one host in two forms on a dual-stack bot: ${answers.join(', ')}; another host: ${honest}`);
    expect(answers.filter((a) => a === 'accepted')).toHaveLength(2);
    expect(answers.filter((a) => a === 'too_many_sessions')).toHaveLength(4);
    expect(honest).toBe('accepted');
  }, 60_000);
});

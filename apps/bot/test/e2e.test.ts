import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EventOf, fingerprint, type NetchatEventType, NetchatPeer } from '@netchat/core';
import { afterEach, describe, expect, it } from 'vitest';
import { BotProcess } from './support/bot-process.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((f) => f()));
});

/** A bot on port 0: the system picks a free port, and the bot logs it (`listening`). */
function bot(...args: string[]): BotProcess {
  const process = new BotProcess(['0', '--host', '127.0.0.1', ...args]);
  cleanup.push(() => process.kill());
  return process;
}

async function peer(nick = 'tester'): Promise<NetchatPeer> {
  const p = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', nick });
  cleanup.push(() => p.close(100));
  return p;
}

function next<T extends NetchatEventType>(p: NetchatPeer, type: T, ms = 10_000): Promise<EventOf<T>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} within ${ms} ms`)), ms);
    p.once(type as 'message', (e) => {
      clearTimeout(timer);
      resolve(e as EventOf<T>);
    });
  });
}

/** Collects the next `count` messages a peer receives. */
function messages(p: NetchatPeer, count: number, ms = 10_000): Promise<string[]> {
  const texts: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`only ${texts.length} of ${count} messages: ${texts}`)),
      ms,
    );
    p.on('message', (e) => {
      texts.push(e.text);
      if (texts.length === count) {
        clearTimeout(timer);
        resolve(texts);
      }
    });
  });
}

async function connect(p: NetchatPeer, port: number): Promise<number> {
  const accepted = next(p, 'accepted');
  await p.connect('127.0.0.1', port);
  return (await accepted).session;
}

/** A rules file in a folder of its own, removed after the test (pass or fail). */
const rulesFile = (rules: object) => {
  const dir = mkdtempSync(join(tmpdir(), 'netchat-bot-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'rules.json');
  writeFileSync(path, JSON.stringify(rules));
  return path;
};

describe('netchat-bot with real peers on loopback', () => {
  it('greets, answers by its rules in order, and logs every step as JSON', async () => {
    const b = bot(
      '--rules',
      rulesFile({
        greeting: 'hello {nick}, I am a bot',
        rules: [
          { match: '^ping$', reply: 'pong' },
          { match: '^say (.+)$', flags: 'i', reply: 'you said $1' },
        ],
        fallback: 'echo: {text} from {peer}',
      }),
    );
    const port = await b.port();
    const p = await peer('ana');
    const received = messages(p, 4);
    const session = await connect(p, port);
    for (const text of ['ping', 'SAY it loud', 'other']) p.send(session, text);
    expect(await received).toEqual([
      'hello ana, I am a bot',
      'pong',
      'you said it loud',
      `echo: other from 127.0.0.1:${p.address.port}`,
    ]);
    const logs = await b.waitForLogs((l) => l.event === 'delivered', 4);
    // It says who it is, and logs who asked, by fingerprint.
    expect(b.logs()[0]?.fingerprint).toMatch(/^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$/);
    expect(b.logs().find((l) => l.event === 'request')?.fingerprint).toMatch(/^[A-Z2-7]{4}-/);
    expect(logs.every((l) => l.peer === `127.0.0.1:${p.address.port}`)).toBe(true);
    const events = new Set(b.logs().map((l) => l.event));
    for (const event of ['request', 'accept', 'message_in', 'reply_out', 'delivered'])
      expect(events).toContain(event);
  });

  it("calls a peer without a nick by its fingerprint's first group, never an empty name", async () => {
    const port = await bot(
      '--rules',
      rulesFile({ greeting: 'hello {nick}, I am a bot', fallback: '{nick} said {text}' }),
    ).port();
    const p = await peer('');
    const received = messages(p, 2);
    p.send(await connect(p, port), 'hi');
    const group = fingerprint(p.publicKey).slice(0, 4);
    expect(await received).toEqual([`hello ${group}, I am a bot`, `${group} said hi`]);
  });

  it('is called netchat-bot and the start of its fingerprint, so two bots differ; --nick still wins', async () => {
    const bots = [bot(), bot(), bot('--nick', 'helper')];
    const ports = await Promise.all(bots.map((b) => b.port()));
    const p = await peer();
    const nicks: string[] = [];
    for (const port of ports) {
      const accepted = next(p, 'accepted');
      await p.connect('127.0.0.1', port);
      nicks.push((await accepted).nick);
    }
    const [first = '', second = ''] = bots.map((b) => String(b.logs()[0]?.fingerprint));
    expect(nicks).toEqual([
      `netchat-bot-${first.slice(0, 4)}`,
      `netchat-bot-${second.slice(0, 4)}`,
      'helper',
    ]);
    expect(nicks[0]).not.toBe(nicks[1]);
    expect(bots.map((b) => b.logs()[0]?.nick)).toEqual(nicks);
  });

  it('echoes every message without a rules file', async () => {
    const port = await bot().port();
    const p = await peer();
    const received = messages(p, 2);
    const session = await connect(p, port);
    p.send(session, 'one');
    p.send(session, 'two ✓');
    expect(await received).toEqual(['echo: one', 'echo: two ✓']);
  });

  it('declines a peer not on the allow list, with a reason, and accepts one on it', async () => {
    const allowed = await peer();
    const b = bot('--allow', `127.0.0.1:${allowed.address.port}`);
    const port = await b.port();
    const stranger = await peer();
    const declined = next(stranger, 'declined');
    await stranger.connect('127.0.0.1', port);
    expect(await declined).toMatchObject({ reason: 'not_allowed', detail: 'not on the allow list' });
    await connect(allowed, port);
    await b.waitForLogs((l) => l.event === 'decline' && l.peer === `127.0.0.1:${stranger.address.port}`);
  });

  it('declines with too_many_sessions past --max-sessions', async () => {
    const port = await bot('--max-sessions', '1').port();
    await connect(await peer(), port);
    const second = await peer();
    const declined = next(second, 'declined');
    await second.connect('127.0.0.1', port);
    expect(await declined).toMatchObject({ reason: 'too_many_sessions' });
  });

  it('limits replies per peer to --rate a second, and counts what it dropped instead of a line each', async () => {
    // Every message's lines logged (--log-rate past the 200 at once): this test counts them.
    const b = bot('--rate', '3', '--log-rate', '1000');
    const port = await b.port();
    const p = await peer();
    const session = await connect(p, port);
    // A fast script: 200 lines at once, far over 3 a second.
    for (let i = 0; i < 200; i++) p.send(session, `m${i}`);
    await b.waitForLogs((l) => l.event === 'message_in', 200);
    const replies = () => b.logs().filter((l) => l.event === 'reply_out').length;
    expect(replies()).toBeGreaterThanOrEqual(3);
    expect(replies()).toBeLessThan(20);
    b.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    // Nothing was reported before the 10 s report; at exit, one line with the count.
    const reports = b.logs().filter((l) => l.event === 'rate_limited');
    expect(reports).toEqual([
      expect.objectContaining({ peer: `127.0.0.1:${p.address.port}`, dropped: 200 - replies() }),
    ]);
    const summary = b.logs().find((l) => l.event === 'summary');
    expect(summary).toMatchObject({
      messagesIn: 200,
      messagesOut: replies(),
      repliesRateLimited: 200 - replies(),
    });
  });

  it('serves 100 concurrent peers, each with its own correct replies', async () => {
    const port = await bot().port();
    const peers = await Promise.all(Array.from({ length: 100 }, (_, i) => peer(`p${i}`)));
    const replies = await Promise.all(
      peers.map(async (p, i) => {
        const received = messages(p, 2, 20_000);
        const session = await connect(p, port);
        p.send(session, `I am ${i}`);
        p.send(session, `bye from ${i}`);
        return received;
      }),
    );
    for (const [i, texts] of replies.entries())
      expect(texts).toEqual([`echo: I am ${i}`, `echo: bye from ${i}`]);
  });

  it('on SIGTERM tells every peer the session closed, logs a summary, and exits 0 within 2 s', async () => {
    const b = bot();
    const port = await b.port();
    const peers = await Promise.all([peer(), peer(), peer()]);
    for (const p of peers) {
      const received = messages(p, 1);
      p.send(await connect(p, port), 'hi');
      await received;
    }
    const closed = peers.map((p) => next(p, 'closed', 3_000));
    const start = Date.now();
    b.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    expect(Date.now() - start).toBeLessThan(2_000);
    await Promise.all(closed);
    const [summary] = await b.waitForLogs((l) => l.event === 'summary');
    expect(summary).toMatchObject({ sessionsServed: 3, messagesIn: 3, messagesOut: 3 });
    // The security counters are in the log too.
    expect(summary?.security).toMatchObject({ forged: 0, replayed: 0, handshakesCompleted: 3 });
  });

  it('connects to peers itself with --connect, and greets them', async () => {
    const p = await peer('target');
    p.on('request', (e) => p.accept(e.session));
    const greeted = next(p, 'message');
    const b = bot(
      '--connect',
      `127.0.0.1:${p.address.port}`,
      '--rules',
      rulesFile({ greeting: 'hi {nick}, bot here' }),
    );
    expect((await greeted).text).toBe('hi target, bot here');
    // The log says the peer took the request, not only that it was asked.
    const [connected] = await b.waitForLogs((l) => l.event === 'connected');
    expect(connected).toMatchObject({
      peer: `127.0.0.1:${p.address.port}`,
      nick: 'target',
      fingerprint: fingerprint(p.publicKey),
    });
  });
});

describe('bad start-up input', () => {
  it.each([
    [['--rules', '/nonexistent/rules.json'], /^netchat-bot: cannot read rules file/],
    [['--accept', 'some'], /^netchat-bot: --accept must be all, none or allow/],
    [['--rate', '0'], /^netchat-bot: --rate must be more than 0/],
    [['--log-level', 'loud'], /^netchat-bot: --log-level must be one of/],
    [['--allow', '1.2.3.4:0'], /^netchat-bot: --allow "0" in "1.2.3.4:0" is not a port/],
    [['--allow', '256.1.1.1'], /^netchat-bot: --allow "256\.1\.1\.1" is not an IPv4 address/],
    [
      ['--connect', '256.1.1.1:6666'],
      /^netchat-bot: --connect: invalid address "256\.1\.1\.1:6666": "256\.1\.1\.1" is not an IPv4 address \(four numbers, each 0-255\) \(see 'netchat-bot --help'\)\n$/,
    ],
  ])('%j exits 2 with one line', async (args, message) => {
    const b = bot(...args);
    expect(await b.exited).toBe(2);
    expect(b.stderr).toMatch(message);
    expect(b.stderr.trim().split('\n')).toHaveLength(1);
    expect(b.stdout).toBe('');
  });

  it.each([
    [{ rules: [{ match: '[', reply: 'x' }] }, /: "match" in rule 1 is not a valid regular expression \(/],
    [{ greting: 'hi' }, /: unknown key "greting" at the top level \(did you mean "greeting"\?\)$/],
  ])('a rules file with a mistake: one line saying where and what to fix, exit 2', async (rules, message) => {
    const path = rulesFile(rules);
    const b = bot('--rules', path);
    expect(await b.exited).toBe(2);
    expect(b.stderr.trimEnd()).toMatch(new RegExp(`^netchat-bot: rules file ${path}${message.source}`));
    expect(b.stderr.trim().split('\n')).toHaveLength(1);
    expect(b.stdout).toBe('');
  });
});

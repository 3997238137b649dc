/**
 * A netchat peer in Python, written from PROTOCOL.md alone (packages/core/test/interop-py), against
 * the real programs over UDP on 127.0.0.1: it checks the document's vectors with its own code,
 * then makes the Noise XX handshake, opens a session, sends a text, takes one back, answers
 * heartbeats and closes cleanly, as initiator and as responder, with netchat and netchat-bot.
 * CI installs python3 and python3-cryptography (.ci/run), so there it always runs; on a machine
 * without them (README's test command on a fresh clone) it is skipped with a message, as the
 * TUI's tmux tests are without tmux.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ProgramProcess } from '@netchat/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { NetchatProcess } from './support/netchat-process.js';

const dir = fileURLToPath(new URL('../../../packages/core/test/interop-py/', import.meta.url));
const protocol = fileURLToPath(new URL('../../../PROTOCOL.md', import.meta.url));
const bot = fileURLToPath(new URL('../../bot/dist/main.js', import.meta.url));

type PyEvent = Record<string, unknown> & { type: string };

/** The Python program as a child process (-B: it leaves no __pycache__ in the repository). */
class Python {
  static readonly running = new Set<Python>();
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<number | null>;
  stdout = '';
  stderr = '';

  constructor(script: string, args: string[]) {
    this.child = spawn('python3', ['-B', `${dir}${script}`, ...args], { stdio: 'pipe' });
    Python.running.add(this);
    this.child.stdout.setEncoding('utf8').on('data', (c: string) => {
      this.stdout += c;
    });
    this.child.stderr.setEncoding('utf8').on('data', (c: string) => {
      this.stderr += c;
    });
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code) => {
        Python.running.delete(this);
        resolve(code);
      }),
    );
  }

  events(): PyEvent[] {
    return this.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as PyEvent);
  }

  /** Waits (at most `ms`) for an event of this type; fails with what it printed otherwise. */
  async event(type: string, ms = 10_000): Promise<PyEvent> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.events().find((e) => e.type === type);
      if (found) return found;
      if (this.child.exitCode !== null || Date.now() > deadline)
        throw new Error(`no ${type} event from the python peer\n${this.stdout}\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async port(): Promise<number> {
    return Number((await this.event('listening')).port);
  }
}

afterEach(async () => {
  const left = [...Python.running];
  for (const p of left) p.child.kill('SIGKILL');
  await Promise.all(left.map((p) => p.exited));
  await ProgramProcess.stopAll();
});

// Heartbeats every 200 ms, so a few come in a second; a miss limit of 10 so that a stall of the
// loaded machine (not the peer) cannot lose the peer: 2.1 s of silence would.
const quick = ['--heartbeat-interval', '0.2', '--miss-limit', '10'];

/** The bot, whose log is one JSON object a line; its port is in its `listening` line. */
class Bot extends ProgramProcess {
  constructor(args: string[]) {
    super(bot, ['0', '--host', '127.0.0.1', ...quick, ...args]);
  }

  waitForLog(event: string, ms = 10_000): Promise<void> {
    return this.until(() => this.logs().some((l) => l.event === event), `a ${event} log line`, ms);
  }

  logs(): Record<string, unknown>[] {
    return this.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line));
  }

  async port(): Promise<number> {
    await this.waitForLog('listening');
    return Number(this.logs().find((l) => l.event === 'listening')?.port);
  }
}

const cliArgs = ['0', '--host', '127.0.0.1', '--json', ...quick];
// Bounded: the peer gives up (exit 1) after this many seconds.
const peerArgs = ['--heartbeat-ms', '200', '--heartbeats', '3', '--timeout', '20'];

/** What a clean run of the python peer printed: the text it took, heartbeats it answered, a clean close. */
async function expectCleanRun(py: Python, received: string, how: 'closed' | 'peer_closed') {
  expect(await py.exited, py.stdout + py.stderr).toBe(0);
  const events = py.events();
  expect(events.filter((e) => e.type === 'text').map((e) => e.text)).toEqual([received]);
  expect(events.some((e) => e.type === 'delivered')).toBe(true);
  const closed = events.find((e) => e.type === 'closed');
  expect(closed?.how).toBe(how);
  expect(Number(closed?.heartbeats_answered)).toBeGreaterThanOrEqual(3);
  expect(closed?.dropped).toBe(0);
}

/**
 * The python peer (with `args`) connects to netchat (-y), sends its text and expects "hello from
 * node", which netchat types once the chat opens; the peer closes once it has both.
 */
async function pythonAsks(args: string[]): Promise<{ py: Python; cli: NetchatProcess }> {
  const cli = new NetchatProcess([...cliArgs, '-y']);
  const py = new Python('peer.py', [
    ...peerArgs,
    ...['--connect', `127.0.0.1:${await cli.port()}`, '--expect', 'hello from node'],
    ...args,
  ]);
  await cli.whileRunning(cli.waitForEvent('accepted'));
  cli.type('hello from node');
  await cli.whileRunning(cli.waitFor('"type":"closed"', 20_000));
  await expectCleanRun(py, 'hello from node', 'closed');
  return { py, cli };
}

/**
 * netchat connects to the python peer (with `args`) and types "hi python", which the peer
 * expects; once the peer has what it waits for, netchat's input ends: the chat closes with every
 * message delivered, so netchat exits 0, and the peer saw the close.
 */
async function netchatAsks(args: string[]): Promise<{ py: Python; cli: NetchatProcess }> {
  const py = new Python('peer.py', [...peerArgs, '--wait-close', '--expect', 'hi python', ...args]);
  const cli = new NetchatProcess([...cliArgs, '--connect', `127.0.0.1:${await py.port()}`]);
  await cli.whileRunning(cli.waitForEvent('accepted'));
  cli.type('hi python');
  await py.event('goals_met', 20_000);
  cli.endInput();
  expect(await cli.exited, cli.stdout + cli.stderr).toBe(0);
  await expectCleanRun(py, 'hi python', 'peer_closed');
  return { py, cli };
}

const hasPython = spawnSync('python3', ['-c', 'import cryptography']).status === 0;
if (!hasPython)
  console.warn('interop-python.test.ts skipped: python3 with its cryptography package is not installed');

describe.skipIf(!hasPython)('a python peer written from PROTOCOL.md', () => {
  it("checks the document's crypto, packet and session-message vectors with its own code", async () => {
    const py = new Python('vectors.py', [protocol]);
    expect(await py.exited, py.stdout + py.stderr).toBe(0);
    const result = await py.event('vectors');
    expect(result.failures).toEqual([]);
    // Every block of each kind it knows was read: none was missed by its parser.
    const text = readFileSync(protocol, 'utf8');
    const count = (kind: string) => text.split(`\n\`\`\`${kind}\n`).length - 1;
    const kinds = ['crypto', 'packet-invalid', 'vector', 'invalid', 'stream-ack'];
    expect(result.checked).toEqual(Object.fromEntries(kinds.map((k) => [k, count(k)])));
    for (const k of kinds) expect(count(k)).toBeGreaterThan(0);
  });

  it('connects to netchat, chats both ways, answers heartbeats and closes', async () => {
    const { cli } = await pythonAsks(['--send', 'hello from python ✓']);
    const events = cli.events();
    expect(events.find((e) => e.type === 'message')?.text).toBe('hello from python ✓');
    expect(events.find((e) => e.type === 'closed')?.reason).toBe('peer_closed');
    expect(events.some((e) => e.type === 'delivered')).toBe(true);
  });

  it('takes a connection from netchat, chats both ways, and answers its close', async () => {
    const { cli } = await netchatAsks(['--send', 'hi node']);
    expect(cli.events().find((e) => e.type === 'message')?.text).toBe('hi node');
  });

  it('goes on through losses, a new key, a new port, and what netchat must drop or answer', async () => {
    const { py, cli } = await pythonAsks([
      '--send',
      'once',
      // The final, a text each way: lost once each, sent again by their resends.
      ...['--lose', 'final', '--lose', 'text_out', '--lose', 'text_in'],
      '--rekey-after',
      '6',
      '--extras',
      protocol,
      '--roam',
    ]);
    const seen = py.events().map((e) => e.type);
    for (const type of ['rekeyed', 'path_response', 'roamed', 'extras_sent'])
      expect(seen, py.stdout).toContain(type);
    // A heartbeat for a session netchat does not have is answered with disconnect, and a
    // disconnect with disconnect_ack (Messages for unknown sessions).
    const answers = py.events().filter((e) => e.type === 'answered_unknown');
    expect(answers.map((e) => e.answer).sort()).toEqual(['disconnect', 'disconnect_ack']);
    const events = cli.events();
    // The text arrived once, though sent twice; the session ended at the port the peer moved to.
    expect(events.filter((e) => e.type === 'message').map((e) => e.text)).toEqual(['once']);
    const roaming = py.events().find((e) => e.type === 'roaming');
    expect(events.find((e) => e.type === 'closed')).toMatchObject({
      reason: 'peer_closed',
      peer: `127.0.0.1:${roaming?.port}`,
    });
  });

  it('asks netchat for a cookie, loses its response, and netchat still connects; epochs and replays', async () => {
    const { py, cli } = await netchatAsks([
      '--cookie',
      // Sealed in epochs from two below to two above, and around the replay window's edge: the
      // peer fails (exit 1) unless netchat answers exactly those the document says it takes.
      '--epochs',
      ...['--lose', 'response', '--lose', 'text_in'],
      '--send',
      'hi node',
    ]);
    expect(py.events().filter((e) => e.type === 'cookie_reply')).toHaveLength(1);
    expect(py.events().find((e) => e.type === 'epochs')?.wrong).toEqual([]);
    expect(cli.events().find((e) => e.type === 'message')?.text).toBe('hi node');
  });

  it.each([
    ['wins', '4294967295'],
    ['loses', '0'],
  ])(
    'asks netchat at the moment netchat asks it, and %s on session ids (simultaneous open)',
    async (how, id) => {
      const { py, cli } = await netchatAsks(['--simultaneous', '--session-id', id, '--send', 'crossed']);
      const crossing = py.events().find((e) => e.type === 'crossing_request');
      expect(crossing?.ours).toBe(Number(id));
      // The larger id wins: netchat accepts ours (it adopts it), or we accept its own.
      expect(py.events().some((e) => e.type === 'accepted')).toBe(how === 'wins');
      expect(cli.events().filter((e) => e.type === 'accepted')).toHaveLength(1);
      expect(cli.events().find((e) => e.type === 'message')?.text).toBe('crossed');
    },
  );

  it('restarts (same key, same port): netchat ends the old session and takes the new request', async () => {
    const cli = new NetchatProcess([...cliArgs, '-y']);
    const py = new Python('peer.py', [
      ...peerArgs,
      '--connect',
      `127.0.0.1:${await cli.port()}`,
      '--send',
      'before and after',
      '--restart',
    ]);
    expect(await py.exited, py.stdout + py.stderr).toBe(0);
    await cli.whileRunning(cli.waitFor('"type":"closed"', 10_000, 2));
    const closed = cli.events().filter((e) => e.type === 'closed');
    expect(closed.map((e) => [e.session, e.reason])).toEqual([
      [1, 'peer_restarted'],
      [2, 'peer_closed'],
    ]);
    const texts = cli.events().filter((e) => e.type === 'message');
    expect(texts.map((e) => [e.session, e.text])).toEqual([
      [1, 'before and after'],
      [2, 'before and after'],
    ]);
  });

  it('is declined by netchat, and declined the same again while netchat drains the request', async () => {
    const cli = new NetchatProcess(cliArgs);
    const py = new Python('peer.py', [
      ...peerArgs,
      '--connect',
      `127.0.0.1:${await cli.port()}`,
      '--expect-decline',
      'declined',
    ]);
    await cli.whileRunning(cli.waitForEvent('request'));
    cli.type('n');
    expect(await py.exited, py.stdout + py.stderr).toBe(0);
    const declines = py.events().filter((e) => e.type === 'declined');
    expect(declines.map((e) => e.reason)).toEqual(['declined', 'declined']);
  });

  it('connects to netchat-bot and gets its echo', async () => {
    const b = new Bot([]);
    const py = new Python('peer.py', [
      ...peerArgs,
      '--connect',
      `127.0.0.1:${await b.port()}`,
      '--send',
      'ping',
      '--expect',
      'echo: ping',
    ]);
    await expectCleanRun(py, 'echo: ping', 'closed');
    await b.whileRunning(b.waitForLog('closed'));
    expect(b.logs().find((l) => l.event === 'message_in')?.text).toBe('ping');
    expect(await b.kill('SIGTERM')).toBe(0);
  });

  it("is declined by a bot that takes no one (not_allowed), the same for the request's resend", async () => {
    const b = new Bot(['--accept', 'none']);
    const py = new Python('peer.py', [
      ...peerArgs,
      '--connect',
      `127.0.0.1:${await b.port()}`,
      '--expect-decline',
      'not_allowed',
    ]);
    expect(await py.exited, py.stdout + py.stderr).toBe(0);
    expect(py.events().filter((e) => e.type === 'declined')).toHaveLength(2);
    expect(await b.kill('SIGTERM')).toBe(0);
  });

  it('as the requester, has its heartbeats answered by a rendezvous bot that leaves its own out', async () => {
    const b = new Bot(['--rendezvous']);
    const py = new Python('peer.py', [
      ...['--heartbeat-ms', '200', '--heartbeats', '0', '--hold', '10', '--timeout', '20'],
      ...['--connect', `127.0.0.1:${await b.port()}`, '--send', 'x', '--expect', 'echo: x'],
    ]);
    expect(await py.exited, py.stdout + py.stderr).toBe(0);
    const closed = py.events().find((e) => e.type === 'closed');
    expect(closed?.how).toBe('closed');
    // Every heartbeat of ours answered with an ack (the last may still be on its way; one more
    // acknowledges the text); the bot's own heartbeats left out for the intervals ours arrived in
    // (Answered intervals), so far fewer than ours.
    expect(Number(closed?.acks)).toBeGreaterThanOrEqual(Number(closed?.heartbeats_sent) - 1);
    expect(Number(closed?.heartbeats_answered)).toBeLessThanOrEqual(Number(closed?.heartbeats_sent) / 2);
    expect(await b.kill('SIGTERM')).toBe(0);
  });

  it('takes a connection from netchat-bot and gets its echo', async () => {
    const py = new Python('peer.py', [...peerArgs, '--send', 'pong', '--expect', 'echo: pong']);
    const b = new Bot(['--connect', `127.0.0.1:${await py.port()}`]);
    await expectCleanRun(py, 'echo: pong', 'closed');
    await b.whileRunning(b.waitForLog('closed'));
    expect(b.logs().find((l) => l.event === 'message_in')?.text).toBe('pong');
    expect(await b.kill('SIGTERM')).toBe(0);
  });
});

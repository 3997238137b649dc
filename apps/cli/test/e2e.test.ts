import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshHome, hasIpv6Loopback, hasTmux, TmuxTerminal } from '@netchat/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { NetchatProcess } from './support/netchat-process.js';

const running: NetchatProcess[] = [];
function netchat(...args: string[]): NetchatProcess {
  return netchatAt({}, ...args);
}
/** With its netchat home (and so its key) chosen by the test. */
function netchatAt(env: Record<string, string>, ...args: string[]): NetchatProcess {
  const process = new NetchatProcess(args, env);
  running.push(process);
  return process;
}
afterEach(() => {
  for (const p of running.splice(0)) p.kill();
});

/** The fingerprint a program reported in its `listening` event (--json). */
const fromA0 = (p: NetchatProcess) => p.events()[0]?.fingerprint;

/** netchat on port 0 (the system picks a free one), and the port it reports at start. */
async function started(...args: string[]): Promise<[NetchatProcess, number]> {
  const p = netchat('0', ...args);
  return [p, await p.port()];
}

/** A UDP socket that never answers: a peer that is not there. `asked` resolves when a datagram comes. */
async function silentPort(): Promise<number> {
  return (await silentPeer()).port;
}
async function silentPeer(): Promise<{ port: number; asked: Promise<void> }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  silent.push(socket);
  const asked = new Promise<void>((resolve) => socket.once('message', () => resolve()));
  return { port: socket.address().port, asked };
}
const silent: dgram.Socket[] = [];
afterEach(() => {
  for (const s of silent.splice(0)) s.close();
});

describe('two netchat processes chatting', () => {
  it('follows the original flow: request, accept, chat both ways, exit', async () => {
    const [a, portA] = await started('--nick', 'alice');
    const [b, portB] = await started('--nick', 'bob');
    // Where we are, first: the port the system picked, and what to tell a friend.
    expect(a.stdout).toMatch(
      new RegExp(String.raw`^Listening on UDP port ${portA}\. Others can reach you at: .+ ${portA}
Your fingerprint: [A-Z2-7]{4}(-[A-Z2-7]{4}){3}
`),
    );
    await a.waitFor('Start chat with? (IP Port): ');
    await b.waitFor('Start chat with? (IP Port): ');
    a.type(`127.0.0.1 ${portB}`);
    await b.waitFor(`[127.0.0.1:${portA}] Accept connection? (y/n): `);
    // Who is asking, with the fingerprint of the key the handshake verified (new: never seen).
    expect(b.stdout).toMatch(
      new RegExp(
        String.raw`Connection request from: 127\.0\.0\.1 ${portA}\nNick: alice\nFingerprint: [A-Z2-7]{4}(-[A-Z2-7]{4}){3} \(new: this key has not been seen before\)\n`,
      ),
    );
    b.type('y');
    await a.waitFor(`Connected to 127.0.0.1 ${portB} (bob).`);
    await a.waitFor(`[127.0.0.1:${portB}] Your message: `);
    a.type('hello bob');
    await b.waitFor(`[127.0.0.1:${portA}] alice: hello bob`);
    b.type('hi alice ✓');
    await a.waitFor(`[127.0.0.1:${portB}] bob: hi alice ✓`);
    a.type('exit');
    await a.waitFor('Closing session with peer...');
    await b.waitFor('Peer closed the session.');
    await a.waitFor('Start chat with? (IP Port): ', 5_000, 2);
    await b.waitFor('Start chat with? (IP Port): ', 5_000, 2);
    a.type('exit');
    expect(await a.exited).toBe(0);
    b.endInput();
    expect(await b.exited).toBe(0);
  });

  it('prints JSON events, sends piped lines after the session opens, and exits once they are delivered', async () => {
    const [b, portB] = await started('--json', '--yes', '--nick', 'bob');
    const [a, portA] = await started('--json', '--connect', `127.0.0.1:${portB}`);
    for (const line of ['one', 'two', 'three']) a.type(line);
    a.endInput();
    expect(await a.exited).toBe(0);
    await b.waitFor('"type":"closed"');
    const fromB = b.events();
    expect(fromB.map((e) => e.type)).toEqual([
      'listening',
      'request',
      'accepted',
      'message',
      'message',
      'message',
      'closed',
    ]);
    expect(fromB[0]).toMatchObject({
      port: portB,
      fingerprint: expect.stringMatching(/^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$/),
    });
    expect(fromB.filter((e) => e.type === 'message').map((e) => e.text)).toEqual(['one', 'two', 'three']);
    // This side accepted: the same fields as the asker's `accepted`.
    expect(fromB[2]).toMatchObject({ type: 'accepted', peer: `127.0.0.1:${portA}`, fingerprint: fromA0(a) });
    expect(fromB[3]).toMatchObject({ peer: `127.0.0.1:${portA}` });
    const fromA = a.events();
    expect(fromA[1]).toMatchObject({ type: 'accepted', nick: 'bob', peer: `127.0.0.1:${portB}` });
    expect(fromA.filter((e) => e.type === 'delivered')).toHaveLength(3);
    expect(fromA.filter((e) => e.type === 'failed')).toHaveLength(0);
    // This side closed (at the end of input; what is in flight still arrives).
    expect(fromA).toContainEqual({ type: 'closed', session: 1, reason: 'local', peer: `127.0.0.1:${portB}` });
    expect(a.stdout).not.toContain('Start chat with?');
  });

  it('--json: a 200 KB line is a not_sent event with its reason, the others are delivered, and the exit code is 4', async () => {
    const [, portB] = await started('--json', '--yes');
    const [a] = await started('--json', '--connect', `127.0.0.1:${portB}`);
    a.type('first');
    a.type('y'.repeat(200_000));
    a.type('last');
    a.endInput();
    expect(await a.exited).toBe(4);
    const events = a.events();
    expect(events.filter((e) => e.type === 'delivered')).toHaveLength(2);
    expect(events.filter((e) => e.type === 'not_sent')).toEqual([
      expect.objectContaining({
        reason: 'too_large',
        peer: `127.0.0.1:${portB}`,
        text: 'y'.repeat(256),
        truncated: true,
        bytes: 200_000,
      }),
    ]);
    expect(a.stderr).toContain('Not sent: message of 200000 bytes exceeds the maximum of 65536 bytes.');
  });

  it('--json: SIGTERM while the request waits for an answer withdraws it, prints interrupted and cancelled, and exits 143', async () => {
    const nobody = await silentPeer();
    const [a] = await started('--json', '--connect', `127.0.0.1:${nobody.port}`);
    await nobody.asked; // the request is on its way: the program is running its flow
    a.kill('SIGTERM');
    expect(await a.exited).toBe(143);
    expect(a.events().slice(1)).toEqual([
      { type: 'interrupted', signal: 'SIGTERM' },
      expect.objectContaining({
        type: 'cancelled',
        target: `127.0.0.1 ${nobody.port}`,
        peer: `127.0.0.1:${nobody.port}`,
      }),
    ]);
  });

  it('reports a lost peer with the real count of missed heartbeats, once; a script then exits 4', async () => {
    const [b, portB] = await started('--yes', '--heartbeat-interval', '0.2');
    const a = netchat('0', '--verbose', '--heartbeat-interval', '0.2', '--connect', `127.0.0.1:${portB}`);
    await a.waitFor('Connected to');
    await a.waitFor(`Heartbeat sent to 127.0.0.1:${portB}`);
    b.kill('SIGKILL');
    await a.waitFor('Connection lost. Ending session.');
    expect(a.stdout).toContain(
      `Missed 3 heartbeats from 127.0.0.1:${portB}\nConnection lost. Ending session.`,
    );
    expect(a.stdout.split('Missed 3 heartbeats')).toHaveLength(2);
    expect(a.stdout).toContain(`Missed 1 heartbeat from 127.0.0.1:${portB}`);
    expect(await a.exited).toBe(4);
  });

  it('declines a request that arrives during a chat as busy, and tells both people', async () => {
    const [b, portB] = await started('--yes');
    const a = netchat('0', '--connect', `127.0.0.1:${portB}`);
    await a.waitFor('Connected to');
    const [c, portC] = await started('--connect', `127.0.0.1:${portB}`);
    await c.waitFor(`Connection declined by 127.0.0.1 ${portB}: busy (in another chat).`);
    await b.waitFor(`Declined a connection request from 127.0.0.1 ${portC}: busy.`);
    // A script whose chat could not open exits 3.
    expect(await c.exited).toBe(3);
  });

  it('a peer killed and started again on another port is let in again, never declined busy with itself', async () => {
    const home = freshHome();
    const [b, portB] = await started('--yes');
    const a = netchatAt({ NETCHAT_HOME: home }, '0', '--connect', `127.0.0.1:${portB}`);
    await a.waitFor('Connected to');
    a.kill('SIGKILL');
    // The same key (the same home) from a new port, while b still holds the old chat open.
    const again = netchatAt({ NETCHAT_HOME: home }, '0', '--connect', `127.0.0.1:${portB}`);
    await again.waitFor(`Connected to 127.0.0.1 ${portB}`, 20_000);
    await b.waitFor('Connection lost. Ending session.');
    expect(b.stdout).not.toContain('busy');
    expect(again.stdout).not.toContain('declined');
  });

  it('a script that is declined exits 3 and never takes its lines for addresses', async () => {
    const [b, portB] = await started();
    const [c, portC] = await started();
    const a = netchat('0', '--connect', `127.0.0.1:${portB}`);
    a.type(`127.0.0.1 ${portC}`);
    await b.waitFor('Accept connection? (y/n): ');
    b.type('n');
    await a.waitFor(`Connection declined by 127.0.0.1 ${portB}.`);
    expect(await a.exited).toBe(3);
    expect(a.stdout).not.toContain(`Sending connection request to 127.0.0.1 ${portC}`);
    expect(c.stdout).not.toContain('Connection request from');
  });

  it('reports no answer, then prompts again', async () => {
    const nobody = await silentPort();
    const [a] = await started('--connect-timeout', '1');
    a.type(`127.0.0.1 ${nobody}`);
    await a.waitFor(`No answer from 127.0.0.1 ${nobody}.`, 5_000);
    await a.waitFor('Start chat with? (IP Port): ', 5_000, 2);
  });

  it('at the end of piped input sends every line (200 of 10 KB), tells the peer, and exits 0', async () => {
    const [b, portB] = await started('--yes');
    const a = netchat('0', '--connect', `127.0.0.1:${portB}`);
    const line = 'q'.repeat(10_000);
    for (let i = 0; i < 200; i++) a.type(`${i} ${line}`);
    a.endInput();
    expect(await a.exited).toBe(0);
    await b.waitFor('Peer closed the session.', 20_000);
    expect(b.stdout.split(line)).toHaveLength(201);
  });

  it.skipIf(!hasIpv6Loopback)(
    'chats over IPv6 with --connect [::1]:PORT (skipped where ::1 is missing)',
    async () => {
      const [b, portB] = await started('--yes', '--host', '::1');
      const [a, portA] = await started('--host', '::1', '--connect', `[::1]:${portB}`);
      await a.waitFor(`Connected to ::1 ${portB}.`);
      // An IPv6 address is bracketed once, in the prompt and before the peer's lines.
      await a.waitFor(`[::1]:${portB} Your message: `);
      a.type('over v6');
      await b.waitFor(`[::1]:${portA} over v6`);
      expect(a.stdout + b.stdout).not.toContain('[[');
    },
  );

  it('closes the session on Ctrl-C (SIGINT) so the peer hears it; a script stopped before its input ended exits 130', async () => {
    const [b, portB] = await started('--yes');
    const a = netchat('0', '--connect', `127.0.0.1:${portB}`);
    await a.waitFor('Connected to');
    a.kill('SIGINT');
    expect(await a.exited).toBe(130);
    await b.waitFor('Peer closed the session.');
  });

  it('shows escape sequences from a peer harmlessly', async () => {
    const [b, portB] = await started('--yes');
    const a = netchat('0', '--connect', `127.0.0.1:${portB}`);
    await a.waitFor('Connected to');
    a.type('\u001b[2Jcleared?');
    await b.waitFor('[2Jcleared?');
    expect(b.stdout).not.toContain('\u001b');
  });
});

describe('netchat contacts and netchat history', () => {
  it('read the home without a socket: the contacts a chat left, its history, and exit 1 for no such peer', async () => {
    const home = freshHome();
    const [b, portB] = await started('--yes', '--nick', 'bob');
    const a = netchatAt({ NETCHAT_HOME: home }, '0', '--connect', `127.0.0.1:${portB}`);
    a.type('    kept as typed');
    a.endInput();
    expect(await a.exited).toBe(0);
    await b.waitFor('kept as typed');
    const contacts = netchatAt({ NETCHAT_HOME: home }, 'contacts');
    expect(await contacts.exited).toBe(0);
    expect(contacts.stdout).toMatch(
      new RegExp(`^bob  [A-Z2-7]{4}(-[A-Z2-7]{4}){3}  127\\.0\\.0\\.1 ${portB}  last seen `),
    );
    const history = netchatAt({ NETCHAT_HOME: home }, 'history', 'bob');
    expect(await history.exited).toBe(0);
    expect(history.stdout).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d {2}you: {5}kept as typed\n$/);
    const nobody = netchatAt({ NETCHAT_HOME: home }, 'history', 'nobody');
    expect(await nobody.exited).toBe(1);
    expect(nobody.stderr).toBe('netchat: no known peer is called "nobody" (see netchat contacts)\n');
  });
});

describe('identity', () => {
  it("--fingerprint prints your key's fingerprint, the same every run", async () => {
    const home = freshHome();
    const first = netchatAt({ NETCHAT_HOME: home }, '--fingerprint');
    expect(await first.exited).toBe(0);
    expect(first.stdout).toMatch(
      /^Your fingerprint: [A-Z2-7]{4}(-[A-Z2-7]{4}){3}\nKey file: .*identity\.key\n$/,
    );
    const again = netchatAt({ NETCHAT_HOME: home }, '--fingerprint');
    await again.exited;
    expect(again.stdout).toBe(first.stdout);
  });

  it('warns loudly when a new key comes with the nick of a peer you know', async () => {
    const [b, portB] = await started('--yes');
    const alice = netchat('0', '--nick', 'alice', '--connect', `127.0.0.1:${portB}`);
    await alice.waitFor('Connected to');
    alice.endInput();
    await alice.exited;
    await b.waitFor('Peer closed the session.');
    expect(b.stdout).toContain('(new: this key has not been seen before)');
    // Someone else, with another key, calls itself alice.
    const impostor = netchat('0', '--nick', 'alice', '--connect', `127.0.0.1:${portB}`);
    await b.waitFor(
      'WARNING: this peer calls itself "alice", but its key is not the key of the alice you know',
    );
    impostor.kill();
  });

  it('refuses a key file others can read, saying how to fix it', async () => {
    const home = freshHome();
    const setup = netchatAt({ NETCHAT_HOME: home }, '--fingerprint');
    await setup.exited;
    chmodSync(join(home, 'identity.key'), 0o644);
    const p = netchatAt({ NETCHAT_HOME: home }, '0');
    expect(await p.exited).toBe(1);
    expect(p.stderr.trim()).toMatch(/identity\.key can be read by others \(mode 644\); run: chmod 600 /);
  });
});

/**
 * Runs a program with `folder` mounted read-only, in a mount namespace of its own (root, or a
 * user namespace): a home that cannot be written even by root, which chmod cannot give.
 */
function readOnly(folder: string): string[] | undefined {
  const script = 'mount --bind -o ro "$0" "$0" && exec "$@"';
  for (const flags of [['-m'], ['-r', '-m']]) {
    const probe = spawnSync('unshare', [
      ...flags,
      'sh',
      '-c',
      script,
      folder,
      'sh',
      '-c',
      '! touch "$0/probe" 2>/dev/null',
      folder,
    ]);
    if (probe.status === 0) return ['unshare', ...flags, 'sh', '-c', script, folder];
  }
  return undefined;
}

describe('a netchat home that cannot be written', () => {
  const home = freshHome();
  const wrapper = readOnly(home);

  it.skipIf(!wrapper)(
    'read-only (a bind mount): one warning, the chat goes on both ways, and the peer hears the close',
    async () => {
      const setup = netchatAt({ NETCHAT_HOME: home }, '--fingerprint'); // the key is made before the home turns read-only
      expect(await setup.exited).toBe(0);
      const [b, portB] = await started('--yes', '--nick', 'bob');
      const a = new NetchatProcess(
        ['0', '--connect', `127.0.0.1:${portB}`],
        { NETCHAT_HOME: home },
        { wrapper },
      );
      running.push(a);
      await a.waitFor(`Connected to 127.0.0.1 ${portB} (bob).`);
      await a.waitFor(
        `Could not save the known peers (${join(home, 'known_peers.json')}: read-only file system): the chat goes on`,
      );
      a.type('sent all the same');
      await b.waitFor('sent all the same');
      b.type('and answered');
      await a.waitFor('bob: and answered');
      a.endInput();
      expect(await a.exited).toBe(0);
      await b.waitFor('Peer closed the session.');
      expect(a.stderr).toBe('');
      expect(a.stdout.match(/Could not save/g)).toHaveLength(1);
      expect(existsSync(join(home, 'known_peers.json'))).toBe(false);
    },
  );
});

describe('bad input', () => {
  it.each([
    [['65536'], /^netchat: port must be a port number \(0-65535; 0 picks a free one\)/],
    [['5555', '--miss-limit', 'many'], /^netchat: --miss-limit must be a whole number/],
    [
      ['5555', '--connect', 'nowhere'],
      /^netchat: --connect: invalid address "nowhere": .* no known peer is called "nowhere" either \(see 'netchat --help'\)\n$/,
    ],
    [
      ['5555', '--connect', '256.1.1.1:5'],
      /^netchat: --connect: invalid address "256.1.1.1:5": "256.1.1.1" is not an IPv4 .*\(see 'netchat --help'\)\n$/,
    ],
    [['5555', '--bogus'], /^netchat: unknown option --bogus \(see 'netchat --help'\)\n/],
    [
      ['5555', '--heartbeat-interval', '-1'],
      /^netchat: --heartbeat-interval needs a value \(for a value that starts/,
    ],
    [
      ['5555', '--rendezvous', 'nowhere'],
      /^netchat: --rendezvous: invalid address "nowhere": .*\(the rendezvous peer HOST:PORT\) \(see 'netchat --help'\)\n$/,
    ],
    [[], /^netchat: port is required/],
  ])('%j exits 2 with one line', async (args, message) => {
    const p = netchat(...args);
    expect(await p.exited).toBe(2);
    expect(p.stderr).toMatch(message);
    expect(p.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('an invalid settings.json is one line saying what to fix, before anything is printed; exit 1', async () => {
    const home = freshHome();
    writeFileSync(join(home, 'settings.json'), '{"rendezvous": "rv.example.org:3478", "greting": 1}');
    const p = netchatAt({ NETCHAT_HOME: home }, '0');
    expect(await p.exited).toBe(1);
    expect(p.stdout).toBe('');
    expect(p.stderr).toBe(
      `netchat: ${join(home, 'settings.json')} has an unknown setting "greting" (the settings are rendezvous, introductions, history, downloadDir); fix it or move it away\n`,
    );
  });

  it('a netchat home that cannot be made is one line saying what to do; exit 1', async () => {
    const file = join(freshHome(), 'a-file');
    writeFileSync(file, 'not a folder');
    const p = netchatAt({ NETCHAT_HOME: join(file, 'netchat') }, '0');
    expect(await p.exited).toBe(1);
    expect(p.stderr).toBe(
      `netchat: cannot make the netchat home ${join(file, 'netchat')}: a file is where a folder should be; set NETCHAT_HOME to a folder you can write\n`,
    );
  });

  // Node 20's recursive mkdir never returns under /proc (every mkdir there is ENOENT): it hung
  // with no output.
  it.skipIf(!existsSync('/proc/self'))(
    'a netchat home under /proc is one line at once, not a hang; exit 1',
    async () => {
      const home = `/proc/netchat-test-${process.pid}/home`;
      const p = netchatAt({ NETCHAT_HOME: home }, '0');
      expect(await p.exited).toBe(1);
      expect(p.stderr).toMatch(
        new RegExp(
          `^netchat: cannot make the netchat home ${home}: .+; set NETCHAT_HOME to a folder you can write\n$`,
        ),
      );
    },
  );

  it('completion with no shell, or an unknown one, names the shells; exit 2', async () => {
    const none = netchat('completion');
    expect(await none.exited).toBe(2);
    expect(none.stderr).toBe(
      'netchat: completion needs a shell: bash, zsh or fish (e.g. source <(netchat completion bash))\n',
    );
    const fish = netchat('completion', 'fish');
    expect(await fish.exited).toBe(0);
    expect(fish.stdout).toMatch(/^# fish completion for netchat\./);
  });

  it('a port already in use exits 1 with a clear message', async () => {
    const socket = dgram.createSocket('udp6');
    await new Promise<void>((resolve) => socket.bind(0, '::', resolve));
    const p = netchat(String(socket.address().port));
    expect(await p.exited).toBe(1);
    expect(p.stderr.trim()).toBe(
      `netchat: UDP port ${socket.address().port} is already in use (pick another, or 0 for any free port)`,
    );
    socket.close();
  });

  it('a bad address at the prompt gets a message and the prompt again', async () => {
    const a = netchat('0');
    await a.waitFor('Start chat with? (IP Port): ');
    a.type('not an address at all');
    await a.waitFor('invalid address "not an address at all": expected IP and port, e.g. 127.0.0.1 6666');
    a.type('127.0.0.1 99999');
    await a.waitFor('"99999" is not a port (1-65535)');
    await a.waitFor('Start chat with? (IP Port): ', 5_000, 3);
    a.type('exit');
    expect(await a.exited).toBe(0);
  });

  it('--help and --version print and exit 0', async () => {
    const help = netchat('--help');
    expect(await help.exited).toBe(0);
    expect(help.stdout).toContain('Usage: netchat [options] <port>');
    const version = netchat('--version');
    expect(await version.exited).toBe(0);
    expect(version.stdout).toMatch(/^netchat \d+\.\d+\.\d+\n$/);
  });
});

describe.skipIf(!hasTmux)('netchat at a real terminal', () => {
  const bin = fileURLToPath(new URL('../dist/main.js', import.meta.url));
  const terminals: TmuxTerminal[] = [];
  afterEach(() => {
    for (const t of terminals.splice(0)) t.close();
  });
  /** The port netchat reported on the screen. */
  const portShown = (screen: string) => Number(/Listening on UDP port (\d+)\./.exec(screen)?.[1]);

  it('shows an incoming message above the prompt without losing what you were typing', async () => {
    const [b, portB] = await started('--yes');
    const t = new TmuxTerminal([process.execPath, bin, '0']);
    terminals.push(t);
    const portA = portShown(await t.waitFor('Start chat with? (IP Port):'));
    t.type(`127.0.0.1 ${portB}`);
    t.press('Enter');
    await t.waitFor(`[127.0.0.1:${portB}] Your message:`);
    t.type('half a thought');
    // Only once the terminal shows every key typed does the peer's message come in.
    await t.waitFor(`[127.0.0.1:${portB}] Your message: half a thought`);
    b.type('incoming!');
    const lastLine = (screen: string) => screen.trimEnd().split('\n').at(-1);
    const shown = await t.waitUntil(
      (screen) =>
        screen.includes(`[127.0.0.1:${portB}] incoming!`) &&
        lastLine(screen)?.includes('Your message:') === true,
      'the message above the prompt',
    );
    expect(lastLine(shown)).toBe(`[127.0.0.1:${portB}] Your message: half a thought`);
    t.press('Enter');
    await b.waitFor(`[127.0.0.1:${portA}] half a thought`);
    t.press('C-d');
    await t.waitFor('AFTER-EXIT 0');
    await b.waitFor('Peer closed the session.');
  });

  it('asks again after a bad answer to a request, then chats', async () => {
    const t = new TmuxTerminal([process.execPath, bin, '0']);
    terminals.push(t);
    const portA = portShown(await t.waitFor('Start chat with? (IP Port):'));
    const [b, portB] = await started('--connect', `127.0.0.1:${portA}`);
    await t.waitFor(`[127.0.0.1:${portB}] Accept connection? (y/n):`);
    t.type('maybe');
    t.press('Enter');
    await t.waitFor('Please answer y or n.');
    t.type('y');
    t.press('Enter');
    await b.waitFor('Connected to');
    t.press('C-c');
    await t.waitFor('AFTER-EXIT 0');
  });

  it('keeps a draft that wraps over several rows intact when messages arrive; Ctrl-C clears it, then quits', async () => {
    const [b, portB] = await started('--yes');
    const t = new TmuxTerminal([process.execPath, bin, '0']);
    terminals.push(t);
    await t.waitFor('Start chat with? (IP Port):');
    t.type(`127.0.0.1 ${portB}`);
    t.press('Enter');
    await t.waitFor(`[127.0.0.1:${portB}] Your message:`);
    const draft = `${'d'.repeat(120)} end`;
    t.type(draft);
    for (const word of ['one', 'two', 'three']) {
      b.type(`message ${word}`);
      await t.waitFor(`[127.0.0.1:${portB}] message ${word}`);
    }
    const rows = (await t.waitFor('message three')).trimEnd().split('\n');
    // The prompt and the draft, wrapped at the terminal's 80 columns.
    const full = `[127.0.0.1:${portB}] Your message: ${draft}`;
    expect(rows.slice(-5)).toEqual([
      `[127.0.0.1:${portB}] message one`,
      `[127.0.0.1:${portB}] message two`,
      `[127.0.0.1:${portB}] message three`,
      full.slice(0, 80),
      full.slice(80),
    ]);
    t.press('C-c');
    await t.waitFor('end^C');
    expect(t.screen().trimEnd().split('\n').at(-1)).toBe(`[127.0.0.1:${portB}] Your message:`);
    t.press('C-c');
    await t.waitFor('AFTER-EXIT 0');
    await b.waitFor('Peer closed the session.');
  });

  it('sets a half-typed address aside for the y/n question and gives it back at its prompt', async () => {
    const t = new TmuxTerminal([process.execPath, bin, '0']);
    terminals.push(t);
    const portA = portShown(await t.waitFor('Start chat with? (IP Port):'));
    t.type('127.0.0.1 12');
    const [b, portB] = await started('--connect', `127.0.0.1:${portA}`);
    const asked = await t.waitFor(`[127.0.0.1:${portB}] Accept connection? (y/n):`);
    expect(asked.trimEnd().split('\n').at(-1)).toBe(`[127.0.0.1:${portB}] Accept connection? (y/n):`);
    t.type('n');
    t.press('Enter');
    await b.waitFor(`Connection declined by 127.0.0.1 ${portA}.`);
    await t.waitFor('Start chat with? (IP Port): 127.0.0.1 12');
    t.press('C-c', 'C-c');
    await t.waitFor('AFTER-EXIT 0');
  });
});

/**
 * The CLI's chat flow in-process: real Endpoints on a virtual network and virtual time, a console
 * that records what a person would see. No child processes, no sleeps.
 */
import { ChatHistory, type TrustStore, texts } from '@netchat/client';
import { KnownPeers } from '@netchat/core';
import { settle, temporaryDirectory, VirtualNetwork, type VirtualPeer } from '@netchat/testkit';
import { describe, expect, it } from 'vitest';
import { ChatFlow, EXIT, type FlowConsole, type FlowOptions } from '../src/chat-flow.js';
import { BUSY_DECLINES_SAID } from '../src/flow-view.js';
import type { LocalEvent } from '../src/json-events.js';
import { MAX_LINE_BYTES } from '../src/line-cap.js';

/** What a person sees: lines (warnings marked "! "), and the prompt now showing. */
class RecordingConsole implements FlowConsole {
  readonly lines: string[] = [];
  readonly events: LocalEvent[] = [];
  /** What the person has half typed (a terminal's draft). */
  draft = '';
  hasDraft(): boolean {
    return this.draft !== '';
  }
  prompt_: string | undefined;
  readonly prompts: string[] = [];
  paused = false;
  timesPaused = 0;
  say(line: string): void {
    this.lines.push(line);
  }
  warn(line: string): void {
    this.lines.push(`! ${line}`);
  }
  prompt(text: string): void {
    this.prompt_ = text;
    this.prompts.push(text);
  }
  hidePrompt(): void {
    this.prompt_ = undefined;
  }
  pauseInput(): void {
    this.paused = true;
    this.timesPaused++;
  }
  resumeInput(): void {
    this.paused = false;
  }
  event(event: LocalEvent): void {
    this.events.push(event);
  }
  text(): string {
    return this.lines.join('\n');
  }
}

interface Program {
  peer: VirtualPeer;
  console: RecordingConsole;
  flow: ChatFlow;
  exitCode: number | undefined;
}

function program(
  peer: VirtualPeer,
  options: Partial<FlowOptions> = {},
  trustStore: TrustStore = peer.knownPeers,
): Program {
  const console = new RecordingConsole();
  const p: Program = { peer, console, exitCode: undefined } as Program;
  p.flow = new ChatFlow(
    peer,
    console,
    { yes: false, verbose: false, interactive: true, ...options },
    trustStore,
    (code) => {
      p.exitCode = code;
    },
  );
  peer.onEvent((e) => p.flow.client.handle(e));
  p.flow.start();
  return p;
}

function setUp(options = {}) {
  const net = new VirtualNetwork();
  const alice = net.add('127.0.0.1', 1111, { nick: 'alice', ...options });
  const bob = net.add('127.0.0.2', 2222, { nick: 'bob', ...options });
  return { net, alice, bob };
}

/** Types a line and lets the address look-up finish. */
async function type(p: Program, line: string): Promise<void> {
  p.flow.line(line);
  await settle();
}

/** Runs until `p` shows `text` (bounded in virtual time). */
function runUntilSeen(net: VirtualNetwork, p: Program, text: string, ms = 60_000): void {
  if (!net.run(() => p.console.text().includes(text), ms))
    throw new Error(`never saw "${text}"; saw:\n${p.console.text()}`);
}

/** Pipes `lines` into a flow as readline would: only while input is not paused, then end of input. */
function pipe(p: Program, lines: string[]): () => void {
  let next = 0;
  let ended = false;
  return () => {
    while (next < lines.length && !p.console.paused) p.flow.line(lines[next++] as string);
    if (next === lines.length && !ended) {
      ended = true;
      p.flow.endOfInput();
    }
  };
}

/** Runs the network, feeding the pipe as it goes, until the program quits. */
function runPiped(net: VirtualNetwork, p: Program, feed: () => void, ms: number): boolean {
  return net.run(() => {
    feed();
    return p.exitCode !== undefined;
  }, ms);
}

describe('ChatFlow', () => {
  it('runs a whole chat as the original netchat did', async () => {
    const { net, alice, bob } = setUp();
    const a = program(alice);
    const b = program(bob);
    expect(a.console.prompt_).toBe('Start chat with? (IP Port): ');
    await type(a, '127.0.0.2 2222');
    expect(a.console.lines).toContain('Sending connection request to 127.0.0.2 2222...');
    expect(a.console.prompt_).toBeUndefined();
    runUntilSeen(net, b, 'Connection request from: 127.0.0.1 1111');
    expect(b.console.prompt_).toBe('[127.0.0.1:1111] Accept connection? (y/n): ');
    await type(b, 'y');
    runUntilSeen(net, a, 'Connected to 127.0.0.2 2222 (bob).');
    expect(a.console.prompt_).toBe('[127.0.0.2:2222] Your message: ');
    await type(a, 'hello bob');
    runUntilSeen(net, b, '[127.0.0.1:1111] alice: hello bob');
    await type(b, 'exit');
    runUntilSeen(net, a, 'Peer closed the session.');
    expect(a.console.prompt_).toBe('Start chat with? (IP Port): ');
    expect(b.console.prompt_).toBe('Start chat with? (IP Port): ');
  });

  it("shows the peer's nick change as a line, and its later messages under the new nick; typing is not shown", async () => {
    const { net, alice, bob } = setUp();
    const a = program(alice);
    const b = program(bob);
    await type(a, '127.0.0.2 2222');
    runUntilSeen(net, b, 'Connection request from: 127.0.0.1 1111');
    await type(b, 'y');
    runUntilSeen(net, a, 'Connected to 127.0.0.2 2222 (bob).');
    const before = a.console.lines.length;
    b.flow.client.setNick('robert');
    runUntilSeen(net, a, 'bob is now known as robert');
    expect(a.console.lines.slice(before)).toEqual(['bob is now known as robert']);

    const conversation = b.flow.client.conversations[0];
    if (!conversation) throw new Error('no conversation');
    expect(b.flow.client.notifyTyping(conversation)).toBe(true);
    net.runFor(100);
    b.flow.client.stopTyping(conversation);
    net.runFor(100);
    expect(alice.events.filter((e) => e.type === 'presence')).toHaveLength(3);
    expect(a.console.lines.slice(before)).toEqual(['bob is now known as robert']);
    await type(b, 'hi');
    runUntilSeen(net, a, '[127.0.0.2:2222] robert: hi');
    expect(a.console.prompt_).toBe('[127.0.0.2:2222] Your message: ');
  });

  it('shows no prompt while connecting and never re-purposes a line typed then', async () => {
    const { net, alice, bob } = setUp();
    const carol = net.add('127.0.0.3', 3333);
    const a = program(alice);
    const b = program(bob);
    program(carol);
    await type(a, '127.0.0.2 2222');
    await type(a, '127.0.0.3 3333');
    expect(a.console.prompt_).toBeUndefined();
    expect(a.console.lines.at(-1)).toBe(
      '! Not sent: still waiting for 127.0.0.2 2222 to answer. Type "cancel" to stop waiting.',
    );
    runUntilSeen(net, b, 'Connection request from');
    await type(b, 'y');
    runUntilSeen(net, a, 'Connected to');
    net.runFor(5_000);
    expect(b.console.text()).not.toContain('127.0.0.3 3333');
    expect(carol.events).toEqual([]);
  });

  it('cancels a waiting outgoing request', async () => {
    const { net, alice, bob } = setUp();
    const a = program(alice);
    const b = program(bob);
    await type(a, '127.0.0.2 2222');
    runUntilSeen(net, b, 'Connection request from');
    await type(a, 'cancel');
    expect(a.console.lines).toContain('Cancelled the connection request to 127.0.0.2 2222.');
    expect(a.console.prompt_).toBe('Start chat with? (IP Port): ');
    runUntilSeen(net, b, 'The connection request from 127.0.0.1 1111 (alice) was withdrawn.');
    expect(b.console.prompt_).toBe('Start chat with? (IP Port): ');
  });

  it('a script whose connect gets no answer sends nothing anywhere and exits 3', async () => {
    const { net, alice } = setUp({ connectTimeout: 2_000 });
    const carol = net.add('127.0.0.3', 3333);
    const a = program(alice, { connect: { host: '127.0.0.9', port: 9999 }, interactive: false });
    const feed = pipe(a, ['127.0.0.3 3333', 'hello']);
    await settle();
    expect(runPiped(net, a, feed, 60_000)).toBe(true);
    expect(a.exitCode).toBe(EXIT.notConnected);
    expect(a.console.lines).toContain('No answer from 127.0.0.9 9999.');
    expect(a.console.text()).not.toContain('Sending connection request to 127.0.0.3');
    expect(carol.events).toEqual([]);
  });

  it('a script that is declined exits 3, and the decline is worded once', async () => {
    const { net, alice, bob } = setUp();
    const a = program(alice, { connect: bob.address, interactive: false });
    const b = program(bob);
    const feed = pipe(a, ['hello']);
    await settle();
    runUntilSeen(net, b, 'Connection request from');
    await type(b, 'n');
    expect(runPiped(net, a, feed, 60_000)).toBe(true);
    expect(a.exitCode).toBe(EXIT.notConnected);
    expect(a.console.lines).toContain('Connection declined by 127.0.0.2 2222.');
  });

  it('at the end of input, waits until every message is delivered, tells the peer, and exits 0', async () => {
    const { net, alice, bob } = setUp();
    const a = program(alice, { connect: bob.address, interactive: false });
    const b = program(bob, { yes: true });
    const feed = pipe(a, ['one', 'two', 'three']);
    await settle();
    expect(runPiped(net, a, feed, 60_000)).toBe(true);
    expect(a.exitCode).toBe(EXIT.ok);
    expect(a.flow.client.unsettled()).toEqual([]);
    runUntilSeen(net, b, 'Peer closed the session.');
    expect(b.console.lines.filter((l) => l.startsWith('[127.0.0.1:1111]'))).toEqual([
      '[127.0.0.1:1111] alice: one',
      '[127.0.0.1:1111] alice: two',
      '[127.0.0.1:1111] alice: three',
    ]);
  });

  it('reports a message the frozen peer never confirmed, naming it, and exits 4 after telling it', async () => {
    const { net, alice, bob } = setUp();
    const a = program(alice, { connect: bob.address, interactive: false });
    program(bob, { yes: true });
    await settle();
    net.run(() => a.console.text().includes('Connected to'), 10_000);
    bob.frozen = true;
    const feed = pipe(a, ['are you there?']);
    expect(runPiped(net, a, feed, 60_000)).toBe(true);
    expect(a.exitCode).toBe(EXIT.notDelivered);
    expect(a.console.lines).toContain('! Not confirmed delivered to 127.0.0.2 2222 (bob): are you there?');
    expect(alice.endpoint.listSessions().map((s) => s.state)).not.toContain('open');
  });

  it('reads piped input only as fast as it can be sent: 200 lines of 10 KB all arrive', async () => {
    const { net, alice, bob } = setUp();
    const a = program(alice, { connect: bob.address, interactive: false });
    const b = program(bob, { yes: true });
    const lines = Array.from({ length: 200 }, (_, i) => `${i} ${'z'.repeat(10_000)}`);
    const feed = pipe(a, lines);
    await settle();
    expect(runPiped(net, a, feed, 300_000)).toBe(true);
    expect(a.exitCode).toBe(EXIT.ok);
    expect(a.console.timesPaused).toBeGreaterThan(0);
    const got = b.console.lines.filter((l) => l.startsWith('[127.0.0.1:1111]'));
    expect(got).toHaveLength(200);
    expect(got.map((l) => l.split(' ')[2])).toEqual(lines.map((_, i) => String(i)));
  });

  it('does not take a line typed just after "Connection lost." as an address; -v says Missed 3 heartbeats once', async () => {
    const { net, alice, bob } = setUp({ heartbeatInterval: 1_000 });
    const a = program(alice, { verbose: true });
    program(bob, { yes: true });
    await type(a, '127.0.0.2 2222');
    runUntilSeen(net, a, 'Connected to');
    net.filter = () => false;
    a.console.draft = 'sorry, I was';
    runUntilSeen(net, a, 'Connection lost. Ending session.');
    expect(a.console.lines.filter((l) => l.includes('Missed 3 heartbeats'))).toHaveLength(1);
    a.console.draft = '';
    await type(a, 'sorry, I was saying');
    expect(a.console.lines.at(-1)).toBe('! Not sent: the chat with 127.0.0.2 2222 (bob) had ended.');
    expect(a.console.text()).not.toContain('invalid address');
    await type(a, 'nonsense');
    expect(a.console.lines.at(-1)).toMatch(/^! invalid address "nonsense"/);
  });

  it('help, a chat command or an answer typed at the start prompt says what to type there; a peer called help is still that peer', async () => {
    const { net, alice, bob } = setUp();
    const a = program(alice, {
      contacts: () => [{ nick: 'help', fingerprint: 'HELP-HELP-HELP-HELP', lastAddress: bob.address }],
    });
    program(bob, { yes: true });
    const START =
      'type "IP Port" (e.g. 127.0.0.1 6666), HOST:PORT, a fingerprint or a known nick to start a chat';
    await type(a, '?');
    expect(a.console.lines.at(-1)).toBe(
      `! At this prompt, ${START}; "exit" quits. In a chat: /me ACTION, /history [N], /log on|off, /send PATH..., /transfers, /cancel N, and "exit" closes it (see netchat --help).`,
    );
    await type(a, '/history 5');
    expect(a.console.lines.at(-1)).toBe(`! /history works in a chat: ${START}.`);
    await type(a, '/me waves');
    expect(a.console.lines.at(-1)).toBe(`! /me works in a chat: ${START}.`);
    // The file commands too, never read as an address.
    for (const [line, command] of [
      ['/send files/small.txt', '/send'],
      ['/transfers', '/transfers'],
      ['/cancel 3', '/cancel'],
    ]) {
      await type(a, line as string);
      expect(a.console.lines.at(-1)).toBe(`! ${command} works in a chat: ${START}.`);
    }
    await type(a, 'Y');
    expect(a.console.lines.at(-1)).toBe(`! No request is waiting for an answer: ${START}.`);
    await type(a, 'help');
    expect(a.console.text()).toContain('Sending connection request to 127.0.0.2 2222 (help)...');
    net.runFor(1_000);
  });

  it('a line begun after "Peer closed the session." is read at the prompt it was typed at, however late', async () => {
    const { net, alice, bob } = setUp();
    const a = program(alice);
    const b = program(bob, { yes: true });
    await type(a, '127.0.0.2 2222');
    runUntilSeen(net, a, 'Connected to');
    await type(b, 'exit');
    runUntilSeen(net, a, 'Peer closed the session.');
    net.runFor(120_000);
    await type(a, 'see you');
    expect(a.console.lines.at(-1)).toMatch(/^! invalid address "see you"/);
    expect(a.console.text()).not.toContain('had ended');
    await type(a, '127.0.0.2 2222');
    runUntilSeen(net, a, 'Connected to 127.0.0.2 2222 (bob).\nFingerprint');
  });

  it('sends a message exactly as typed but for the line ending: indentation stays; commands may have spaces', async () => {
    const { net, alice, bob } = setUp();
    const a = program(alice, { connect: bob.address, interactive: false });
    const b = program(bob, { yes: true });
    const feed = pipe(a, ['    indented(code);', '\ttabbed\r', 'trailing   ', '  exit  ']);
    await settle();
    expect(runPiped(net, a, feed, 60_000)).toBe(true);
    expect(a.exitCode).toBe(EXIT.ok);
    runUntilSeen(net, b, 'Peer closed the session.');
    expect(b.console.lines.filter((l) => l.startsWith('[127.0.0.1:1111]'))).toEqual([
      '[127.0.0.1:1111] alice:     indented(code);',
      '[127.0.0.1:1111] alice: \ttabbed',
      '[127.0.0.1:1111] alice: trailing   ',
    ]);
  });

  it('says Missed 3 heartbeats once without -v too', async () => {
    const { net, alice, bob } = setUp({ heartbeatInterval: 1_000 });
    const a = program(alice);
    program(bob, { yes: true });
    await type(a, '127.0.0.2 2222');
    runUntilSeen(net, a, 'Connected to');
    net.filter = () => false;
    runUntilSeen(net, a, 'Connection lost. Ending session.');
    expect(a.console.text()).toContain('Missed 3 heartbeats\n! Connection lost. Ending session.');
  });

  it('Ctrl-D while our request waits says so, withdraws it and quits', async () => {
    const { net, alice, bob } = setUp();
    const a = program(alice);
    const b = program(bob);
    await type(a, '127.0.0.2 2222');
    runUntilSeen(net, b, 'Connection request from');
    a.flow.endOfInput();
    expect(a.console.lines).toContain('Quitting: withdrawing the connection request.');
    expect(a.exitCode).toBe(EXIT.ok);
    runUntilSeen(net, b, 'was withdrawn');
  });

  it('Ctrl-C while our request waits says once that it is withdrawn, not twice in other words', async () => {
    const { net, alice, bob } = setUp();
    const a = program(alice);
    const b = program(bob);
    await type(a, '127.0.0.2 2222');
    runUntilSeen(net, b, 'Connection request from');
    a.flow.interrupt('SIGINT');
    expect(a.console.text()).toContain('Interrupted: the request to 127.0.0.2 2222 withdrawn.');
    expect(a.console.text()).not.toContain('Cancelled the connection request');
    expect(a.exitCode).toBe(130);
    runUntilSeen(net, b, 'was withdrawn');
  });

  it('Ctrl-D while a request asks us declines it and quits, without opening a chat', async () => {
    const { net, alice, bob } = setUp();
    const a = program(alice);
    const b = program(bob);
    await type(a, '127.0.0.2 2222');
    runUntilSeen(net, b, 'Connection request from');
    b.flow.endOfInput();
    expect(b.console.lines).toContain('Quitting: declining the request from 127.0.0.1 1111.');
    expect(b.exitCode).toBe(EXIT.ok);
    runUntilSeen(net, a, 'Connection declined by 127.0.0.2 2222: busy (quitting).');
    expect(b.console.text()).not.toContain('Your message');
  });

  it('a flood of requests during a chat: the first few declines are said, the rest counted and said once free', async () => {
    const { net, alice, bob } = setUp();
    const a = program(alice);
    const b = program(bob, { yes: true });
    await type(a, '127.0.0.2 2222');
    runUntilSeen(net, a, 'Connected to');
    const strangers = Array.from({ length: BUSY_DECLINES_SAID + 5 }, (_, i) =>
      program(net.add('127.0.0.9', 4000 + i, { nick: `stranger${i}` })),
    );
    for (const stranger of strangers) await type(stranger, '127.0.0.2 2222');
    for (const stranger of strangers)
      runUntilSeen(net, stranger, 'Connection declined by 127.0.0.2 2222: busy');
    const declines = b.console.lines.filter((l) => l.startsWith('Declined a connection request from'));
    expect(declines).toHaveLength(BUSY_DECLINES_SAID);
    expect(b.console.lines.filter((l) => l === texts.MORE_DECLINES_TEXT)).toHaveLength(1);
    // Free again: how many more were declined is said once, before the start prompt.
    await type(b, 'exit');
    expect(b.console.lines).toContain('Declined 5 more connection requests while busy.');
    expect(b.console.prompt_).toBe('Start chat with? (IP Port): ');
    expect(b.console.lines.filter((l) => /^Declined \d+ more/.test(l))).toHaveLength(1);
  });

  it('declines a request as busy during a chat, and the asker reads why', async () => {
    const { net, alice, bob } = setUp();
    const carol = net.add('127.0.0.3', 3333, { nick: 'carol' });
    const a = program(alice);
    const b = program(bob, { yes: true });
    const c = program(carol);
    await type(a, '127.0.0.2 2222');
    runUntilSeen(net, a, 'Connected to');
    await type(c, '127.0.0.2 2222');
    runUntilSeen(net, c, 'Connection declined by 127.0.0.2 2222: busy (in another chat).');
    expect(b.console.lines).toContain('Declined a connection request from 127.0.0.3 3333 (carol): busy.');
    expect(c.console.prompt_).toBe('Start chat with? (IP Port): ');
    // --json: the request ends as an event here too.
    expect(b.console.events).toContainEqual(
      expect.objectContaining({
        type: 'declined',
        peer: carol.address,
        reason: 'busy',
        detail: 'in another chat',
        by: 'local',
      }),
    );
  });

  it('ends the chat at once when the peer restarts, and answers its new request', async () => {
    const { net, alice, bob } = setUp();
    const a = program(alice);
    program(bob, { yes: true });
    await type(a, '127.0.0.2 2222');
    runUntilSeen(net, a, 'Connected to');
    const bob2 = program(net.restart(bob, { nick: 'bob' }));
    await type(bob2, '127.0.0.1 1111');
    runUntilSeen(net, a, 'The peer restarted: this session ended.');
    runUntilSeen(net, a, 'Fingerprint:');
    expect(a.console.text()).toContain('(known as bob)');
    expect(a.console.prompt_).toBe('[127.0.0.2:2222] Accept connection? (y/n): ');
  });

  it('a script piped to a live peer through 30 % loss delivers every line, then exits 0 (several seeds)', async () => {
    for (const seed of [1, 2, 3, 4]) {
      const net = new VirtualNetwork(seed);
      net.latency = 40;
      const alice = net.add('127.0.0.1', 1111, { nick: 'alice' });
      const bob = net.add('127.0.0.2', 2222, { nick: 'bob' });
      const a = program(alice, { connect: bob.address, interactive: false });
      const b = program(bob, { yes: true });
      const lines = Array.from({ length: 300 }, (_, i) => `line ${i}`);
      const feed = pipe(a, lines);
      await settle();
      net.loss = 0.3;
      expect(runPiped(net, a, feed, 600_000), `seed ${seed}`).toBe(true);
      expect(
        a.console.lines.filter((l) => l.startsWith('!')),
        `seed ${seed}`,
      ).toEqual([]);
      expect(a.exitCode, `seed ${seed}`).toBe(EXIT.ok);
      const got = b.console.lines.filter((l) => l.startsWith('[127.0.0.1:1111]'));
      expect(got, `seed ${seed}`).toEqual(lines.map((l) => `[127.0.0.1:1111] alice: ${l}`));
    }
  });

  it('does not look up 256.1.1.1 as a host name', async () => {
    const { alice } = setUp();
    const a = program(alice);
    await type(a, '256.1.1.1 6666');
    expect(a.console.lines.at(-1)).toBe(
      '! invalid address "256.1.1.1 6666": "256.1.1.1" is not an IPv4 address (four numbers, each 0-255)',
    );
    expect(a.console.prompt_).toBe('Start chat with? (IP Port): ');
  });

  it('a home where known peers cannot be saved: one warning, and the chat goes on both ways', async () => {
    const { net, alice, bob } = setUp();
    // As a read-only home fails: the write throws (as root too, where chmod would not stop it).
    const failing = KnownPeers.load('/nonexistent/netchat-home', {
      writeFile: (path) => {
        throw Object.assign(new Error(`EROFS: read-only file system, open '${path}'`), { code: 'EROFS' });
      },
    });
    const a = program(alice, { storage: { knownPeers: failing } }, failing);
    const b = program(bob, { yes: true });
    await type(a, '127.0.0.2 2222');
    runUntilSeen(net, a, 'Connected to 127.0.0.2 2222 (bob).');
    const warnings = a.console.lines.filter((l) => l.startsWith('! Could not save'));
    expect(warnings).toEqual([
      "! Could not save the known peers (/nonexistent/netchat-home/known_peers.json: read-only file system): the chat goes on, but peers' keys and addresses are not remembered after you quit.",
    ]);
    await type(a, 'still here');
    runUntilSeen(net, b, '[127.0.0.1:1111] alice: still here');
    await type(b, 'and me');
    runUntilSeen(net, a, '[127.0.0.2:2222] bob: and me');
    // Remembered for this run, and said once however often it fails.
    const bobKey = Buffer.from(bob.endpoint.identity.publicKey).toString('hex');
    expect(failing.check(bobKey, 'bob').status).toBe('known');
    await type(a, 'exit');
    await type(a, '127.0.0.2 2222');
    runUntilSeen(net, a, 'Connected to 127.0.0.2 2222 (bob).');
    expect(a.console.lines.filter((l) => l.startsWith('! Could not save'))).toHaveLength(1);
  });

  describe('--wait: replies after the last line', () => {
    /** bob answers every message after `delayMs` (an echo bot that thinks). */
    function echo(net: VirtualNetwork, b: Program, delayMs: number): void {
      b.flow.client.subscribe((u) => {
        if (u.type === 'message')
          net.timers.set(() => {
            if (u.conversation.state === 'open') b.flow.client.send(u.conversation, `echo: ${u.text}`);
          }, delayMs);
      });
    }

    it('with --wait 2, replies that come after the input ended are shown, then the chat closes after 2 s of quiet', async () => {
      const { net, alice, bob } = setUp();
      const a = program(alice, {
        connect: bob.address,
        interactive: false,
        waitMs: 2_000,
        timers: net.timers,
      });
      const b = program(bob, { yes: true });
      echo(net, b, 1_500);
      const feed = pipe(a, ['hello', 'bye']);
      await settle();
      let lastEcho = 0;
      expect(
        runPiped(
          net,
          a,
          () => {
            feed();
            if (lastEcho === 0 && a.console.text().includes('echo: bye')) lastEcho = net.now;
          },
          60_000,
        ),
      ).toBe(true);
      expect(a.exitCode).toBe(EXIT.ok);
      expect(a.console.lines.filter((l) => l.includes('echo:'))).toEqual([
        '[127.0.0.2:2222] bob: echo: hello',
        '[127.0.0.2:2222] bob: echo: bye',
      ]);
      // Closed once 2 s passed after the last reply, not 2 s after the input ended.
      expect(lastEcho).toBeGreaterThan(0);
      runUntilSeen(net, b, 'Peer closed the session.');
      const closedAt = net.now;
      expect(closedAt - lastEcho).toBeGreaterThanOrEqual(2_000);
    });

    it('without --wait the chat closes as soon as every line is delivered, and a later reply is not shown', async () => {
      const { net, alice, bob } = setUp();
      const a = program(alice, { connect: bob.address, interactive: false });
      const b = program(bob, { yes: true });
      echo(net, b, 1_500);
      const feed = pipe(a, ['hello']);
      await settle();
      expect(runPiped(net, a, feed, 60_000)).toBe(true);
      expect(a.exitCode).toBe(EXIT.ok);
      net.runFor(5_000);
      expect(a.console.text()).not.toContain('echo:');
    });
  });

  describe('exit codes and the events of this side (--json)', () => {
    it('a line over the largest message is not sent: an event with the reason, and the script exits 4', async () => {
      const { net, alice, bob } = setUp();
      const a = program(alice, { connect: bob.address, interactive: false });
      const b = program(bob, { yes: true });
      const huge = 'x'.repeat(200_000);
      const feed = pipe(a, ['before', huge, 'after']);
      await settle();
      expect(runPiped(net, a, feed, 60_000)).toBe(true);
      expect(a.exitCode).toBe(EXIT.notDelivered);
      expect(a.console.events).toEqual([
        expect.objectContaining({
          type: 'not_sent',
          reason: 'too_large',
          detail: 'message of 200000 bytes exceeds the maximum of 65536 bytes',
          // Never a message: the event keeps its start and says how long it was, not all of it.
          text: 'x'.repeat(256),
          truncated: true,
          bytes: 200_000,
          session: expect.any(Number),
        }),
        expect.objectContaining({ type: 'closed', reason: 'local' }),
      ]);
      runUntilSeen(net, b, 'Peer closed the session.');
      expect(b.console.lines.filter((l) => l.startsWith('[127.0.0.1:1111]'))).toEqual([
        '[127.0.0.1:1111] alice: before',
        '[127.0.0.1:1111] alice: after',
      ]);
    });

    it('a piped line cut at 1 MiB is said to be 1 MiB or more, not exactly what was read of it', async () => {
      const { net, alice, bob } = setUp();
      const a = program(alice, { connect: bob.address, interactive: false });
      program(bob, { yes: true });
      // What line-cap.ts passes on of a longer line: its first MAX_LINE_BYTES bytes.
      const cut = 'z'.repeat(MAX_LINE_BYTES);
      const feed = pipe(a, [cut]);
      await settle();
      expect(runPiped(net, a, feed, 60_000)).toBe(true);
      expect(a.console.events).toContainEqual(
        expect.objectContaining({
          type: 'not_sent',
          reason: 'too_large',
          detail: 'a line of 1048576 bytes or more (read only to there) exceeds the maximum of 65536 bytes',
          truncated: true,
          bytes: MAX_LINE_BYTES,
        }),
      );
    });

    it('SIGTERM while our request waits: the request is withdrawn, `interrupted` and `cancelled`, exit 143', async () => {
      const { net, alice, bob } = setUp();
      const a = program(alice, { connect: bob.address, interactive: false });
      const b = program(bob);
      a.flow.line('never sent');
      await settle();
      runUntilSeen(net, b, 'Connection request from');
      a.flow.interrupt('SIGTERM');
      expect(a.exitCode).toBe(143);
      expect(a.console.events).toEqual([
        { type: 'interrupted', signal: 'SIGTERM' },
        {
          type: 'not_sent',
          reason: 'chat_ended',
          detail: 'the program was stopped first',
          text: 'never sent',
        },
        expect.objectContaining({ type: 'cancelled', target: '127.0.0.2 2222', peer: bob.address }),
      ]);
      runUntilSeen(net, b, 'was withdrawn');
    });

    it('SIGINT while a request asks us: declined (by us), exit 130; accepting and closing are events too', async () => {
      const { net, alice, bob } = setUp();
      const a = program(alice);
      const b = program(bob);
      await type(a, '127.0.0.2 2222');
      runUntilSeen(net, b, 'Connection request from');
      await type(b, 'y');
      runUntilSeen(net, a, 'Connected to');
      expect(b.console.events).toEqual([
        {
          type: 'accepted',
          session: expect.any(Number),
          peer: alice.address,
          nick: 'alice',
          publicKey: Buffer.from(alice.endpoint.identity.publicKey).toString('hex'),
          fingerprint: expect.stringMatching(/^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$/),
        },
      ]);
      await type(a, 'exit');
      expect(a.console.events).toEqual([
        { type: 'closed', session: expect.any(Number), peer: bob.address, reason: 'local' },
      ]);
      runUntilSeen(net, b, 'Peer closed the session.');
      await type(a, '127.0.0.2 2222');
      expect(net.run(() => b.console.prompt_?.includes('Accept connection?') === true, 10_000)).toBe(true);
      b.flow.interrupt('SIGINT');
      expect(b.exitCode).toBe(130);
      expect(b.console.events.slice(1)).toEqual([
        { type: 'interrupted', signal: 'SIGINT' },
        expect.objectContaining({ type: 'declined', reason: 'busy', detail: 'quitting', by: 'local' }),
      ]);
      runUntilSeen(net, a, 'busy (quitting)');
    });

    it('Ctrl-C at an idle prompt with nothing pending exits 0', () => {
      const { alice } = setUp();
      const a = program(alice);
      a.flow.interrupt('SIGINT');
      expect(a.exitCode).toBe(EXIT.ok);
      expect(a.console.events).toEqual([]);
    });
  });

  describe('in a chat: /me, /history, /log', () => {
    it('/me is an action the peer sees as * alice waves; //history sends the command word as text', async () => {
      const { net, alice, bob } = setUp();
      const a = program(alice);
      const b = program(bob, { yes: true });
      await type(a, '127.0.0.2 2222');
      runUntilSeen(net, a, 'Connected to');
      await type(a, '/me waves 👋');
      runUntilSeen(net, b, '[127.0.0.1:1111] * alice waves 👋');
      await type(a, '//history');
      runUntilSeen(net, b, '[127.0.0.1:1111] alice: /history');
      await type(a, '/me');
      expect(a.console.lines.at(-1)).toBe('! usage: /me ACTION (e.g. /me waves)');
      // In any case, as the TUI reads them (Caps Lock on): "/ME" is /me, not "no command".
      await type(a, '/ME shouts');
      runUntilSeen(net, b, '[127.0.0.1:1111] * alice shouts');
      // A single "/" and no command: refused with a hint, never sent; "//" sends it.
      await type(a, '/usr/bin is where it is');
      expect(a.console.lines.at(-1)).toMatch(
        /^! Not sent: \/usr\/bin is not a command\. Commands: \/send PATH\.\.\., .*type "\/\/"\.$/,
      );
      await type(a, '//usr/bin is where it is');
      runUntilSeen(net, b, 'alice: /usr/bin is where it is');
      expect(b.console.text().split('alice: /usr/bin is where it is')).toHaveLength(2);
    });

    it('/history [N] shows the last lines logged with this peer; /log off stops the logging', async () => {
      const { net, alice, bob } = setUp();
      const history = new ChatHistory(temporaryDirectory('netchat-home-'));
      const a = program(alice, { history });
      const b = program(bob, { yes: true });
      await type(a, '127.0.0.2 2222');
      runUntilSeen(net, a, 'Connected to');
      await type(a, 'one');
      await type(b, 'two');
      runUntilSeen(net, a, 'bob: two');
      await type(b, '/me nods');
      runUntilSeen(net, a, '* bob nods');
      await type(a, '/history 2');
      const shown = a.console.lines.slice(-3);
      expect(shown[0]).toBe('The last 2 lines with 127.0.0.2 2222 (bob):');
      expect(shown[1]).toMatch(/^ {2}\d{4}-\d\d-\d\d \d\d:\d\d {2}bob: two$/);
      expect(shown[2]).toMatch(/^ {2}\d{4}-\d\d-\d\d \d\d:\d\d {2}\* bob nods$/);
      await type(a, '/history 1');
      expect(a.console.lines.slice(-2)[0]).toBe('The last line with 127.0.0.2 2222 (bob):');
      await type(a, '/log off');
      expect(a.console.lines.at(-1)).toBe('Chat history is off: nothing is logged (/log on starts it).');
      await type(a, 'not logged');
      const conversation = a.flow.client.conversations[0];
      expect(history.all(conversation?.publicKey ?? '').map((e) => e.text)).toEqual([
        'one',
        'two',
        '/me nods',
      ]);
      await type(a, '/history 0');
      expect(a.console.lines.at(-1)).toBe('! usage: /history [N] (N from 1 to 1000)');
    });
  });
});

import { texts } from '@netchat/client';
import { relayAddress } from '@netchat/core';
import { describe, expect, it } from 'vitest';
import { parseInput } from '../src/model/commands.js';
import { LineEditor } from '../src/model/line-editor.js';
import { dialogNotices } from '../src/model/request-dialog.js';
import type { ModelSettings, TuiModel } from '../src/model/tui-model.js';
import { identityOf, testModel } from './fake-port.js';

/** The lines the dialog shows about the request's key. */
const trustLines = (request: TuiModel['requests'][number] | undefined) =>
  request ? texts.trustNotices(request.trust, false).map((n) => n.text) : [];

const alice = { host: '127.0.0.1', port: 5555 };
const bob = { host: '127.0.0.1', port: 6666 };

function setup(settings: Partial<ModelSettings> = {}) {
  const { port, model } = testModel(settings);
  const type = (text: string) => {
    model.editor.insert(text);
    model.submit();
  };
  const texts = (index = model.current) => model.tabs[index]?.lines.map((l) => l.text) ?? [];
  return { port, model, type, texts };
}

/** Opens a chat tab with `peer` through a request, as the network would. */
function acceptFrom(model: TuiModel, session: number, peer = alice, nick = 'alice') {
  model.onEvent({ type: 'request', session, peer, nick, ...identityOf(nick) });
  model.answerDialog(true);
}

describe('requests and the dialog', () => {
  it('queues requests, shows the first in the dialog, and y accepts it into a new tab', () => {
    const { model, port } = setup();
    model.onEvent({ type: 'request', session: 1, peer: alice, nick: 'alice', ...identityOf('alice') });
    model.onEvent({ type: 'request', session: 2, peer: bob, nick: 'bob', ...identityOf('bob') });
    expect(model.dialogRequest).toMatchObject({ session: 1, nick: 'alice' });
    model.answerDialog(true);
    expect(port.calls).toEqual(['accept 1']);
    expect(model.currentTab).toMatchObject({ session: 1, state: 'open', nick: 'alice' });
    expect(model.dialogRequest).toMatchObject({ session: 2 });
    model.answerDialog(false);
    expect(port.calls).toEqual(['accept 1', 'decline 2']);
    expect(model.dialogRequest).toBeUndefined();
  });

  it('keeps what you were typing while the dialog is up, in the tab it was typed in', () => {
    const { model } = setup();
    model.editor.insert('half a thought');
    model.onEvent({ type: 'request', session: 1, peer: alice, nick: '', ...identityOf('') });
    model.answerDialog(true);
    expect(model.current).toBe(1);
    expect(model.editor.text).toBe('');
    model.selectTab(0);
    expect(model.editor.text).toBe('half a thought');
  });

  it('Esc leaves a request waiting for /requests, /accept N and /decline N', () => {
    const { model, port, type, texts } = setup();
    model.onEvent({ type: 'request', session: 1, peer: alice, nick: 'alice', ...identityOf('alice') });
    model.onEvent({ type: 'request', session: 2, peer: bob, nick: '', ...identityOf('') });
    model.dismissDialog();
    expect(model.dialogRequest?.session).toBe(2);
    model.dismissDialog();
    expect(model.dialogRequest).toBeUndefined();
    type('/requests');
    expect(texts().slice(-2)).toEqual([
      '1. 127.0.0.1 5555 (alice) since 10:30',
      '2. 127.0.0.1 6666 since 10:30',
    ]);
    type('/decline 2');
    type('/accept');
    expect(port.calls).toEqual(['decline 2', 'accept 1']);
    type('/accept 3');
    expect(texts().at(-1)).toBe('no waiting request 3: see /requests');
  });

  it('drops a request the peer withdrew, and says so', () => {
    const { model, texts } = setup();
    model.onEvent({ type: 'request', session: 1, peer: alice, nick: '', ...identityOf('') });
    model.onEvent({ type: 'closed', session: 1, peer: alice, reason: 'peer_closed' });
    expect(model.requests).toEqual([]);
    expect(texts(0).at(-1)).toBe('The connection request from 127.0.0.1 5555 was withdrawn.');
  });

  it('accepts everything with --yes', () => {
    const { model, port } = setup({ acceptAll: true });
    model.onEvent({ type: 'request', session: 7, peer: alice, nick: 'alice', ...identityOf('alice') });
    expect(port.calls).toEqual(['accept 7']);
    expect(model.currentTab.session).toBe(7);
    expect(model.dialogRequest).toBeUndefined();
  });
});

describe('who is asking: fingerprints and trust on first use', () => {
  it('shows the fingerprint of a new key, and remembers the key once accepted', () => {
    const { model, port, texts } = setup();
    model.onEvent({ type: 'request', session: 1, peer: alice, nick: 'alice', ...identityOf('alice') });
    expect(trustLines(model.dialogRequest)).toEqual([
      'Fingerprint: ALIC-FPFP-FPFP-FPFP (new: this key has not been seen before)',
    ]);
    expect(texts(0).at(-1)).toBe('Fingerprint: ALIC-FPFP-FPFP-FPFP (new: this key has not been seen before)');
    model.answerDialog(true);
    expect(port.remembered).toEqual(['alice']);
    model.onEvent({ type: 'request', session: 2, peer: bob, nick: 'alice', ...identityOf('alice') });
    expect(trustLines(model.dialogRequest)).toEqual(['Fingerprint: ALIC-FPFP-FPFP-FPFP (known as alice)']);
  });

  it('warns loudly when a new key uses the nick of a known peer', () => {
    const { model, port, texts } = setup();
    port.known.set(identityOf('alice').publicKey, 'alice');
    model.onEvent({ type: 'request', session: 1, peer: bob, nick: 'alice', ...identityOf('mallory') });
    const lines = trustLines(model.dialogRequest) ?? [];
    expect(lines[0]).toMatch(
      /^WARNING: this peer calls itself "alice", but its key is not the key of the alice you know/,
    );
    expect(model.tabs[0]?.lines.some((l) => l.kind === 'warning' && l.text.startsWith('WARNING'))).toBe(true);
    // The home tab says what to do if it is alice's new key; the dialog keeps to the answer.
    expect(texts(0).some((t) => t.startsWith('If alice made a new key, compare '))).toBe(true);
    const asking = model.dialogRequest;
    const dialog = asking ? dialogNotices(asking, 'alice').map((n) => n.text) : [];
    expect(dialog.some((l) => l.startsWith('WARNING'))).toBe(true);
    expect(dialog.some((l) => l.startsWith('If alice'))).toBe(false);
    model.answerDialog(false);
    expect(port.remembered).toEqual([]);
    expect(texts(0).at(-1)).toBe('Declined the request from 127.0.0.1 6666.');
  });

  it('/whoami shows your own fingerprint', () => {
    const { type, texts } = setup();
    type('/whoami');
    expect(texts().slice(-2)).toEqual(['You are me on [::]:7000.', 'Your fingerprint: MYFP-MYFP-MYFP-MYFP']);
  });

  it('says at start, as netchat does, the addresses others can reach you at and your fingerprint', () => {
    // Before, only "listening on [::]:7000": no address to tell a friend, no fingerprint.
    const { type, texts } = setup({ reachableAt: ['192.0.2.2 7000', 'fd00::2 7000'] });
    expect(texts(0)).toEqual([
      'netchat: listening on [::]:7000. /connect IP PORT to chat, F1 for help.',
      'Others can reach you at: 192.0.2.2 7000, fd00::2 7000',
      'Your fingerprint: MYFP-MYFP-MYFP-MYFP',
    ]);
    type('/whoami');
    expect(texts(0).slice(-3)).toEqual([
      'You are me on [::]:7000.',
      'Others can reach you at: 192.0.2.2 7000, fd00::2 7000',
      'Your fingerprint: MYFP-MYFP-MYFP-MYFP',
    ]);
  });
});

describe('tabs and unread', () => {
  it('counts unread messages on other tabs and clears them when you switch there', () => {
    const { model } = setup();
    acceptFrom(model, 1, alice, 'alice');
    acceptFrom(model, 2, bob, 'bob');
    expect(model.current).toBe(2);
    model.onEvent({ type: 'message', session: 1, peer: alice, text: 'psst' });
    model.onEvent({ type: 'message', session: 1, peer: alice, text: 'psst again' });
    model.onEvent({ type: 'message', session: 2, peer: bob, text: 'here' });
    expect(model.tabBar().map((t) => [t.label, t.unread, t.current])).toEqual([
      ['0 home', 0, false],
      ['1 alice', 2, false],
      ['2 bob', 0, true],
    ]);
    model.previousTab();
    expect(model.current).toBe(1);
    expect(model.tabBar()[1]?.unread).toBe(0);
    model.nextTab();
    model.nextTab();
    expect(model.current).toBe(0);
    model.selectTab(2);
    expect(model.current).toBe(2);
    model.selectTab(9);
    expect(model.current).toBe(2);
  });

  it('opens a tab for /connect and matches an answer that comes before connectTo returns', async () => {
    const { model, port, type } = setup();
    type('/connect localhost 6666');
    expect(model.currentTab).toMatchObject({ state: 'connecting', label: 'localhost:6666' });
    await Promise.resolve();
    await Promise.resolve();
    expect(port.calls).toEqual(['connect 127.0.0.1:6666']);
    model.onEvent({
      type: 'accepted',
      session: 100,
      peer: { host: '127.0.0.1', port: 6666 },
      nick: 'bob',
      ...identityOf('bob'),
    });
    expect(model.currentTab).toMatchObject({ state: 'open', session: 100, nick: 'bob' });
  });

  it('reports a host that does not resolve on the home tab, and leaves no tab behind', async () => {
    const { model, type, texts } = setup();
    type('/connect nowhere.invalid 1');
    expect(model.tabs).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 0));
    expect(model.tabs).toHaveLength(1);
    expect(model.current).toBe(0);
    expect(texts(0).at(-1)).toMatch(/host name not found/);
  });

  it('/close closes the session, then the tab; exit alone closes the session', () => {
    const { model, port, type, texts } = setup();
    acceptFrom(model, 1);
    type('exit');
    expect(port.calls.at(-1)).toBe('close 1');
    expect(model.currentTab.state).toBe('ended');
    expect(texts().at(-1)).toBe('Closing session with peer...');
    type('/close');
    expect(model.tabs).toHaveLength(1);
    expect(model.current).toBe(0);
    type('/close');
    expect(texts().at(-1)).toBe('The home tab has no session to close.');
  });

  it('marks a tab ended when the peer is lost or closes', () => {
    const { model, texts } = setup();
    acceptFrom(model, 1);
    model.onEvent({ type: 'heartbeat_missed', session: 1, peer: alice, count: 2 });
    model.onEvent({ type: 'lost', session: 1, peer: alice, missed: 3 });
    expect(model.currentTab.state).toBe('ended');
    expect(texts().at(-1)).toBe('Missed 3 heartbeats. Connection lost. Ending session.');
    expect(model.tabBar()[1]?.ended).toBe(true);
  });

  it('a chat found lost by a check, with no heartbeat missed, says no count of heartbeats', () => {
    // The peer asked again from a new port (its program started again): the chat is checked at
    // once and lost within a second, before any heartbeat was missed ("Missed 0 heartbeats.").
    const { model, texts } = setup();
    acceptFrom(model, 1);
    model.onEvent({ type: 'lost', session: 1, peer: alice, missed: 0 });
    expect(model.currentTab.state).toBe('ended');
    expect(texts().at(-1)).toBe('Connection lost. Ending session.');
  });
});

describe('sending and marks', () => {
  it('marks own messages pending, then delivered or not confirmed (never "not delivered")', () => {
    const { model, port, type } = setup();
    acceptFrom(model, 1);
    type('first');
    type('second');
    expect(port.calls.slice(-2)).toEqual(['send 1 first', 'send 1 second']);
    const own = () => model.currentTab.lines.filter((l) => l.kind === 'own').map((l) => [l.text, l.mark]);
    expect(own()).toEqual([
      ['first', 'pending'],
      ['second', 'pending'],
    ]);
    model.onEvent({ type: 'delivered', session: 1, peer: alice, messageId: 1 });
    model.onEvent({ type: 'failed', session: 1, peer: alice, messageId: 2, reason: 'lost' });
    // The engine fails a message in flight, then says the chat is lost.
    model.onEvent({ type: 'lost', session: 1, peer: alice, missed: 3 });
    expect(own()).toEqual([
      ['first', 'delivered'],
      ['second', 'not_confirmed'],
    ]);
  });

  it('sends /me as an action and shows a peer action as one', () => {
    const { model, port, type } = setup();
    acceptFrom(model, 1, alice, 'alice');
    type('/me waves');
    expect(port.calls.at(-1)).toBe('send 1 /me waves');
    model.onEvent({ type: 'message', session: 1, peer: alice, text: '/me bows' });
    expect(model.currentTab.lines.slice(-2).map((l) => [l.kind, l.sender, l.text])).toEqual([
      ['own_action', 'me', 'waves'],
      ['peer_action', 'alice', 'bows'],
    ]);
  });

  it('sends text starting with / when it is doubled, and never sends an unknown command', () => {
    const { model, port, type, texts } = setup();
    acceptFrom(model, 1);
    type('//etc/passwd is a path');
    expect(port.calls.at(-1)).toBe('send 1 /etc/passwd is a path');
    type('/frobnicate now');
    expect(port.calls.at(-1)).toBe('send 1 /etc/passwd is a path');
    expect(texts().at(-1)).toBe(
      'Not sent: /frobnicate is not a command (/help lists them; type // to send a line that starts with /).',
    );
    // The line stays in the input, to be fixed (a second `/` sends it) rather than typed again.
    expect(model.editor.text).toBe('/frobnicate now');
    model.editor.home();
    model.editor.insert('/');
    model.submit();
    expect(port.calls.at(-1)).toBe('send 1 /frobnicate now');
  });

  it('explains why text cannot be sent on the home tab or an ended chat, and a send error', () => {
    const { model, port, type, texts } = setup();
    type('hello?');
    expect(texts(0).at(-1)).toBe('Not sent: this is the home tab: /connect IP PORT to chat.');
    acceptFrom(model, 1);
    port.failSend = new Error('message of 70000 bytes exceeds the maximum of 65536 bytes');
    type('x');
    expect(texts().at(-1)).toBe('Not sent: message of 70000 bytes exceeds the maximum of 65536 bytes');
  });

  it('neutralises escape sequences in what peers send', () => {
    const { model } = setup();
    acceptFrom(model, 1, alice, 'ev\u001bil');
    model.onEvent({ type: 'message', session: 1, peer: alice, text: '\u001b[2Jboo' });
    const line = model.currentTab.lines.at(-1);
    expect(line?.text).toBe('\uFFFD[2Jboo');
    expect(line?.sender).toBe('ev\uFFFDil');
  });

  it('/nick changes the nick, and reports one the core refuses', () => {
    const { model, port, type, texts } = setup();
    type('/nick zed');
    expect(port.calls).toEqual(['nick zed']);
    expect(model.nick).toBe('zed');
    type(`/nick ${'x'.repeat(40)}`);
    expect(texts().at(-1)).toBe('invalid nick: at most 32 bytes');
    expect(model.nick).toBe('zed');
  });

  it('/clear empties the tab, /help opens the overlay, /quit asks the app to quit', () => {
    const { model, port, type } = setup();
    type('/clear');
    expect(model.currentTab.lines).toEqual([]);
    type('/help');
    expect(model.helpOpen).toBe(true);
    type('/exit');
    expect(port.calls).toEqual(['quit']);
  });
});

describe('status bar', () => {
  it('on the home tab: who you are, chats, waiting requests', () => {
    const { model } = setup();
    model.onEvent({ type: 'request', session: 1, peer: alice, nick: '', ...identityOf('') });
    expect(model.statusBar()).toBe('me@[::]:7000 │ home │ 0 chats │ 1 waiting (/requests)');
  });

  it('on a chat: the peer, state, round trip, last heard, missed heartbeats, and more below', () => {
    const { model, port } = setup();
    acceptFrom(model, 1, alice, 'alice');
    port.infos.set(1, {
      id: 1,
      peer: alice,
      peerNick: 'alice',
      ...identityOf('alice'),
      state: 'open',
      initiator: false,
      rtt: 12.4,
      lastHeard: 7_000,
      missedHeartbeats: 0,
      pendingMessages: 0,
    });
    expect(model.statusBar()).toBe(
      'me@[::]:7000 │ alice │ 127.0.0.1:5555 │ open │ direct │ rtt 12 ms │ heard 3s ago',
    );
    const info = port.infos.get(1);
    if (!info) throw new Error('no info');
    port.infos.set(1, { ...info, missedHeartbeats: 1 });
    model.onEvent({ type: 'heartbeat_missed', session: 1, peer: alice, count: 1 });
    model.scroll(1, { height: 1, rowsOf: () => 1 });
    expect(model.statusBar()).toBe(
      'me@[::]:7000 │ alice │ 127.0.0.1:5555 │ open │ direct │ rtt 12 ms │ heard 3s ago │ ⚠ 1 heartbeat missed │ ▼ more below',
    );
    // Through the rendezvous's relay, the same chat says so (and its address is the relay's tag).
    port.infos.set(1, { ...info, peer: relayAddress(7), missedHeartbeats: 0 });
    expect(model.statusBar()).toContain('│ open │ relayed │ rtt 12 ms');
  });

  it('clears the heartbeat warning as soon as the session hears any datagram, message or not', () => {
    const { model, port } = setup();
    acceptFrom(model, 1, alice, 'alice');
    const info = { id: 1, peer: alice, peerNick: 'alice', ...identityOf('alice'), state: 'open' as const };
    const rest = { initiator: false, rtt: 3, lastHeard: 7_000, pendingMessages: 0 };
    port.infos.set(1, { ...info, ...rest, missedHeartbeats: 2 });
    model.onEvent({ type: 'heartbeat_missed', session: 1, peer: alice, count: 2 });
    expect(model.statusBar()).toContain('⚠ 2 heartbeats missed');
    // A heartbeat answer (no event reaches the client) resets the session's count in core.
    port.infos.set(1, { ...info, ...rest, missedHeartbeats: 0 });
    expect(model.statusBar()).not.toContain('missed');
  });
});

describe('line editor', () => {
  it('edits by code point, so an emoji is one step', () => {
    const e = new LineEditor();
    e.insert('a😀b');
    e.left1();
    e.backspace();
    expect(e.text).toBe('ab');
    e.home();
    e.insert('>');
    e.end();
    e.deleteWordBack();
    expect(e.text).toBe('');
  });

  it('recalls history with Up and Down and keeps the draft', () => {
    const e = new LineEditor();
    for (const line of ['one', 'two', 'two', '  ']) {
      e.insert(line);
      e.take();
    }
    e.insert('draft');
    e.up();
    expect(e.text).toBe('two');
    e.up();
    expect(e.text).toBe('one');
    e.up();
    expect(e.text).toBe('one');
    e.down();
    e.down();
    expect(e.text).toBe('draft');
  });
});

describe('command parsing', () => {
  it.each([
    ['hello', { name: 'say', text: 'hello' }],
    ['exit', { name: 'exit_session' }],
    // What the name means is the client's resolveTarget's to say, when it runs (see connect-names.test.ts).
    ['/connect 127.0.0.1 6666', { name: 'connect', target: '127.0.0.1 6666' }],
    ['/connect  [::1]:6666 ', { name: 'connect', target: '[::1]:6666' }],
    ['/connect bob', { name: 'connect', target: 'bob' }],
    ['/me  waves   twice ', { name: 'me', action: 'waves   twice' }],
    ['/accept', { name: 'accept', index: undefined }],
    ['/decline 2', { name: 'decline', index: 2 }],
    ['/QUIT', { name: 'quit' }],
    ['/bell', { name: 'bell', on: undefined }],
    ['/bell off', { name: 'bell', on: false }],
    // Caps Lock on: the setting in any case, as the command's word.
    ['/BELL OFF', { name: 'bell', on: false }],
    ['/Log On', { name: 'log', on: true }],
    ['   ', { name: 'nothing' }],
  ])('%j', (line, command) => expect(parseInput(line)).toEqual(command));

  it.each([
    ['/connect', /^usage: \/connect IP PORT \(or HOST:PORT, a fingerprint, a known nick\)$/],
    ['/accept x', /usage: \/accept \[N\]/],
    ['/nick', /usage: \/nick NAME/],
    ['/me', /usage: \/me ACTION/],
    ['/bell maybe', /^usage: \/bell \[on\|off\]$/],
    // netchat's /history, typed out of habit: where history is here, not "unknown command".
    ['/history 50', /^no \/history here: PgUp past the top of a chat shows its older lines/],
  ])('%j gets a one-line hint', (line, message) => {
    const command = parseInput(line);
    expect(command.name).toBe('invalid');
    expect(command.name === 'invalid' && command.message).toMatch(message);
  });
});

/**
 * The view-model's answers to issue 18: a netchat home that cannot be written, the request
 * dialog while typing, the texts and tab names people saw wrong, and tabs that read their
 * conversation. (The terminal itself: view.test.ts and terminal.test.ts.)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatHistory } from '@netchat/client';
import { afterEach, describe, expect, it } from 'vitest';
import { COMMAND_HELP } from '../src/model/commands.js';
import { dialogNotices } from '../src/model/request-dialog.js';
import { until } from './blessed-screen.js';
import { identityOf, testModel } from './fake-port.js';

const alice = { host: '127.0.0.1', port: 5555 };
const bob = { host: '127.0.0.1', port: 6666 };
/** bob as the known peers list him: seen at `bob` yesterday. */
const bobContact = {
  publicKey: identityOf('bob').publicKey,
  nick: 'bob',
  fingerprint: identityOf('bob').fingerprint,
  firstSeen: '2026-11-20T08:00:00.000Z',
  lastAddress: bob,
  lastSeen: '2026-11-24T09:15:00.000Z',
};
const READ_ONLY = { path: '/home/zoe/.config/netchat/known_peers.json', reason: 'permission denied' };

const homes: string[] = [];
afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

function setup(settings: Parameters<typeof testModel>[0] = {}) {
  const { port, model } = testModel(settings);
  const type = (text: string) => {
    model.editor.insert(text);
    model.submit();
  };
  const warnings = (index = model.current) =>
    model.tabs[index]?.lines.filter((l) => l.kind === 'warning').map((l) => l.text) ?? [];
  return { port, model, type, warnings };
}

describe('a netchat home that cannot be written (issue 18, 1)', () => {
  it('known peers that cannot be saved: one warning, the chat opens and goes on, the draft is kept', async () => {
    const { port, model, type, warnings } = setup();
    port.rememberFails = READ_ONLY;
    model.editor.insert('half a thought');
    model.onEvent({ type: 'request', session: 1, peer: alice, nick: 'alice', ...identityOf('alice') });
    expect(() => model.answerDialog(true)).not.toThrow();
    expect(port.calls).toEqual(['accept 1']);
    expect(model.currentTab).toMatchObject({ state: 'open', nick: 'alice' });
    // The client's words (watchStorage), as the CLI says them, on the tab the person now sees.
    expect(warnings()).toEqual([
      "Could not save the known peers (/home/zoe/.config/netchat/known_peers.json: permission denied): the chat goes on, but peers' keys and addresses are not remembered after you quit.",
    ]);
    type('still chatting');
    expect(port.calls.at(-1)).toBe('send 1 still chatting');
    // Our own request accepted by a second peer: the same failure, not said again.
    type('/connect 127.0.0.1 6666');
    await new Promise((r) => setTimeout(r, 0));
    model.onEvent({ type: 'accepted', session: 100, peer: bob, nick: 'bob', ...identityOf('bob') });
    expect(model.currentTab).toMatchObject({ state: 'open', nick: 'bob' });
    expect(model.tabs.flatMap((_, i) => warnings(i))).toHaveLength(1);
    model.selectTab(0);
    expect(model.editor.text).toBe('half a thought');
  });

  it('a chat history that cannot be written (a file where its folder should be): one warning, every line shown', () => {
    const home = mkdtempSync(join(tmpdir(), 'netchat-tui-unwritable-'));
    homes.push(home);
    writeFileSync(join(home, 'history'), 'not a folder');
    const { model, type, warnings } = setup({ history: new ChatHistory(home) });
    model.onEvent({ type: 'request', session: 1, peer: alice, nick: 'alice', ...identityOf('alice') });
    model.answerDialog(true);
    model.editor.insert('draft');
    model.onEvent({ type: 'message', session: 1, peer: alice, text: 'two' });
    model.editor.clear();
    type('one');
    type('three');
    // Said once each: the history that could not be read when the chat opened, and the writes.
    expect(warnings()).toHaveLength(2);
    expect(warnings()[0]).toMatch(/^Chat history could not be read: ENOTDIR: /);
    expect(warnings()[1]).toMatch(
      /^Could not write the chat history \(.*history.*: .*\): the chat goes on without being logged\.$/,
    );
    expect(
      model.currentTab.lines.filter((l) => l.kind === 'own' || l.kind === 'peer').map((l) => l.text),
    ).toEqual(['two', 'one', 'three']);
  });

  it('/log off that cannot be saved in settings.json: a warning, and logging is off for this run', () => {
    const home = mkdtempSync(join(tmpdir(), 'netchat-tui-unwritable-'));
    homes.push(home);
    const history = new ChatHistory(home);
    // A folder where settings.json should be: it cannot be written.
    mkdirSync(join(home, 'settings.json'));
    const { model, type, warnings } = setup({ history });
    type('/log off');
    expect(history.enabled).toBe(false);
    expect(model.currentTab.lines.at(-2)?.text).toBe(
      'Chat history is off: nothing is logged (/log on starts it).',
    );
    expect(warnings()).toEqual([
      expect.stringMatching(
        /^Could not save the settings \(.*settings\.json: .*\): the change lasts until you quit\.$/,
      ),
    ]);
  });
});

describe('the request dialog while typing (issue 18, 2)', () => {
  it('a paste while the dialog is up goes into the draft', () => {
    const { model } = setup();
    model.editor.insert('hello ');
    model.onEvent({ type: 'request', session: 1, peer: alice, nick: 'alice', ...identityOf('alice') });
    model.paste('sunny day');
    expect(model.editor.text).toBe('hello sunny day');
    expect(model.dialogRequest?.session).toBe(1);
  });

  it('says how to answer on the home tab: Alt+Y / Alt+N, or /accept N', () => {
    const { model } = setup();
    model.onEvent({ type: 'request', session: 1, peer: alice, nick: 'alice', ...identityOf('alice') });
    expect(model.home.lines.map((l) => l.text)).toContain(
      'Connection request from: 127.0.0.1 5555 (alice). Alt+Y / Alt+N in the dialog, or /accept 1.',
    );
  });
});

describe('what people saw wrong (issue 18, 13)', () => {
  it('/help says what /nick does: open chats are told at once', () => {
    const nick = COMMAND_HELP.find(([what]) => what.startsWith('/nick'));
    expect(nick?.[1]).toBe('your nick; open chats are told');
  });

  it('a /connect NICK tab is named by the nick, before and after it opens', async () => {
    const { port, model, type } = setup();
    port.contactList = [bobContact];
    type('/connect bob');
    expect(model.tabBar()[1]?.label).toBe('1 bob');
    expect(model.statusBar()).toContain('│ bob │ connecting');
    await new Promise((r) => setTimeout(r, 0));
    model.onEvent({ type: 'accepted', session: 100, peer: bob, nick: 'bob', ...identityOf('bob') });
    expect(model.tabBar()[1]?.label).toBe('1 bob');
  });

  it('a /connect NICK to an old address is withdrawn once a chat with that key opens elsewhere', async () => {
    // bob's program moved to another port: `/connect bob` asks where he was (no answer for 30 s),
    // `/connect 127.0.0.1 6667` reaches him. Two tabs were called bob, one "connecting" still.
    const { port, model, type } = setup();
    port.contactList = [bobContact];
    type('/connect bob');
    await until(() => port.calls.includes('connect 127.0.0.1:6666'), "bob's contact dialled");
    type('/connect 127.0.0.1 6667');
    await until(() => port.calls.includes('connect 127.0.0.1:6667'), 'the new port dialled');
    expect(port.calls).toEqual(['connect 127.0.0.1:6666', 'connect 127.0.0.1:6667']);
    const moved = { host: '127.0.0.1', port: 6667 };
    model.onEvent({ type: 'accepted', session: 101, peer: moved, nick: 'bob', ...identityOf('bob') });
    expect(port.calls.at(-1)).toBe('close 100');
    expect(model.tabBar().map((t) => t.label)).toEqual(['0 home', '1 bob']);
    expect(model.currentTab.conversation?.peer).toEqual(moved);
    expect(model.currentTab.lines.at(-1)?.text).toBe('Already chatting with 127.0.0.1 6667 (bob): this tab.');
    // A late answer from the old address opens nothing.
    model.onEvent({ type: 'accepted', session: 100, peer: bob, nick: 'bob', ...identityOf('bob') });
    expect(model.tabs).toHaveLength(2);
  });

  it('so is it when that key asks us from its new address and we accept', async () => {
    const { port, model, type } = setup();
    port.contactList = [bobContact];
    type('/connect bob');
    await until(() => port.calls.includes('connect 127.0.0.1:6666'), "bob's contact dialled");
    const moved = { host: '127.0.0.1', port: 6667 };
    model.onEvent({ type: 'request', session: 7, peer: moved, nick: 'bob', ...identityOf('bob') });
    model.answerDialog(true);
    expect(port.calls).toEqual(['connect 127.0.0.1:6666', 'accept 7', 'close 100']);
    expect(model.tabs.map((t) => t.conversation?.peer)).toEqual([undefined, moved]);
  });
});

describe('a /connect NICK through a rendezvous (issue 18, 13)', () => {
  it('names the tab by the nick typed, not the fingerprint it stands for', () => {
    const bobPrint = identityOf('bob').fingerprint;
    const { port, model, type } = setup({ rendezvous: true });
    port.contactList = [bobContact];
    type('/connect bob');
    expect(model.tabBar()[1]?.label).toBe('1 bob');
    expect(model.currentTab.conversation?.target).toEqual({ host: bobPrint, port: 0 });
  });
});

describe('tabs read their conversation (issue 18, structure)', () => {
  it("a tab's state, peer, nick and session are the conversation's, never a copy", () => {
    const { model } = setup();
    model.onEvent({ type: 'request', session: 1, peer: alice, nick: 'alice', ...identityOf('alice') });
    model.answerDialog(true);
    const tab = model.currentTab;
    const conversation = tab.conversation;
    if (!conversation) throw new Error('no conversation');
    expect(Object.keys(tab)).not.toEqual(
      expect.arrayContaining(['state', 'peer', 'nick', 'session', 'missed']),
    );
    model.onEvent({ type: 'presence', session: 1, peer: alice, nick: 'alicia', typing: false });
    expect([tab.nick, conversation.nick]).toEqual(['alicia', 'alicia']);
    model.onEvent({ type: 'closed', session: 1, peer: alice, reason: 'peer_closed' });
    expect([tab.state, conversation.state]).toEqual(['ended', 'ended']);
  });
});

describe('contacts and verified keys (issue 18, what people reached for next)', () => {
  it('/contacts shows the marks netchat contacts shows: verified, renamed, where, last seen', () => {
    const { port, model, type } = setup();
    port.contactList = [
      { ...bobContact, nick: 'Robert', verified: '2026-11-24T09:20:00.000Z', named: true },
      {
        ...bobContact,
        publicKey: identityOf('dave').publicKey,
        nick: '',
        fingerprint: 'DAVE-FPFP-FPFP-FPFP',
        lastAddress: undefined,
        lastSeen: undefined,
      },
    ];
    type('/contacts');
    expect(model.home.lines.slice(-2).map((l) => l.text)).toEqual([
      'Robert  BOBX-FPFP-FPFP-FPFP  127.0.0.1 6666  last seen 2026-11-24 09:15 UTC  (verified, renamed)',
      '(no nick)  DAVE-FPFP-FPFP-FPFP  no address yet  not seen since',
    ]);
  });

  it('a request from a verified key says so, on the home tab and in the dialog', () => {
    const { port, model } = setup();
    port.known.set(identityOf('bob').publicKey, 'bob');
    port.verified.add(identityOf('bob').publicKey);
    model.onEvent({ type: 'request', session: 1, peer: bob, nick: 'bob', ...identityOf('bob') });
    const request = model.dialogRequest;
    if (!request) throw new Error('no dialog');
    const said = 'Fingerprint: BOBX-FPFP-FPFP-FPFP (known as bob, verified)';
    expect(dialogNotices(request, model.requestNick(request)).map((n) => n.text)).toContain(said);
    expect(model.home.lines.map((l) => l.text)).toContain(said);
  });

  it("a new key with a verified peer's nick is refused at once, and the home tab says why and what to do", () => {
    const { port, model } = setup();
    port.known.set(identityOf('bob').publicKey, 'bob');
    port.verified.add(identityOf('bob').publicKey);
    model.onEvent({ type: 'request', session: 1, peer: alice, nick: 'bob', ...identityOf('mallory') });
    expect(port.calls).toEqual(['decline 1']);
    expect(model.dialogRequest).toBeUndefined();
    expect(model.home.lines.at(-1)?.kind).toBe('warning');
    expect(model.home.lines.at(-1)?.text).toMatch(
      /^Refused a connection request from 127\.0\.0\.1 5555: it calls itself "bob", but the key of the bob you verified is KNWN-KNWN-KNWN-KNWN, .* run: netchat contacts forget bob$/,
    );
  });
});

describe('/me (issue 18, what people reached for next)', () => {
  it('is sent as an action, shown as one, and logged as one: a reopened chat shows it as an action', () => {
    const home = mkdtempSync(join(tmpdir(), 'netchat-tui-me-'));
    homes.push(home);
    const first = setup({ history: new ChatHistory(home) });
    first.model.onEvent({ type: 'request', session: 1, peer: alice, nick: 'alice', ...identityOf('alice') });
    first.model.answerDialog(true);
    first.type('/me waves  at everyone');
    expect(first.port.calls.at(-1)).toBe('send 1 /me waves  at everyone');
    first.model.onEvent({ type: 'message', session: 1, peer: alice, text: '/me bows' });
    // "//me" is the text "/me", sent as it is: no action.
    first.type('//me is a command');
    expect(first.port.calls.at(-1)).toBe('send 1 /me is a command');
    const shown = (model: typeof first.model) =>
      model.currentTab.lines.filter((l) => l.kind !== 'notice').map((l) => [l.kind, l.sender, l.text]);
    expect(shown(first.model)).toEqual([
      ['own_action', 'me', 'waves  at everyone'],
      ['peer_action', 'alice', 'bows'],
      ['own_action', 'me', 'is a command'],
    ]);
    const again = setup({ history: new ChatHistory(home) });
    again.model.onEvent({ type: 'request', session: 2, peer: alice, nick: 'alice', ...identityOf('alice') });
    again.model.answerDialog(true);
    expect(shown(again.model)).toEqual(shown(first.model));
    expect(again.model.currentTab.lines.filter((l) => l.old).length).toBe(3);
  });
});

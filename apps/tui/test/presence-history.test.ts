/** The TUI on the client's presence, chat history and contacts (issue 10, with 10b's client). */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatHistory } from '@netchat/client';
import { VirtualClock } from '@netchat/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import type { ModelSettings } from '../src/model/tui-model.js';
import { identityOf, testModel } from './fake-port.js';

const alice = { host: '127.0.0.1', port: 5555 };

/** A model on a clock and timers the test moves. */
function onVirtualTime(settings: Partial<ModelSettings> = {}) {
  const clock = new VirtualClock(new Date('2026-11-24T10:30:00Z').getTime());
  let changes = 0;
  const built = testModel({
    clock: () => new Date(clock.now),
    timers: clock.timers,
    onChange: () => changes++,
    ...settings,
  });
  /** Moves the clock, firing the timers that come due, in order. */
  const advance = (ms: number) => clock.advance(ms, 100);
  const open = (session = 1, nick = 'alice') => {
    built.model.onEvent({ type: 'request', session, peer: alice, nick, ...identityOf(nick) });
    built.model.answerDialog(true);
  };
  return { ...built, advance, open, changes: () => changes };
}

/** Temporary netchat homes, removed after each test whatever its outcome. */
const homes: string[] = [];
afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});
function temporaryHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'netchat-tui-history-'));
  homes.push(home);
  return home;
}

describe('typing', () => {
  it('shows "alice is typing…" in the status bar until her message, or until it expires', () => {
    const { model, advance, open, changes } = onVirtualTime();
    open();
    model.onEvent({ type: 'presence', session: 1, peer: alice, nick: 'alice', typing: true });
    expect(model.statusBar()).toContain('alice is typing…');
    expect(changes()).toBeGreaterThan(0);
    model.onEvent({ type: 'message', session: 1, peer: alice, text: 'done' });
    expect(model.statusBar()).not.toContain('typing');
    model.onEvent({ type: 'presence', session: 1, peer: alice, nick: 'alice', typing: true });
    advance(6_000);
    expect(model.statusBar()).toContain('alice is typing…');
    const before = changes();
    advance(2_000);
    expect(model.statusBar()).not.toContain('typing');
    expect(changes()).toBe(before + 1); // the expiry asked for a redraw
  });

  it('tells the peer we type, at most once per refresh period, and that we stopped when the draft is emptied', () => {
    const { model, port, advance, open } = onVirtualTime();
    open();
    const typing = () => port.calls.filter((c) => c.startsWith('typing'));
    for (const ch of 'hello') {
      model.editor.insert(ch);
      model.typed();
      advance(100);
    }
    expect(typing()).toEqual(['typing 1 true']);
    advance(3_000);
    model.editor.insert('!');
    model.typed();
    expect(typing()).toEqual(['typing 1 true', 'typing 1 true']);
    model.editor.clear();
    model.typed();
    expect(typing()).toEqual(['typing 1 true', 'typing 1 true', 'typing 1 false']);
    // A command is not a message being written.
    model.editor.insert('/list');
    model.typed();
    expect(typing()).toHaveLength(3);
  });
});

describe('nicks', () => {
  it("/nick reaches the open chats, and a peer's new nick renames its tab", () => {
    const { model, port, open } = onVirtualTime();
    open();
    model.editor.insert('/nick zed');
    model.submit();
    expect(port.calls).toContain('nick zed');
    expect(model.currentTab.lines.at(-1)?.text).toBe('You are now zed (your 1 open chat is told).');
    model.onEvent({ type: 'presence', session: 1, peer: alice, nick: 'alicia', typing: false });
    expect(model.tabBar()[1]?.label).toBe('1 alicia');
    expect(model.currentTab.lines.at(-1)?.text).toBe('alice is now known as alicia');
  });
});

describe('chat history', () => {
  it('logs a chat per peer key (0600) and shows its last lines dimmed when the peer comes back', () => {
    const home = temporaryHome();
    const history = new ChatHistory(home);
    const first = onVirtualTime({ history });
    first.open();
    first.model.editor.insert('hello alice');
    first.model.submit();
    first.model.onEvent({ type: 'message', session: 1, peer: alice, text: 'hi me' });
    const file = join(home, 'history', `${identityOf('alice').publicKey}.jsonl`);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const again = onVirtualTime({ history: new ChatHistory(home) });
    again.open(7);
    // The heading, then the dimmed lines, then this chat (issue 18: the heading came after them).
    expect(again.model.currentTab.lines.map((l) => [l.old === true, l.kind, l.sender, l.text])).toEqual([
      [false, 'notice', '', 'Earlier chats with this key: the last 2 lines, dimmed.'],
      [true, 'own', 'me', 'hello alice'],
      [true, 'peer', 'alice', 'hi me'],
      [false, 'notice', '', 'Accepted the request from 127.0.0.1 5555 (alice).'],
      [false, 'notice', '', 'Fingerprint: ALIC-FPFP-FPFP-FPFP (new: this key has not been seen before)'],
    ]);
  });

  it('a reopened /connect shows the heading and the dimmed history above "Sending connection request…"', async () => {
    const home = temporaryHome();
    const history = new ChatHistory(home);
    history.record(identityOf('bob').publicKey, {
      at: '2026-11-23T09:00:00.000Z',
      direction: 'in',
      nick: 'bob',
      text: 'see you tomorrow',
    });
    const { model, port } = onVirtualTime({ history });
    model.editor.insert('/connect 127.0.0.1 6666');
    model.submit();
    await new Promise((r) => setTimeout(r, 0));
    expect(port.calls).toEqual(['connect 127.0.0.1:6666']);
    model.onEvent({
      type: 'accepted',
      session: 100,
      peer: { host: '127.0.0.1', port: 6666 },
      nick: 'bob',
      ...identityOf('bob'),
    });
    const lines = model.currentTab.lines.map((l) => l.text);
    expect(lines.slice(0, 4)).toEqual([
      'Earlier chats with this key: the last 1 line, dimmed.',
      'see you tomorrow',
      'Sending connection request to 127.0.0.1 6666…',
      'Connected to 127.0.0.1 6666 (bob).',
    ]);
    // Numbered in the order shown, so scrolling holds on to the right line.
    const seqs = model.currentTab.lines.map((l) => l.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
  });

  it('/log off stops logging (and says so), /log on starts it again, /log tells the state', () => {
    const home = temporaryHome();
    const history = new ChatHistory(home);
    const { model, open } = onVirtualTime({ history });
    const say = (text: string) => {
      model.editor.insert(text);
      model.submit();
      return model.currentTab.lines.at(-1)?.text;
    };
    expect(say('/log')).toMatch(
      /^Chat history is on: conversations are logged in .*history \(\/log off stops it\)\.$/,
    );
    expect(say('/log off')).toBe('Chat history is off: nothing is logged (/log on starts it).');
    expect(new ChatHistory(home).enabled).toBe(false); // kept for later runs
    open();
    say('not logged');
    expect(history.recent(identityOf('alice').publicKey, 10)).toEqual([]);
    say('/log on');
    say('logged');
    expect(history.recent(identityOf('alice').publicKey, 10).map((e) => e.text)).toEqual(['logged']);
    expect(say('/log maybe')).toBe('usage: /log [on|off]');
  });

  it('/bell alone tells whether it rings, as /log does; /bell off and on change it', () => {
    const { model } = onVirtualTime({ bell: false });
    const say = (text: string) => {
      model.editor.insert(text);
      model.submit();
      return model.currentTab.lines.at(-1)?.text;
    };
    expect(say('/bell')).toBe(
      'The bell is off for requests and messages in other tabs (/bell on turns it on).',
    );
    expect(say('/bell on')).toBe('Bell on for requests and messages in other tabs.');
    expect(say('/bell')).toBe(
      'The bell is on for requests and messages in other tabs (/bell off turns it off).',
    );
    expect(model.bell).toBe(true);
  });
});

describe('contacts', () => {
  const known = {
    publicKey: identityOf('bob').publicKey,
    nick: 'bob',
    fingerprint: 'BOBB-FPFP-FPFP-FPFP',
    lastAddress: { host: '127.0.0.1', port: 6666 },
    firstSeen: '2026-11-20T08:00:00.000Z',
    lastSeen: '2026-11-24T09:15:00.000Z',
  };

  it('/contacts lists the known peers; /connect NICK dials the last address', async () => {
    const { model, port } = onVirtualTime();
    const say = (text: string) => {
      model.editor.insert(text);
      model.submit();
      return model.currentTab.lines.at(-1)?.text;
    };
    expect(say('/contacts')).toBe('No known peers yet: they are added as you chat.');
    port.contactList = [known];
    expect(say('/contacts')).toBe('bob  BOBB-FPFP-FPFP-FPFP  127.0.0.1 6666  last seen 2026-11-24 09:15 UTC');
    say('/connect bob');
    // The tab is named by the nick it was opened by, not the address (issue 18).
    expect(model.currentTab).toMatchObject({ state: 'connecting', label: 'bob' });
    expect(model.tabBar()[1]?.label).toBe('1 bob');
    await new Promise((r) => setTimeout(r, 0));
    expect(port.calls).toEqual(['connect 127.0.0.1:6666']);
    model.selectTab(0);
    // The client's words for a name that means no one (the CLI's too).
    expect(say('/connect carol')).toBe(
      'invalid address "carol": expected IP and port, e.g. 127.0.0.1 6666 or [::1]:6666; no known peer is called "carol" either',
    );
  });

  it('completes known nicks with Tab', () => {
    const { model, port } = onVirtualTime();
    port.contactList = [known];
    model.editor.insert('/connect b');
    model.complete();
    expect(model.editor.text).toBe('/connect bob ');
  });
});

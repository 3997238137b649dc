/** Chat history in a temporary netchat home: per-key files, modes, the bound, corrupt lines, the setting. */
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NetchatError, toHex } from '@netchat/core';
import { temporaryDirectory, VirtualNetwork } from '@netchat/testkit';
import { describe, expect, it } from 'vitest';
import { ChatClient, ChatHistory, type Conversation, type HistoryEntry } from '../src/index.js';
import { openChat } from './support/open-chat.js';

const home = () => temporaryDirectory('netchat-history-');
const alice = 'a1'.repeat(32);
const bob = 'b2'.repeat(32);
const entry = (text: string, direction: HistoryEntry['direction'] = 'in'): HistoryEntry => ({
  at: '2026-11-24T10:00:00.000Z',
  direction,
  nick: 'alice',
  text,
});

describe('ChatHistory', () => {
  it('logs per peer key, in files only the user can read, and gives back the last lines in order', () => {
    const dir = home();
    const history = new ChatHistory(dir);
    expect(history.enabled).toBe(true);
    for (let i = 0; i < 5; i++) history.record(alice, entry(`a${i}`, i % 2 ? 'out' : 'in'));
    history.record(bob, entry('for bob'));
    expect(history.recent(alice, 3).map((e) => e.text)).toEqual(['a2', 'a3', 'a4']);
    expect(history.recent(alice, 100)).toHaveLength(5);
    expect(history.recent(bob, 10)).toEqual([entry('for bob')]);
    expect(history.recent('c3'.repeat(32), 10)).toEqual([]);
    expect(statSync(history.pathOf(alice)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'history')).mode & 0o777).toBe(0o700);
    expect(history.pathOf(alice)).toBe(join(dir, 'history', `${alice}.jsonl`));
    expect(() => history.pathOf('../../etc/passwd')).toThrow(
      expect.objectContaining({ name: 'NetchatError', code: 'INVALID_ARGUMENT' }),
    );
    expect(history.stats).toEqual({ corruptLines: 0, writeErrors: 0, lastError: '' });
  });

  it('keeps each file within its bound, dropping the oldest lines', () => {
    const dir = home();
    const history = new ChatHistory(dir, { maxBytesPerPeer: 4096 });
    for (let i = 0; i < 500; i++) {
      history.record(alice, entry(`line ${i} ${'x'.repeat(40)}`));
      expect(statSync(history.pathOf(alice)).size).toBeLessThanOrEqual(4096);
    }
    const kept = history.recent(alice, 1000);
    expect(kept.at(-1)?.text).toMatch(/^line 499 /);
    const numbers = kept.map((e) => Number(e.text.split(' ')[1]));
    expect(numbers).toEqual(numbers.map((_, i) => (numbers[0] as number) + i)); // consecutive, newest kept
    // At least three quarters of the bound stays after a trim: whole lines of about 120 bytes.
    expect(kept.length).toBeGreaterThanOrEqual(Math.floor(3072 / 130));
    expect(statSync(history.pathOf(alice)).mode & 0o777).toBe(0o600);
  });

  it('skips and counts corrupt lines, never throws, and a torn last line does not swallow the next', () => {
    const dir = home();
    const history = new ChatHistory(dir);
    history.record(alice, entry('first'));
    const path = history.pathOf(alice);
    appendFileSync(path, 'not json\n{"at":"x","direction":"sideways","nick":"a","text":"t"}\n[1,2]\n');
    appendFileSync(path, '{"at":"2026-11-24T10:00:00.000Z","direction":"in","ni'); // a crash mid-write
    const later = new ChatHistory(dir); // a new run: it knows nothing of the file yet
    later.record(alice, entry('after the crash'));
    expect(later.recent(alice, 10).map((e) => e.text)).toEqual(['first', 'after the crash']);
    expect(later.stats.corruptLines).toBe(4);
  });

  it('counts a write that fails instead of throwing', () => {
    const dir = home();
    writeFileSync(join(dir, 'history'), 'a file where the directory should be');
    const history = new ChatHistory(dir);
    expect(() => history.record(alice, entry('lost'))).not.toThrow();
    expect(history.stats.writeErrors).toBe(1);
    expect(history.stats.lastError).toMatch(/EEXIST|ENOTDIR/);
  });

  it('turns off and on, remembered in settings.json beside other settings, and logs nothing while off', () => {
    const dir = home();
    writeFileSync(join(dir, 'settings.json'), '{"bell":false}');
    const history = new ChatHistory(dir);
    history.setEnabled(false);
    const conversation = { publicKey: alice, nick: 'alice' } as Conversation;
    history.append(conversation, 'in', 'not logged');
    expect(history.recent(alice, 10)).toEqual([]);
    expect(new ChatHistory(dir).enabled).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, 'settings.json'), 'utf8'))).toEqual({
      bell: false,
      history: false,
    });
    expect(statSync(join(dir, 'settings.json')).mode & 0o777).toBe(0o600);
    history.setEnabled(true);
    history.append(conversation, 'in', 'logged');
    expect(history.recent(alice, 10).map((e) => [e.direction, e.nick, e.text])).toEqual([
      ['in', 'alice', 'logged'],
    ]);
  });

  it('says in one line that a corrupt settings file is corrupt', () => {
    const dir = home();
    writeFileSync(join(dir, 'settings.json'), '{"history": "yes"}');
    expect(() => new ChatHistory(dir)).toThrow(/settings.json is corrupt; fix it or move it away$/);
    expect(() => new ChatHistory(dir)).toThrow(NetchatError);
    expect(() => new ChatHistory(dir)).toThrow(expect.objectContaining({ code: 'UNREADABLE_FILE' }));
  });

  it('logs a whole conversation through the client, both ways, under the peer key', async () => {
    const net = new VirtualNetwork();
    const a = net.add('127.0.0.1', 1111, { nick: 'alice' });
    const b = net.add('127.0.0.2', 2222, { nick: 'bob' });
    const history = new ChatHistory(home(), {
      clock: () => new Date(Date.UTC(2026, 10, 24, 10, 0, 0, net.now)),
    });
    const ca = new ChatClient(a, a.knownPeers, { clock: () => net.now, history });
    const cb = new ChatClient(b, b.knownPeers, { clock: () => net.now });
    a.onEvent((e) => ca.handle(e));
    b.onEvent((e) => cb.handle(e));
    const { mine, theirs } = await openChat(net, ca, cb, b.address);
    const sent = ca.send(mine, 'hello bob');
    cb.send(theirs, 'hi alice');
    net.run(() => sent.status === 'delivered' && ca.unsettled().length === 0, 10_000);
    net.runFor(100);
    expect(() => ca.send(mine, '')).toThrow();
    const key = mine.publicKey ?? '';
    expect(key).toBe(toHex(b.endpoint.identity.publicKey));
    expect(history.recent(key, 10).map((e) => [e.direction, e.nick, e.text])).toEqual([
      ['out', 'bob', 'hello bob'],
      ['in', 'bob', 'hi alice'],
    ]);
  });
});

describe('ChatHistory.page: older lines, N at a time (scrolling up)', () => {
  const numbered = (i: number): HistoryEntry => ({
    at: `2026-11-24T10:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.000Z`,
    direction: i % 2 ? 'out' : 'in',
    nick: 'alice',
    text: `line ${i}`,
  });

  it('pages back from the newest to the first line, and says when there is no more', () => {
    const history = new ChatHistory(home());
    for (let i = 0; i < 25; i++) history.record(alice, numbered(i));
    const texts: string[][] = [];
    let page = history.page(alice, 10);
    texts.push(page.entries.map((e) => e.text));
    while (page.before) {
      page = history.page(alice, 10, page.before);
      texts.push(page.entries.map((e) => e.text));
    }
    expect(texts).toEqual([
      Array.from({ length: 10 }, (_, i) => `line ${15 + i}`),
      Array.from({ length: 10 }, (_, i) => `line ${5 + i}`),
      Array.from({ length: 5 }, (_, i) => `line ${i}`),
    ]);
    expect(history.page(bob, 10)).toEqual({ entries: [], before: undefined });
  });

  it('lines logged after a page do not move the next page; a trim in between is followed by time', () => {
    // About 95 bytes a line: the trim keeps 1200 bytes, line 5 onwards.
    const history = new ChatHistory(home(), { maxBytesPerPeer: 1600 });
    for (let i = 0; i < 12; i++) history.record(alice, numbered(i));
    const first = history.page(alice, 4);
    expect(first.entries.map((e) => e.text)).toEqual(['line 8', 'line 9', 'line 10', 'line 11']);
    history.record(alice, numbered(12));
    expect(history.page(alice, 2, first.before).entries.map((e) => e.text)).toEqual(['line 6', 'line 7']);
    // New lines until the file is trimmed (rewritten: its offsets change); the page still ends just before line 8.
    const inode = statSync(history.pathOf(alice)).ino;
    for (let i = 13; i < 100 && statSync(history.pathOf(alice)).ino === inode; i++)
      history.record(alice, numbered(i));
    expect(statSync(history.pathOf(alice)).ino).not.toBe(inode);
    const kept = history.all(alice).map((e) => e.text);
    expect(kept[0]).not.toBe('line 0');
    expect(kept.indexOf('line 8')).toBeGreaterThanOrEqual(2);
    const after = history.page(alice, 2, first.before);
    expect(after.entries.map((e) => e.text)).toEqual(
      kept.slice(kept.indexOf('line 8') - 2, kept.indexOf('line 8')),
    );
  });

  it('skips a corrupt line and counts it, and lists the peers it has history with', () => {
    const history = new ChatHistory(home());
    history.record(alice, numbered(0));
    appendFileSync(history.pathOf(alice), 'not json\n');
    history.record(alice, numbered(1));
    expect(history.page(alice, 5).entries.map((e) => e.text)).toEqual(['line 0', 'line 1']);
    expect(history.stats.corruptLines).toBe(1);
    history.record(bob, numbered(2));
    expect(history.peers().sort()).toEqual([alice, bob].sort());
  });
});

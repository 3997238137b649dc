/** The view-model's answers to issue 10: scrollback, tab bar, /connect, same nicks, bells, quitting. */
import { describe, expect, it } from 'vitest';
import { layoutTabBar, type TabBarEntry } from '../src/model/tab-bar.js';
import type { TuiModel } from '../src/model/tui-model.js';
import { identityOf, testModel } from './fake-port.js';

const alice = { host: '127.0.0.1', port: 5555 };
const bob = { host: '127.0.0.1', port: 6666 };

function setup(settings: Parameters<typeof testModel>[0] = {}) {
  const { port, model } = testModel(settings);
  const type = (text: string) => {
    model.editor.insert(text);
    model.submit();
  };
  const texts = (index = model.current) => model.tabs[index]?.lines.map((l) => l.text) ?? [];
  return { port, model, type, texts };
}

function acceptFrom(model: TuiModel, session: number, peer = alice, nick = 'alice', who = nick) {
  model.onEvent({ type: 'request', session, peer, nick, ...identityOf(who) });
  model.answerDialog(true);
}

/** One row per line, a 5-row conversation. */
const rows5 = { height: 5, rowsOf: () => 1 };

describe('scrollback', () => {
  it('stays still while scrolled back, counts the new lines below, and End follows again', () => {
    const { model } = setup();
    acceptFrom(model, 1);
    for (let i = 0; i < 30; i++) model.onEvent({ type: 'message', session: 1, peer: alice, text: `m${i}` });
    model.scroll(10, rows5);
    const anchor = model.currentTab.log.anchor;
    expect(anchor).toBeDefined();
    for (let i = 0; i < 3; i++) model.onEvent({ type: 'message', session: 1, peer: alice, text: `new${i}` });
    expect(model.currentTab.log.anchor).toEqual(anchor);
    expect(model.newBelow()).toBe(3);
    expect(model.statusBar()).toContain('▼ 3 new lines below (End)');
    model.scrollToBottom();
    expect(model.currentTab.log.anchor).toBeUndefined();
    expect(model.statusBar()).not.toContain('below');
  });

  it('scrolls by rows through a line taller than the screen, and Home goes to the first row', () => {
    const { model } = setup();
    acceptFrom(model, 1);
    model.onEvent({ type: 'message', session: 1, peer: alice, text: 'long' });
    const last = model.currentTab.lines.at(-1);
    // The last line takes 12 rows, every other line 1.
    const view = { height: 5, rowsOf: (l: { seq: number }) => (l.seq === last?.seq ? 12 : 1) };
    model.scroll(3, view);
    expect(model.currentTab.log.anchor).toEqual({ seq: last?.seq, row: 8 });
    model.scroll(-2, view);
    expect(model.currentTab.log.anchor).toEqual({ seq: last?.seq, row: 10 });
    model.scroll(-5, view);
    expect(model.currentTab.log.anchor).toBeUndefined();
    model.scrollToTop(view);
    // The first five rows fill the screen: the fifth is the last one shown.
    const lines = model.currentTab.lines;
    expect(lines.length).toBeGreaterThan(2);
    expect(model.currentTab.log.anchor).toEqual(
      lines.length >= 6 ? { seq: lines[4]?.seq, row: 0 } : { seq: last?.seq, row: 5 - lines.length },
    );
    // Back in time from the top goes nowhere.
    const top = model.currentTab.log.anchor;
    model.scroll(100, view);
    expect(model.currentTab.log.anchor).toEqual(top);
  });

  it('jumps to the bottom when you send', () => {
    const { model, type } = setup();
    acceptFrom(model, 1);
    for (let i = 0; i < 20; i++) model.onEvent({ type: 'message', session: 1, peer: alice, text: `m${i}` });
    model.scroll(5, rows5);
    type('back');
    expect(model.currentTab.log.anchor).toBeUndefined();
  });
});

describe('tab bar overflow', () => {
  const entries = (n: number, current: number, marks: Record<number, Partial<TabBarEntry>> = {}) =>
    Array.from({ length: n }, (_, i) => ({
      label: `${i} peer${i}`,
      current: i === current,
      unread: 0,
      waiting: 0,
      ended: false,
      ...marks[i],
    }));

  it('keeps the current tab with its neighbours and counts what is hidden each side', () => {
    const layout = layoutTabBar(
      entries(12, 7, { 0: { waiting: 2 }, 1: { unread: 3 }, 2: { unread: 1 }, 11: { unread: 5 } }),
      50,
    );
    expect(layout.shown.length).toBeLessThan(12);
    expect(layout.shown.some((e) => e.current)).toBe(true);
    expect(layout.shown.map((e) => e.label)).toContain('6 peer6');
    expect(layout.shown.map((e) => e.label)).toContain('8 peer8');
    expect(layout.left.count + layout.shown.length + layout.right.count).toBe(12);
    expect(layout.left).toMatchObject({ unread: 2, waiting: 1 });
    expect(layout.right).toMatchObject({ unread: 1, waiting: 0 });
  });

  it('shows every tab when they fit', () => {
    const layout = layoutTabBar(entries(3, 0), 80);
    expect(layout.shown).toHaveLength(3);
    expect(layout.left.count + layout.right.count).toBe(0);
  });
});

describe('/connect', () => {
  it('/close while resolving withdraws the request and removes its tab; nothing connects later', async () => {
    const { model, port, type, texts } = setup();
    type('/connect localhost 6666');
    type('/close');
    expect(model.tabs).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 0));
    expect(port.calls).toEqual([]);
    expect(texts(0).at(-1)).toBe('Cancelled the connection request to localhost 6666.');
  });

  it('/close after the request went out closes its session; a late accept opens nothing', async () => {
    const { model, port, type } = setup();
    type('/connect 127.0.0.1 6666');
    await new Promise((r) => setTimeout(r, 0));
    expect(port.calls).toEqual(['connect 127.0.0.1:6666']);
    type('/close');
    expect(port.calls).toEqual(['connect 127.0.0.1:6666', 'close 100']);
    model.onEvent({ type: 'accepted', session: 100, peer: bob, nick: 'bob', ...identityOf('bob') });
    expect(model.tabs).toHaveLength(1);
  });

  it('/connect to a peer with an open tab focuses that tab', async () => {
    const { model, port, type, texts } = setup();
    acceptFrom(model, 1, bob, 'bob');
    model.selectTab(0);
    type('/connect 127.0.0.1:6666');
    // The client's one-chat-per-peer rule ends the new conversation as a duplicate as it dials.
    await new Promise((r) => setTimeout(r, 0));
    expect(model.tabs).toHaveLength(2);
    expect(model.current).toBe(1);
    expect(texts().at(-1)).toBe('Already chatting with 127.0.0.1 6666 (bob): this tab.');
    expect(port.calls).toEqual(['accept 1']);
  });

  it('/connect to a peer we are already asking shows that tab; no second request goes out', async () => {
    const { model, port, type, texts } = setup();
    type('/connect 127.0.0.1 6666');
    await new Promise((r) => setTimeout(r, 0));
    model.selectTab(0);
    type('/connect localhost:6666');
    await new Promise((r) => setTimeout(r, 0));
    expect(port.calls).toEqual(['connect 127.0.0.1:6666']);
    expect(model.tabs).toHaveLength(2);
    expect(model.current).toBe(1);
    expect(texts().at(-1)).toBe('Already asking 127.0.0.1 6666: this tab.');
  });

  it('/connect by fingerprint to a peer with an open tab (reached by address) shows that tab', async () => {
    const { model, port, type, texts } = setup({ rendezvous: true });
    acceptFrom(model, 1, bob, 'bob');
    model.selectTab(0);
    type(`/connect ${identityOf('bob').fingerprint}`);
    await new Promise((r) => setTimeout(r, 0));
    expect(port.calls).toEqual(['accept 1']);
    expect(model.current).toBe(1);
    expect(texts().at(-1)).toBe('Already chatting with 127.0.0.1 6666 (bob): this tab.');
  });

  it('/connect by another name for a peer with an open tab asks no one and shows that tab', async () => {
    const { model, port, type, texts } = setup();
    acceptFrom(model, 1, bob, 'bob');
    model.selectTab(0);
    type('/connect localhost 6666');
    await new Promise((r) => setTimeout(r, 0));
    expect(port.calls).toEqual(['accept 1']);
    expect(model.tabs).toHaveLength(2);
    expect(model.current).toBe(1);
    expect(texts().at(-1)).toBe('Already chatting with 127.0.0.1 6666 (bob): this tab.');
  });

  it('a declined or unanswered /connect leaves no tab, and says why on the home tab', async () => {
    const { model, type, texts } = setup();
    type('/connect 127.0.0.1 6666');
    await new Promise((r) => setTimeout(r, 0));
    model.onEvent({ type: 'declined', session: 100, peer: bob, reason: 'declined', detail: '' });
    expect(model.tabs).toHaveLength(1);
    expect(texts(0).at(-1)).toBe('Connection declined by 127.0.0.1 6666.');
    type('/connect 127.0.0.1 6666');
    await new Promise((r) => setTimeout(r, 0));
    model.onEvent({ type: 'no_answer', session: 101, peer: bob });
    expect(model.tabs).toHaveLength(1);
    expect(texts(0).at(-1)).toBe('No answer from 127.0.0.1 6666.');
  });
});

describe('two peers with the same nick', () => {
  it('tab labels and the dialog add a short fingerprint', () => {
    const { model } = setup();
    acceptFrom(model, 1, alice, 'netchat-bot', 'botA');
    expect(model.tabBar()[1]?.label).toBe('1 netchat-bot');
    model.onEvent({ type: 'request', session: 2, peer: bob, nick: 'netchat-bot', ...identityOf('botB') });
    const request = model.dialogRequest;
    if (!request) throw new Error('no dialog');
    expect(model.requestNick(request)).toBe('netchat-bot#BOTB');
    model.answerDialog(true);
    expect(model.tabBar().map((t) => t.label)).toEqual([
      '0 home',
      '1 netchat-bot#BOTA',
      '2 netchat-bot#BOTB',
    ]);
  });
});

describe('what people expect', () => {
  it('/list shows every conversation with its state', () => {
    const { model, type, texts } = setup();
    type('/list');
    expect(texts().at(-1)).toBe('No conversations: /connect IP PORT to start one.');
    acceptFrom(model, 1, alice, 'alice');
    model.onEvent({ type: 'message', session: 1, peer: alice, text: 'x' });
    type('/connect 127.0.0.1 6666');
    model.selectTab(0);
    model.onEvent({ type: 'message', session: 1, peer: alice, text: 'y' });
    type('/list');
    expect(texts().slice(-2)).toEqual([
      '1. alice: 127.0.0.1:5555, open, 1 unread',
      '2. (no nick): 127.0.0.1:6666, connecting',
    ]);
  });

  it('rings for a request and for a message in another tab, not in the current one; /bell off stops it', () => {
    const { model, type } = setup();
    model.onEvent({ type: 'request', session: 1, peer: alice, nick: 'alice', ...identityOf('alice') });
    expect(model.takeBell()).toBe(true);
    expect(model.takeBell()).toBe(false);
    model.answerDialog(true);
    model.onEvent({ type: 'message', session: 1, peer: alice, text: 'here' });
    expect(model.takeBell()).toBe(false);
    model.selectTab(0);
    model.onEvent({ type: 'message', session: 1, peer: alice, text: 'elsewhere' });
    expect(model.takeBell()).toBe(true);
    type('/bell off');
    model.onEvent({ type: 'message', session: 1, peer: alice, text: 'quiet' });
    expect(model.takeBell()).toBe(false);
    expect(model.tabBar()[1]?.unread).toBe(2);
  });

  it('Ctrl+C with chats open asks first; no quits nothing, yes (or Ctrl+C again) quits', () => {
    const { model, port } = setup();
    model.askToQuit();
    expect(port.calls).toEqual(['quit']);
    const second = setup();
    acceptFrom(second.model, 1);
    second.model.askToQuit();
    expect(second.model.confirmingQuit).toBe(true);
    second.model.answerQuit(false);
    expect(second.port.calls).toEqual(['accept 1']);
    second.model.askToQuit();
    second.model.askToQuit();
    expect(second.port.calls).toEqual(['accept 1', 'quit']);
  });

  it('sends a multi-line paste as one message, and a 20,000-character paste whole', () => {
    const { model, port } = setup();
    acceptFrom(model, 1);
    model.paste('/not a command\nsecond line');
    model.submit();
    expect(port.calls.at(-1)).toBe('send 1 /not a command\nsecond line');
    const big = 'y'.repeat(20_000);
    model.paste(big);
    model.submit();
    expect(port.calls.at(-1)).toBe(`send 1 ${big}`);
    expect(port.calls.filter((c) => c.startsWith('send'))).toHaveLength(2);
  });

  it('completes nicks of open chats with Tab', () => {
    const { model } = setup();
    acceptFrom(model, 1, alice, 'alice');
    model.editor.insert('hi al');
    model.complete();
    expect(model.editor.text).toBe('hi alice ');
  });

  it('puts a message that could not be sent back into the input', () => {
    const { model, port } = setup();
    model.paste('lost?');
    model.submit();
    expect(model.editor.text).toBe('lost?');
    model.editor.clear();
    acceptFrom(model, 1);
    port.failSend = new Error('message of 70000 bytes exceeds the maximum of 65536 bytes');
    model.paste('z'.repeat(70_000));
    model.submit();
    expect(model.editor.length).toBe(70_000);
    expect(model.currentTab.lines.at(-1)?.text).toBe(
      'Not sent: message of 70000 bytes exceeds the maximum of 65536 bytes',
    );
  });
});

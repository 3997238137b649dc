/**
 * A peer who comes back: when a chat has ended (lost, closed) and the same peer (the same key)
 * connects again, or we connect to it again, the chat continues in its ended tab, its lines
 * above and a line saying it reopened; no second tab. A different key at the same address is a
 * different peer: its chat gets a tab of its own. A request from the peer of an ended tab still
 * asks first; declined, the tab stays ended.
 */
import { describe, expect, it } from 'vitest';
import type { TuiModel } from '../src/model/tui-model.js';
import { identityOf, testModel } from './fake-port.js';

const alice = { host: '127.0.0.1', port: 5555 };

function setup() {
  const { port, model } = testModel();
  const type = (text: string) => {
    model.editor.insert(text);
    model.submit();
  };
  const texts = (index = model.current) => model.tabs[index]?.lines.map((l) => l.text) ?? [];
  return { port, model, type, texts };
}

function requestFrom(model: TuiModel, session: number, nick = 'alice', key = nick) {
  model.onEvent({ type: 'request', session, peer: alice, nick, ...identityOf(key) });
}

/** A chat with alice in tab 1 that she asked for, a line in it, then lost. */
function endedChat() {
  const s = setup();
  requestFrom(s.model, 1);
  s.model.answerDialog(true);
  s.model.onEvent({ type: 'message', session: 1, peer: alice, text: 'before' });
  s.model.onEvent({ type: 'lost', session: 1, peer: alice, missed: 3 });
  expect(s.model.tabs[1]?.state).toBe('ended');
  return s;
}

describe('a peer who comes back reopens its ended tab', () => {
  it('the same key asks again: the dialog asks first, then the chat continues in the same tab', () => {
    const { model, port, texts } = endedChat();
    model.selectTab(0);
    requestFrom(model, 2);
    // Accepting is the person's choice: the tab stays ended until then.
    expect(model.dialogRequest).toMatchObject({ session: 2, nick: 'alice' });
    expect(model.tabs[1]?.state).toBe('ended');
    model.answerDialog(true);
    expect(port.calls.at(-1)).toBe('accept 2');
    expect(model.tabs).toHaveLength(2);
    expect(model.current).toBe(1);
    expect(model.currentTab).toMatchObject({ state: 'open', session: 2, nick: 'alice' });
    expect(model.tabBar()[1]?.ended).toBe(false);
    const lines = texts(1);
    expect(lines.indexOf('before')).toBeLessThan(lines.indexOf('Chat with 127.0.0.1 5555 (alice) reopened.'));
    expect(lines.slice(-2)).toEqual([
      'Accepted the request from 127.0.0.1 5555 (alice).',
      'Fingerprint: ALIC-FPFP-FPFP-FPFP (known as alice)',
    ]);
    // The chat goes on there: a line in, a line out.
    model.onEvent({ type: 'message', session: 2, peer: alice, text: 'after' });
    expect(texts(1).at(-1)).toBe('after');
    model.editor.insert('hello again');
    model.submit();
    expect(port.calls.at(-1)).toBe('send 2 hello again');
  });

  it('declined, the tab stays ended and no tab opens', () => {
    const { model, port } = endedChat();
    requestFrom(model, 2);
    model.answerDialog(false);
    expect(port.calls.at(-1)).toBe('decline 2');
    expect(model.tabs).toHaveLength(2);
    expect(model.tabs[1]?.state).toBe('ended');
    expect(model.tabBar()[1]?.ended).toBe(true);
  });

  it('we connect again: the /connect tab folds into the ended one when the same key answers', async () => {
    const { model, port, type, texts } = endedChat();
    type('/connect 127.0.0.1 5555');
    await new Promise((r) => setTimeout(r, 0));
    expect(port.calls.at(-1)).toBe('connect 127.0.0.1:5555');
    expect(model.tabs).toHaveLength(3);
    expect(model.current).toBe(2);
    model.onEvent({ type: 'accepted', session: 100, peer: alice, nick: 'alice', ...identityOf('alice') });
    expect(model.tabs).toHaveLength(2);
    expect(model.current).toBe(1);
    expect(model.currentTab).toMatchObject({ state: 'open', session: 100 });
    expect(texts(1)).toContain('before');
    expect(texts(1)).toContain('Connected to 127.0.0.1 5555 (alice).');
  });

  it('a different key at the same address is another peer: a tab of its own, the old one stays ended', () => {
    const { model, texts } = endedChat();
    requestFrom(model, 2, 'alice', 'mallory');
    model.answerDialog(true);
    expect(model.tabs).toHaveLength(3);
    expect(model.tabs[1]?.state).toBe('ended');
    expect(model.tabs[2]).toMatchObject({ state: 'open', session: 2 });
    expect(texts(1).some((t) => t.includes('reopened'))).toBe(false);
  });

  it('an ended tab that was closed is gone: the peer who comes back gets a new tab', () => {
    const { model, type } = endedChat();
    model.selectTab(1);
    type('/close');
    expect(model.tabs).toHaveLength(1);
    requestFrom(model, 2);
    model.answerDialog(true);
    expect(model.tabs).toHaveLength(2);
    expect(model.currentTab).toMatchObject({ state: 'open', session: 2 });
  });
});

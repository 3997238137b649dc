/**
 * Scrolling up past the top of a tab reads older chat history (issue 18, "what people reached
 * for next"): a page of HISTORY_PAGE_LINES at a time, above the oldest line shown, with the view
 * moving by exactly the rows asked for (no jump); `/log off`, `/clear` and an unreadable log stop
 * it; lines logged during this chat are never read back in twice.
 */
import { ChatHistory } from '@netchat/client';
import { temporaryDirectory } from '@netchat/testkit';
import { describe, expect, it, vi } from 'vitest';
import { HISTORY_LINES, HISTORY_PAGE_LINES } from '../src/model/tui-model.js';
import { identityOf, testModel } from './fake-port.js';

const alice = { host: '127.0.0.1', port: 5555 };
/** A conversation 5 rows high, one row a line. */
const view = { height: 5, rowsOf: () => 1 };

/** A home whose history with alice holds `count` lines, "old 1" (the oldest) to "old N". */
function historyWith(count: number): ChatHistory {
  const history = new ChatHistory(temporaryDirectory('netchat-tui-pages-'));
  for (let i = 1; i <= count; i++)
    history.record(identityOf('alice').publicKey, {
      at: new Date(Date.UTC(2026, 10, 1, 0, i)).toISOString(),
      direction: i % 2 === 0 ? 'out' : 'in',
      nick: 'alice',
      text: `old ${i}`,
    });
  return history;
}

function openChat(history: ChatHistory) {
  const built = testModel({ history });
  built.model.onEvent({ type: 'request', session: 1, peer: alice, nick: 'alice', ...identityOf('alice') });
  built.model.answerDialog(true);
  return built;
}

/** The texts of the rows on screen (one row a line): the `height` lines ending at the anchor. */
function shown(model: ReturnType<typeof testModel>['model']): string[] {
  const { lines, anchor } = model.currentTab.log;
  let end = lines.length - 1;
  if (anchor) end = lines.findIndex((l) => l.seq === anchor.seq);
  return lines.slice(Math.max(0, end - view.height + 1), end + 1).map((l) => l.text);
}

const olds = (texts: readonly string[]) => texts.filter((t) => t.startsWith('old '));

describe('scrolling up past the top reads older history', () => {
  it('a page at a time, the view moving by exactly the rows asked for, down to the first line logged', () => {
    const history = historyWith(130);
    const { model } = openChat(history);
    const texts = () => model.currentTab.lines.map((l) => l.text);
    expect(olds(texts())).toEqual(Array.from({ length: HISTORY_LINES }, (_, i) => `old ${121 + i}`));
    expect(texts()[0]).toBe('Earlier chats with this key: the last 10 lines, dimmed (PgUp for older ones).');
    const page = vi.spyOn(history, 'page');
    // Every line the tab shows, in order, so a move by N rows can be checked against it.
    let previous = shown(model);
    for (let step = 0; step < 60; step++) {
      const before = texts();
      model.scroll(4, view);
      const now = shown(model);
      const all = texts();
      // Lines read in went above: what was there is still there, in the same order, below them.
      expect(all.slice(all.length - before.length).slice(1)).toEqual(before.slice(1));
      // While there is more above, the heading (always first) is never on screen: it would take a row.
      if (all[0]?.includes('PgUp')) expect(now).not.toContain(all[0]);
      // Where the view's last row is among all the lines (the heading, first, moves as lines come in above).
      const at = (rows: string[]) => all.indexOf(rows.at(-1) as string);
      if (at(previous) - at(now) < 4) break;
      // No jump: the view moved 4 rows up the same lines.
      expect(at(previous) - at(now)).toBe(4);
      previous = now;
    }
    expect(shown(model)[0]).toBe('Earlier chats with this key: the last 130 lines, dimmed.');
    expect(olds(texts())).toEqual(Array.from({ length: 130 }, (_, i) => `old ${i + 1}`));
    // 120 older lines: three reads, none larger than a page.
    expect(page.mock.calls.map((call) => call[1])).toEqual([
      HISTORY_PAGE_LINES,
      HISTORY_PAGE_LINES,
      HISTORY_PAGE_LINES,
    ]);
    // Scrolling on at the top reads nothing more.
    model.scroll(4, view);
    expect(page).toHaveBeenCalledTimes(3);
  });

  it('from the top, one row up: the lines read in go above, the rows on screen move down one', () => {
    const { model } = openChat(historyWith(70));
    model.scrollToTop(view);
    expect(shown(model)).toEqual([
      'Earlier chats with this key: the last 10 lines, dimmed (PgUp for older ones).',
      'old 61',
      'old 62',
      'old 63',
      'old 64',
    ]);
    model.scroll(1, view);
    // The heading moved up above the 50 lines read in (old 11 to old 60); old 61 to old 63 are
    // one row lower, as after any scroll by one row.
    expect(shown(model)).toEqual(['old 59', 'old 60', 'old 61', 'old 62', 'old 63']);
    expect(model.currentTab.lines[0]?.text).toBe(
      'Earlier chats with this key: the last 60 lines, dimmed (PgUp for older ones).',
    );
    expect(model.currentTab.lines[1]?.text).toBe('old 11');
  });

  it("lines of this chat (logged as it goes) are not read back in; paging starts where the chat's history did", () => {
    const history = historyWith(12);
    const { model } = openChat(history);
    for (const text of ['new 1', 'new 2', 'new 3']) {
      model.editor.insert(text);
      model.submit();
    }
    for (let i = 0; i < 10; i++) model.scroll(5, view);
    const texts = model.currentTab.lines.map((l) => l.text);
    expect(olds(texts)).toEqual(Array.from({ length: 12 }, (_, i) => `old ${i + 1}`));
    expect(texts.filter((t) => t.startsWith('new '))).toEqual(['new 1', 'new 2', 'new 3']);
    expect(texts[0]).toBe('Earlier chats with this key: the last 12 lines, dimmed.');
  });

  it('/log off, /clear: nothing more is read', () => {
    const history = historyWith(40);
    const { model } = openChat(history);
    model.editor.insert('/log off');
    model.submit();
    for (let i = 0; i < 10; i++) model.scroll(5, view);
    expect(olds(model.currentTab.lines.map((l) => l.text))).toHaveLength(HISTORY_LINES);
    model.editor.insert('/log on');
    model.submit();
    model.editor.insert('/clear');
    model.submit();
    for (let i = 0; i < 10; i++) model.scroll(5, view);
    expect(model.currentTab.lines).toEqual([]);
  });

  it('a log that cannot be read any more: one warning, and paging stops', () => {
    const history = historyWith(30);
    const { model } = openChat(history);
    const failure = new Error("EACCES: permission denied, open '/home/zoe/.config/netchat/history/x.jsonl'");
    const page = vi.spyOn(history, 'page').mockImplementation(() => {
      throw failure;
    });
    for (let i = 0; i < 5; i++) model.scroll(5, view);
    const warnings = model.currentTab.lines.filter((l) => l.kind === 'warning').map((l) => l.text);
    expect(warnings).toEqual([`Chat history could not be read: ${failure.message}`]);
    expect(page).toHaveBeenCalledTimes(1);
  });
});

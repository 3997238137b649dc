/** The log budget on an injected clock: texts cut by character, lines a second, the report. */
import { describe, expect, it } from 'vitest';
import { parseBotArguments } from '../src/arguments.js';
import { LogBudget } from '../src/log-budget.js';

describe('LogBudget.text', () => {
  it('cuts by character (a surrogate pair stays whole), says the full length, and keeps short texts as they are', () => {
    const budget = new LogBudget({ textChars: 3, linesPerSecond: 1 });
    expect(budget.text('abc')).toEqual({ text: 'abc' });
    expect(budget.text('a😀😀😀b')).toEqual({ text: 'a😀😀', length: 5 });
    expect(budget.text('😀😀😀')).toEqual({ text: '😀😀😀' });
    expect(new LogBudget({ textChars: 0, linesPerSecond: 1 }).text('hello')).toEqual({ length: 5 });
    expect(new LogBudget({ textChars: 0, linesPerSecond: 1 }).text('')).toEqual({ text: '' });
  });

  it('logs C1 controls and bidi overrides as U+FFFD (JSON escapes only C0)', () => {
    const budget = new LogBudget({ textChars: 10, linesPerSecond: 1 });
    expect(budget.text('\u009b2J\u202eab')).toEqual({ text: '\ufffd2J\ufffdab' });
  });
});

describe('LogBudget.allows', () => {
  it('gives a peer its burst, then its rate; all peers together ten times that; counts and reports what it refused', () => {
    const budget = new LogBudget({ textChars: 10, linesPerSecond: 2 });
    const taken = (peer: string, count: number, now: number) =>
      Array.from({ length: count }, () => budget.allows(peer, now)).filter(Boolean).length;
    expect(taken('a:1', 5, 0)).toBe(2);
    expect(taken('a:1', 5, 1000)).toBe(2);
    expect(budget.takeReport()).toEqual({ lines: 6, peers: 1, most: { peer: 'a:1', lines: 6 } });
    expect(budget.takeReport()).toBeUndefined();
    // Twenty peers at once: 20 lines for everyone (ten times 2), each peer at most 2.
    let all = 0;
    for (let i = 0; i < 20; i++) all += taken(`p:${i}`, 2, 5000);
    expect(all).toBe(20);
    expect(budget.takeReport()).toMatchObject({ lines: 20, peers: 10 });
    // Below one a second: a line every so often, never none.
    const slow = new LogBudget({ textChars: 10, linesPerSecond: 0.5 });
    expect([0, 1000, 2000, 3000].map((now) => slow.allows('s:1', now))).toEqual([true, false, true, false]);
  });
});

describe('--log-text and --log-rate', () => {
  it('default to 200 characters and 20 lines a second; a bad value is a bad argument', () => {
    expect(parseBotArguments(['7000'])).toMatchObject({ 'log-text': 200, 'log-rate': 20 });
    expect(parseBotArguments(['7000', '--log-text', '0', '--log-rate', '0.5'])).toMatchObject({
      'log-text': 0,
      'log-rate': 0.5,
    });
    expect(() => parseBotArguments(['7000', '--log-text', '-1'])).toThrow(/--log-text/);
    expect(() => parseBotArguments(['7000', '--log-text', '70000'])).toThrow(/at most 65536/);
    expect(() => parseBotArguments(['7000', '--log-rate', '0'])).toThrow(/--log-rate/);
  });
});

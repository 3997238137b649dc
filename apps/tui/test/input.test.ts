import { describe, expect, it } from 'vitest';
import { COMMAND_NAMES } from '../src/model/commands.js';
import { Completer } from '../src/model/completion.js';
import { InputHistory, LineEditor } from '../src/model/line-editor.js';
import { clusterWidth } from '../src/model/text-width.js';
import { cleanPaste, PASTE_END, PASTE_START, PasteFilter } from '../src/view/paste-filter.js';

function filter() {
  const forwarded: string[] = [];
  const pasted: string[] = [];
  const f = new PasteFilter(
    (t) => forwarded.push(t),
    (t) => pasted.push(t),
  );
  return { f, forwarded, pasted };
}

describe('bracketed paste', () => {
  it('takes a paste out whole, keys before and after go on to blessed', () => {
    const { f, forwarded, pasted } = filter();
    f.feed(`ab${PASTE_START}line one\r\nline two\rthree${PASTE_END}\r`);
    expect(pasted).toEqual(['line one\nline two\nthree']);
    expect(forwarded.join('')).toBe('ab\r');
  });

  it('finds the markers when a chunk ends inside one', () => {
    const { f, forwarded, pasted } = filter();
    const all = `x${PASTE_START}${'y'.repeat(100)}${PASTE_END}z`;
    // Every split point, two chunks each: the result is always the same. (But one: a chunk that
    // ends in a lone ESC is the Esc key, passed on at once.)
    const loneEsc = all.indexOf(PASTE_START) + 1;
    for (let cut = 0; cut <= all.length; cut++) {
      if (cut === loneEsc) continue;
      f.feed(all.slice(0, cut));
      f.feed(all.slice(cut));
    }
    expect(pasted).toHaveLength(all.length);
    expect(pasted.every((p) => p === 'y'.repeat(100))).toBe(true);
    expect(forwarded.join('')).toBe('xz'.repeat(all.length));
  });

  it('passes a lone Esc (and arrow keys) on at once', () => {
    const { f, forwarded } = filter();
    f.feed('\u001b');
    f.feed('\u001b[A');
    expect(forwarded).toEqual(['\u001b', '\u001b[A']);
  });

  it('inserts a long run of plain text whole without bracketed paste; keys around it go on', () => {
    const { f, forwarded, pasted } = filter();
    const long = 'w'.repeat(100);
    f.feed(`ab\u001b[A${long}\rshort`);
    expect(pasted).toEqual([long]);
    expect(forwarded).toEqual(['ab\u001b[A', '\rshort']);
  });

  it('drops control characters from pasted text and a trailing line break', () => {
    expect(cleanPaste('a\u001b[31mb\u0007\tc\n\n')).toBe('a[31mb\tc');
  });

  it('hands a 20,000-character paste over as one text', () => {
    const { f, pasted } = filter();
    const text = 'x'.repeat(20_000);
    for (let i = 0; i < text.length; i += 4096)
      f.feed(`${i === 0 ? PASTE_START : ''}${text.slice(i, i + 4096)}`);
    f.feed(PASTE_END);
    expect(pasted).toEqual([text]);
  });
});

describe('the input line', () => {
  it('moves by word with Alt+B and Alt+F, and kills to either end with Ctrl+K and Ctrl+U', () => {
    const e = new LineEditor();
    e.insert('one two  three');
    e.wordLeft();
    expect(e.cursor).toBe(9);
    e.wordLeft();
    expect(e.cursor).toBe(4);
    e.wordRight();
    expect(e.cursor).toBe(7);
    e.killToEnd();
    expect(e.text).toBe('one two');
    e.wordLeft();
    e.killToStart();
    expect(e.text).toBe('two');
    expect(e.cursor).toBe(0);
    e.end();
    e.insert('\nnext line');
    expect(e.text).toBe('two\nnext line');
  });

  it('shows a window around the cursor, whatever the length of the text', () => {
    const e = new LineEditor();
    e.insert('x'.repeat(20_000));
    expect(e.window(10, clusterWidth)).toEqual({
      before: 'x'.repeat(9),
      at: '',
      after: '',
      clippedLeft: true,
      clippedRight: false,
    });
    e.home();
    const start = e.window(10, clusterWidth);
    expect(start).toMatchObject({ before: '', at: 'x', clippedLeft: false, clippedRight: true });
    expect(start.after).toHaveLength(9);
  });

  it('fits the window in cells: two-cell clusters count two', () => {
    const e = new LineEditor();
    e.insert('ab😀😀😀');
    expect(e.window(5, clusterWidth)).toMatchObject({ before: '😀😀', at: '', clippedLeft: true });
    e.home();
    expect(e.window(5, clusterWidth)).toMatchObject({ at: 'a', after: 'b😀', clippedRight: true });
  });

  it('edits by grapheme cluster: a skin tone, a ZWJ family or a flag is one step, even typed piece by piece', () => {
    const e = new LineEditor();
    // As a terminal sends them: one code point per key event.
    for (const ch of Array.from('hi 👨‍👩‍👧👍🏽🇺🇸!')) e.insert(ch);
    expect(e.length).toBe(7);
    e.backspace();
    e.backspace();
    expect(e.text).toBe('hi 👨‍👩‍👧👍🏽');
    e.left1();
    e.backspace();
    expect(e.text).toBe('hi 👍🏽');
  });

  it('shares the history between tabs but keeps one draft per editor', () => {
    const history = new InputHistory();
    const a = new LineEditor(history);
    const b = new LineEditor(history);
    a.insert('sent from a');
    a.take();
    b.insert('draft in b');
    a.insert('draft in a');
    b.up();
    expect(b.text).toBe('sent from a');
    b.down();
    expect(b.text).toBe('draft in b');
    expect(a.text).toBe('draft in a');
  });
});

describe('tab completion', () => {
  it('completes a command, then cycles through the others that match', () => {
    const e = new LineEditor();
    const c = new Completer();
    e.insert('/c');
    expect(c.complete(e, COMMAND_NAMES, [])).toBe(true);
    expect(e.text).toBe('/connect ');
    c.complete(e, COMMAND_NAMES, []);
    expect(e.text).toBe('/contacts ');
    c.complete(e, COMMAND_NAMES, []);
    expect(e.text).toBe('/cancel ');
    c.complete(e, COMMAND_NAMES, []);
    expect(e.text).toBe('/close ');
    c.complete(e, COMMAND_NAMES, []);
    expect(e.text).toBe('/clear ');
    c.complete(e, COMMAND_NAMES, []);
    expect(e.text).toBe('/connect ');
  });

  it('completes nicks: "nick: " at the start, "nick " later; nothing when nothing matches', () => {
    const e = new LineEditor();
    const c = new Completer();
    e.insert('al');
    c.complete(e, COMMAND_NAMES, ['bob', 'alice']);
    expect(e.text).toBe('alice: ');
    c.reset();
    e.insert('ask b');
    c.complete(e, COMMAND_NAMES, ['bob', 'alice']);
    expect(e.text).toBe('alice: ask bob ');
    c.reset();
    e.insert('zz');
    expect(c.complete(e, COMMAND_NAMES, ['bob'])).toBe(false);
    expect(e.text).toBe('alice: ask bob zz');
  });
});

/**
 * The keys of the input line and the tabs (what a key does while no overlay has the keyboard):
 * editing, history, completion, switching tabs and scrolling. A printable character is typed.
 */
import type { Viewport } from '../model/scroll.js';
import type { TuiModel } from '../model/tui-model.js';

/** A key press as blessed reports it. */
export interface Key {
  name?: string;
  full?: string;
  ctrl?: boolean;
  meta?: boolean;
}

export interface EditingKeys {
  press(name: string, ch: string | undefined, key: Key): void;
}

/** What the keys need of the view: a page of the conversation, and its rows. */
export interface Pages {
  page(): number;
  viewport(): Viewport;
}

export function editingKeys(model: TuiModel, pages: Pages): EditingKeys {
  const actions: Record<string, () => void> = {
    enter: () => model.submit(),
    backspace: () => model.editor.backspace(),
    delete: () => model.editor.deleteForward(),
    left: () => model.editor.left1(),
    right: () => model.editor.right1(),
    'C-a': () => model.editor.home(),
    'C-e': () => model.editor.end(),
    'C-k': () => model.editor.killToEnd(),
    'C-u': () => model.editor.killToStart(),
    'C-w': () => model.editor.deleteWordBack(),
    'M-b': () => model.editor.wordLeft(),
    'M-f': () => model.editor.wordRight(),
    linefeed: () => model.editor.insert('\n'),
    'C-j': () => model.editor.insert('\n'),
    tab: () => model.complete(),
    up: () => model.editor.up(),
    down: () => model.editor.down(),
    'C-n': () => model.nextTab(),
    'C-p': () => model.previousTab(),
    pageup: () => model.scroll(pages.page(), pages.viewport()),
    pagedown: () => model.scroll(-pages.page(), pages.viewport()),
    home: () => model.scrollToTop(pages.viewport()),
    end: () => model.scrollToBottom(),
    f1: () => {
      model.helpOpen = true;
    },
  };
  return {
    press(name, ch, key) {
      const action = actions[name];
      const altDigit = /^M-(\d)$/.exec(name);
      const editor = model.editor;
      const length = editor.length;
      if (action) action();
      else if (altDigit) model.selectTab(Number(altDigit[1]));
      else if (ch && !key.ctrl && !key.meta && !/^\p{Cc}$/u.test(ch)) editor.insert(ch);
      // The draft changed: the peer may hear that we type (the client paces it).
      if (model.editor === editor && editor.length !== length) model.typed();
    },
  };
}

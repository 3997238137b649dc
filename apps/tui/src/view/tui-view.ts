/**
 * The blessed edge of the TUI: a status bar on top, the conversation, one input line, and the
 * tab bar at the bottom, plus the request dialog, the quit question and the help overlay. It
 * renders a TuiModel and turns key presses into model calls; all decisions live in the model.
 *
 * Colours: only the terminal's default colours and attributes (inverse, bold, underline), plus
 * red for what went wrong. Under TERM=screen or xterm blessed knows 8 colours, and grey or black
 * turn into black text or black bars, unreadable on a dark or a light theme; default colours read
 * on both. NO_COLOR drops the red too.
 */
import type { Readable, Writable } from 'node:stream';
import { texts } from '@netchat/client';
import blessed from 'blessed';
import { COMMAND_HELP, KEY_HELP } from '../model/commands.js';
import type { Viewport } from '../model/scroll.js';
import { fitStatus } from '../model/status-fields.js';
import { hiddenText, layoutTabBar, tabText } from '../model/tab-bar.js';
import type { ChatLine, TuiModel } from '../model/tui-model.js';
import { LogRows, type LogStyles, type Style } from './log-rows.js';
import { DIM, invisibleAsDim } from './dim.js';
import { BRACKETED_PASTE_OFF, BRACKETED_PASTE_ON, filteredInput } from './paste-filter.js';
import { teachBlessedWideCharacters } from './wide-characters.js';

export interface ViewOptions {
  input?: Readable;
  output?: Writable;
  /** terminfo name; blessed reads $TERM by default. */
  terminal?: string;
  /** NO_COLOR: no colours, only attributes and text marks. */
  noColor: boolean;
  /** --mouse: take the mouse (wheel scrolls); off, the terminal keeps drag-to-copy. */
  mouse?: boolean;
}

interface Key {
  name?: string;
  full?: string;
  ctrl?: boolean;
  meta?: boolean;
}

const PLAIN: Style = ['', ''];
const BOLD: Style = ['{bold}', '{/bold}'];

function logStyles(noColor: boolean): LogStyles {
  const red: Style = noColor ? BOLD : ['{bold}{red-fg}', '{/red-fg}{/bold}'];
  return { plain: PLAIN, own: PLAIN, peer: BOLD, notice: PLAIN, warning: red, failed: red, old: DIM };
}

export class TuiView {
  readonly screen: blessed.Widgets.Screen;
  private readonly status: blessed.Widgets.BoxElement;
  private readonly log: blessed.Widgets.BoxElement;
  private readonly input: blessed.Widgets.BoxElement;
  private readonly tabs: blessed.Widgets.BoxElement;
  private readonly dialog: blessed.Widgets.BoxElement;
  private readonly confirm: blessed.Widgets.BoxElement;
  private readonly help: blessed.Widgets.BoxElement;
  private readonly logRows: LogRows;
  private readonly closeInput: () => void;
  private readonly output: Writable;
  private destroyed = false;
  private renderQueued = false;
  private helpWidth = 0;

  constructor(
    private readonly model: TuiModel,
    options: ViewOptions,
  ) {
    teachBlessedWideCharacters();
    this.output = options.output ?? process.stdout;
    const input = filteredInput(options.input ?? process.stdin, (text) => {
      model.paste(text);
      model.typed();
      this.scheduleRender();
    });
    this.closeInput = input.close;
    this.screen = quietly(() =>
      blessed.screen({
        input: input.stream,
        output: this.output,
        terminal: options.terminal,
        fullUnicode: true,
        // netchat shows Unicode text anyway; do not fall back to line-drawing letters without a UTF-8 locale.
        forceUnicode: true,
        smartCSR: true,
        warnings: false,
        title: 'netchat',
        autoPadding: false,
      } as unknown as blessed.Widgets.IScreenOptions),
    );
    // Draw box lines as UTF-8 characters rather than through the alternate character set (as
    // ncurses does with NCURSES_NO_UTF8_ACS): the text is UTF-8 anyway, and it reads the same.
    (this.screen as unknown as { tput: { brokenACS: boolean } }).tput.brokenACS = true;
    const program = this.screen.program as unknown as { _write(text: string): unknown };
    const write = program._write.bind(program);
    program._write = (text: string) => write(invisibleAsDim(text));
    this.logRows = new LogRows(logStyles(options.noColor));
    const bar = { inverse: true };
    this.status = blessed.box({ parent: this.screen, top: 0, left: 0, width: '100%', height: 1, style: bar });
    this.log = blessed.box({
      parent: this.screen,
      top: 1,
      left: 0,
      width: '100%',
      height: '100%-3',
      tags: true,
      // Rows come wrapped to the width (LogRows); blessed only draws them.
      wrap: false,
    });
    this.input = blessed.box({
      parent: this.screen,
      bottom: 1,
      left: 0,
      width: '100%',
      height: 1,
      tags: true,
    });
    this.tabs = blessed.box({
      parent: this.screen,
      bottom: 0,
      left: 0,
      width: '100%',
      height: 1,
      tags: true,
    });
    this.dialog = blessed.box({
      parent: this.screen,
      top: 'center',
      left: 'center',
      width: '80%',
      height: 10,
      border: { type: 'line' },
      tags: true,
      hidden: true,
      label: ' Connection request ',
    });
    this.confirm = blessed.box({
      parent: this.screen,
      top: 'center',
      left: 'center',
      width: '80%',
      height: 3,
      border: { type: 'line' },
      tags: true,
      hidden: true,
      label: ' Quit ',
    });
    this.help = blessed.box({
      parent: this.screen,
      top: 'center',
      left: 'center',
      width: '90%',
      height: '90%',
      border: { type: 'line' },
      label: ' help: Esc closes, ↑↓ scroll ',
      tags: false,
      hidden: true,
      scrollable: true,
      alwaysScroll: true,
    });
    this.screen.on('keypress', (ch: string | undefined, key: Key) => this.onKey(ch, key));
    this.screen.on('resize', () => this.render());
    if (options.mouse) {
      this.log.on('wheelup', () => this.scrollBy(3));
      this.log.on('wheeldown', () => this.scrollBy(-3));
      this.log.enableMouse();
    }
    this.output.write(BRACKETED_PASTE_ON);
    this.screen.program.hideCursor();
  }

  /** Draws the model as it is now. */
  render(): void {
    if (this.destroyed) return;
    const m = this.model;
    const width = Math.max(1, Number(this.screen.width));
    this.renderLog(width);
    this.status.setContent(blessed.escape(fitStatus(m.statusFields(), width, strWidth)));
    this.tabs.setContent(this.tabBar(width));
    this.input.setContent(this.inputLine(width));
    this.renderDialog();
    if (m.confirmingQuit) {
      const n = m.openChats;
      this.confirm.setContent(`{bold}Close ${n} chat${n === 1 ? '' : 's'} and quit? (y/n){/bold}`);
      this.confirm.show();
    } else this.confirm.hide();
    if (m.helpOpen) {
      const inner = Math.max(1, Number(this.help.width) - 2);
      if (this.helpWidth !== inner) {
        this.help.setContent(helpText(inner));
        this.helpWidth = inner;
      }
      this.help.show();
    } else this.help.hide();
    if (m.takeBell()) this.screen.program.bell();
    this.screen.render();
  }

  /** Redraws once on the next turn of the event loop, however many changes come before it. */
  scheduleRender(): void {
    if (this.renderQueued) return;
    this.renderQueued = true;
    setImmediate(() => {
      this.renderQueued = false;
      this.render();
    });
  }

  /** Gives the terminal back as it was: normal screen, cursor shown, mouse off, no bracketed paste. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.output.write(BRACKETED_PASTE_OFF);
    this.screen.destroy();
    this.closeInput();
  }

  /** The visible text, row by row (what a person would see); for tests. */
  text(): string[] {
    const lines = (this.screen as unknown as { lines: [unknown, string][][] }).lines;
    return lines.map((row) => row.map((cell) => (cell[1] === '\x03' ? '' : cell[1])).join(''));
  }

  /** The conversation's size and how many rows each line takes, for scrolling by rows. */
  viewport(): Viewport {
    const width = Math.max(1, Number(this.screen.width));
    return {
      height: Math.max(1, Number(this.log.height)),
      rowsOf: (line) => this.logRows.rowsOf(line as ChatLine, width),
    };
  }

  private renderLog(width: number): void {
    const tab = this.model.currentTab;
    const height = Math.max(1, Number(this.log.height));
    this.log.setContent(this.logRows.visible(tab.lines, tab.anchor, width, height).join('\n'));
  }

  private tabBar(width: number): string {
    const layout = layoutTabBar(this.model.tabBar(), width, strWidth);
    const parts = layout.shown.map((entry) => {
      const label = blessed.escape(tabText(entry));
      if (entry.current) return `{inverse}${label}{/inverse}`;
      if (entry.waiting > 0) return `{bold}{underline}${label}{/underline}{/bold}`;
      if (entry.unread > 0) return `{bold}${label}{/bold}`;
      return label;
    });
    const left = hiddenText(layout.left, 'left');
    const right = hiddenText(layout.right, 'right');
    const mark = (text: string, h: typeof layout.left) =>
      text && (h.unread > 0 || h.waiting > 0) ? `{bold}${blessed.escape(text)}{/bold}` : blessed.escape(text);
    return `${mark(left, layout.left)}${parts.join('│')}${mark(right, layout.right)}`;
  }

  private inputLine(width: number): string {
    const editor = this.model.editor;
    const count = editor.length > 0 ? ` [${editor.length}]` : '';
    const summary = editor.length >= width - 4 ? count : '';
    const room = Math.max(1, width - 2 - summary.length - 1);
    const w = editor.window(room);
    const show = (s: string) => blessed.escape(s.replace(/\n/g, '↵').replace(/\t/g, ' '));
    const prompt = w.clippedLeft ? '…' : '>';
    const at = w.at === '' ? ' ' : w.at;
    return `${prompt} ${show(w.before)}{inverse}${show(at)}{/inverse}${show(w.after)}${summary ? `{bold}${summary}{/bold}` : ''}`;
  }

  private renderDialog(): void {
    const request = this.model.dialogRequest;
    if (!request) {
      this.dialog.hide();
      return;
    }
    const nick = request.nick ? `\nNick: ${blessed.escape(this.model.requestNick(request))}` : '';
    const trust = texts
      .trustNotices(request.trust)
      .map((n) => (n.warning ? `{bold}${blessed.escape(n.text)}{/bold}` : blessed.escape(n.text)))
      .join('\n');
    this.dialog.setContent(
      `Connection request from: ${request.peer.host} ${request.peer.port}${nick}\n${trust}\n{bold}Accept connection? (y/n){/bold}  Esc: later`,
    );
    this.dialog.show();
  }

  private scrollBy(rows: number): void {
    this.model.scroll(rows, this.viewport());
    this.render();
  }

  private onKey(ch: string | undefined, key: Key): void {
    const m = this.model;
    const name = key.full ?? key.name ?? '';
    if (name !== 'tab') m.completer.reset();
    if (name === 'C-c') {
      m.askToQuit();
    } else if (m.confirmingQuit) {
      if (name === 'y' || name === 'n' || name === 'escape') m.answerQuit(name === 'y');
    } else if (m.helpOpen) {
      this.onHelpKey(name);
    } else if (m.dialogRequest && (name === 'y' || name === 'n' || name === 'escape')) {
      if (name === 'escape') m.dismissDialog();
      else m.answerDialog(name === 'y');
    } else if (m.dialogRequest) {
      // While the dialog is up, other keys are not typed: the input line keeps what it had.
    } else {
      this.onEditingKey(name, ch, key);
    }
    this.scheduleRender();
  }

  private onHelpKey(name: string): void {
    const page = Math.max(1, Number(this.help.height) - 3);
    const moves: Record<string, number> = { up: -1, down: 1, pageup: -page, pagedown: page };
    if (name === 'escape' || name === 'f1' || name === 'q') this.model.helpOpen = false;
    else if (name === 'home') this.help.setScroll(0);
    else if (name === 'end') this.help.setScrollPerc(100);
    else if (moves[name] !== undefined) this.help.scroll(moves[name]);
  }

  private readonly editingKeys: Record<string, (view: TuiView) => void> = {
    enter: (v) => v.model.submit(),
    backspace: (v) => v.model.editor.backspace(),
    delete: (v) => v.model.editor.deleteForward(),
    left: (v) => v.model.editor.left1(),
    right: (v) => v.model.editor.right1(),
    'C-a': (v) => v.model.editor.home(),
    'C-e': (v) => v.model.editor.end(),
    'C-k': (v) => v.model.editor.killToEnd(),
    'C-u': (v) => v.model.editor.killToStart(),
    'C-w': (v) => v.model.editor.deleteWordBack(),
    'M-b': (v) => v.model.editor.wordLeft(),
    'M-f': (v) => v.model.editor.wordRight(),
    linefeed: (v) => v.model.editor.insert('\n'),
    'C-j': (v) => v.model.editor.insert('\n'),
    tab: (v) => v.model.complete(),
    up: (v) => v.model.editor.up(),
    down: (v) => v.model.editor.down(),
    'C-n': (v) => v.model.nextTab(),
    'C-p': (v) => v.model.previousTab(),
    pageup: (v) => v.model.scroll(v.page(), v.viewport()),
    pagedown: (v) => v.model.scroll(-v.page(), v.viewport()),
    home: (v) => v.model.scrollToTop(v.viewport()),
    end: (v) => v.model.scrollToBottom(),
    f1: (v) => {
      v.model.helpOpen = true;
    },
  };

  private page(): number {
    return Math.max(1, Number(this.log.height) - 1);
  }

  private onEditingKey(name: string, ch: string | undefined, key: Key): void {
    const action = this.editingKeys[name];
    const altDigit = /^M-(\d)$/.exec(name);
    const editor = this.model.editor;
    const length = editor.length;
    if (action) action(this);
    else if (altDigit) this.model.selectTab(Number(altDigit[1]));
    else if (ch && !key.ctrl && !key.meta && !/^\p{Cc}$/u.test(ch)) editor.insert(ch);
    // The draft changed: the peer may hear that we type (the client paces it).
    if (this.model.editor === editor && editor.length !== length) this.model.typed();
  }
}

/**
 * Runs `make` with console.error silenced. blessed compiles every terminfo string when it makes a
 * screen; some it cannot (screen-256color's plab_norm), and then it prints the generated code to
 * stderr, which lands on the person's terminal, before it carries on without that capability.
 */
function quietly<T>(make: () => T): T {
  const error = console.error;
  console.error = () => {};
  try {
    return make();
  } finally {
    console.error = error;
  }
}

function strWidth(text: string): number {
  return (blessed as unknown as { unicode: { strWidth(s: string): number } }).unicode.strWidth(text);
}

/** The help in two columns, or (too narrow for that) each explanation under its command. */
export function helpText(width: number): string {
  const rows = [...COMMAND_HELP, ['', ''] as [string, string], ...KEY_HELP];
  const pad = Math.max(...rows.map(([what]) => what.length));
  const longest = Math.max(...rows.map(([, why]) => why.length));
  const wide = 1 + pad + 2 + longest <= width;
  return rows
    .map(([what, why]) => {
      if (!what) return '';
      return wide ? ` ${what.padEnd(pad)}  ${why}` : ` ${what}\n   ${why}`;
    })
    .join('\n');
}

/**
 * The blessed edge of the TUI: a status bar on top, the conversation, one input line, and the
 * tab bar at the bottom, plus the request dialog and the help overlay. It renders a TuiModel and
 * turns key presses into model calls; all decisions live in the model.
 */
import type { Readable, Writable } from 'node:stream';
import { texts } from '@netchat/client';
import { terminalSafe } from '@netchat/core';
import blessed from 'blessed';
import { COMMAND_HELP, KEY_HELP } from '../model/commands.js';
import { type ChatLine, clockTime, type TuiModel } from '../model/tui-model.js';
import { teachBlessedWideCharacters } from './wide-characters.js';

export interface ViewOptions {
  input?: Readable;
  output?: Writable;
  /** terminfo name; blessed reads $TERM by default. */
  terminal?: string;
  /** NO_COLOR: no colours, only inverse video and text marks. */
  noColor: boolean;
}

interface Key {
  name?: string;
  full?: string;
  ctrl?: boolean;
  meta?: boolean;
}

/** A sent line's mark; without an acknowledgement, say only what is known. */
const MARKS = {
  pending: ' …',
  delivered: ' ✓',
  not_confirmed: ' ? not confirmed delivered',
  not_sent: ' ✗ not sent',
} as const;

export class TuiView {
  readonly screen: blessed.Widgets.Screen;
  private readonly status: blessed.Widgets.BoxElement;
  private readonly log: blessed.Widgets.BoxElement;
  private readonly input: blessed.Widgets.BoxElement;
  private readonly tabs: blessed.Widgets.BoxElement;
  private readonly dialog: blessed.Widgets.BoxElement;
  private readonly help: blessed.Widgets.BoxElement;
  private destroyed = false;

  constructor(
    private readonly model: TuiModel,
    private readonly options: ViewOptions,
  ) {
    teachBlessedWideCharacters();
    this.screen = blessed.screen({
      input: options.input,
      output: options.output,
      terminal: options.terminal,
      fullUnicode: true,
      // netchat shows Unicode text anyway; do not fall back to line-drawing letters without a UTF-8 locale.
      forceUnicode: true,
      smartCSR: true,
      warnings: false,
      title: 'netchat',
      autoPadding: false,
    } as blessed.Widgets.IScreenOptions);
    // Draw box lines as UTF-8 characters rather than through the alternate character set (as
    // ncurses does with NCURSES_NO_UTF8_ACS): the text is UTF-8 anyway, and it reads the same.
    (this.screen as unknown as { tput: { brokenACS: boolean } }).tput.brokenACS = true;
    const bar = options.noColor ? { inverse: true } : { bg: 'blue', fg: 'white' };
    this.status = blessed.box({
      parent: this.screen,
      top: 0,
      left: 0,
      width: '100%',
      height: 1,
      style: bar,
      tags: false,
    });
    this.log = blessed.box({
      parent: this.screen,
      top: 1,
      left: 0,
      width: '100%',
      height: '100%-3',
      tags: true,
      scrollable: true,
      alwaysScroll: true,
      wrap: true,
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
      style: options.noColor ? {} : { bg: 'black' },
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
      style: options.noColor ? {} : { border: { fg: 'yellow' } },
    });
    this.help = blessed.box({
      parent: this.screen,
      top: 'center',
      left: 'center',
      width: '90%',
      height: '90%',
      border: { type: 'line' },
      label: ' netchat help (Esc closes) ',
      tags: false,
      hidden: true,
      scrollable: true,
      content: helpText(),
    });
    this.screen.on('keypress', (ch: string | undefined, key: Key) => this.onKey(ch, key));
    this.screen.on('resize', () => this.render());
    this.log.on('wheelup', () => this.scrollBy(3));
    this.log.on('wheeldown', () => this.scrollBy(-3));
    this.log.enableMouse();
    this.screen.program.hideCursor();
  }

  /** Draws the model as it is now. */
  render(): void {
    if (this.destroyed) return;
    const m = this.model;
    const width = Math.max(1, Number(this.screen.width));
    this.renderLog();
    const tab = m.currentTab;
    this.status.setContent(fit(m.statusBar(tab.scrollUp > 0), width));
    this.tabs.setContent(this.tabBar(width));
    this.input.setContent(this.inputLine(width));
    this.renderDialog();
    if (m.helpOpen) this.help.show();
    else this.help.hide();
    this.screen.render();
  }

  /** Gives the terminal back as it was: normal screen, cursor shown, mouse off. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.screen.destroy();
  }

  /** The visible text, row by row (what a person would see); for tests. */
  text(): string[] {
    const lines = (this.screen as unknown as { lines: [unknown, string][][] }).lines;
    return lines.map((row) => row.map((cell) => (cell[1] === '\x03' ? '' : cell[1])).join(''));
  }

  private renderLog(): void {
    const tab = this.model.currentTab;
    this.log.setContent(tab.lines.map((line) => this.formatLine(line)).join('\n'));
    const viewport = Math.max(1, Number(this.log.height));
    const maxUp = Math.max(0, this.log.getScrollHeight() - viewport);
    tab.scrollUp = Math.min(tab.scrollUp, maxUp);
    this.log.setScroll(maxUp - tab.scrollUp);
  }

  private formatLine(line: ChatLine): string {
    const time = `{gray-fg}${clockTime(line.time)}{/gray-fg} `;
    const text = blessed.escape(line.text);
    const sender = blessed.escape(line.sender);
    const c = (color: string, s: string) => (this.options.noColor ? s : `{${color}-fg}${s}{/${color}-fg}`);
    const stamp = this.options.noColor ? `${clockTime(line.time)} ` : time;
    const mark = line.mark
      ? line.mark === 'not_confirmed' || line.mark === 'not_sent'
        ? c('red', MARKS[line.mark])
        : MARKS[line.mark]
      : '';
    switch (line.kind) {
      case 'own':
        return `${stamp}${c('green', `<${sender}>`)} ${text}${mark}`;
      case 'peer':
        return `${stamp}${c('cyan', `<${sender}>`)} ${text}`;
      case 'own_action':
        return `${stamp}${c('green', `* ${sender}`)} ${text}${mark}`;
      case 'peer_action':
        return `${stamp}${c('cyan', `* ${sender}`)} ${text}`;
      case 'notice':
        return `${stamp}${c('yellow', `-- ${text}`)}`;
      case 'warning':
        return `${stamp}${c('red', `!! ${text}`)}`;
    }
  }

  private tabBar(width: number): string {
    const parts = this.model.tabBar().map((entry) => {
      const label = blessed.escape(
        `${entry.label}${entry.unread > 0 ? ` *${entry.unread}` : ''}${entry.ended ? ' (ended)' : ''}`,
      );
      if (entry.current) return `{inverse} ${label} {/inverse}`;
      if (entry.unread > 0)
        return this.options.noColor
          ? `{bold} ${label} {/bold}`
          : `{bold}{yellow-fg} ${label} {/yellow-fg}{/bold}`;
      return ` ${label} `;
    });
    // Keep the current tab visible when the bar is wider than the screen.
    let text = parts.join('│');
    const plainLength = text.replace(/\{[^}]*\}/g, '').length;
    if (plainLength > width) text = parts.slice(this.model.current).join('│');
    return text;
  }

  private inputLine(width: number): string {
    const editor = this.model.editor;
    const prompt = '> ';
    const room = Math.max(1, width - prompt.length - 1);
    const chars = editor.codePoints;
    // Scroll the line sideways so the cursor stays in view.
    const start = Math.max(0, editor.cursor - room + 1);
    const before = chars.slice(start, editor.cursor).join('');
    const at = chars[editor.cursor] ?? ' ';
    const after = chars.slice(editor.cursor + 1, start + room).join('');
    return `${prompt}${blessed.escape(before)}{inverse}${blessed.escape(at)}{/inverse}${blessed.escape(after)}`;
  }

  private renderDialog(): void {
    const request = this.model.dialogRequest;
    if (!request) {
      this.dialog.hide();
      return;
    }
    const nick = request.nick ? `\nNick: ${blessed.escape(terminalSafe(request.nick))}` : '';
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
    this.model.scroll(rows);
    this.render();
  }

  private onKey(ch: string | undefined, key: Key): void {
    const m = this.model;
    const name = key.full ?? key.name ?? '';
    if (name === 'C-c') {
      m.run({ name: 'quit' });
    } else if (m.helpOpen) {
      if (name === 'escape' || name === 'f1' || name === 'q') m.helpOpen = false;
    } else if (m.dialogRequest && (name === 'y' || name === 'n' || name === 'escape')) {
      if (name === 'escape') m.dismissDialog();
      else m.answerDialog(name === 'y');
    } else if (m.dialogRequest) {
      // While the dialog is up, other keys are not typed: the input line keeps what it had.
    } else {
      this.onEditingKey(name, ch, key);
    }
    this.render();
  }

  private onEditingKey(name: string, ch: string | undefined, key: Key): void {
    const m = this.model;
    const e = m.editor;
    const altDigit = /^M-(\d)$/.exec(name);
    const page = Math.max(1, Number(this.log.height) - 1);
    const actions: Record<string, () => void> = {
      enter: () => m.submit(),
      return: () => m.submit(),
      backspace: () => e.backspace(),
      delete: () => e.deleteForward(),
      left: () => e.left(),
      right: () => e.right(),
      home: () => e.home(),
      end: () => e.end(),
      'C-a': () => e.home(),
      'C-e': () => e.end(),
      'C-u': () => e.clear(),
      'C-w': () => e.deleteWordBack(),
      up: () => e.up(),
      down: () => e.down(),
      'C-n': () => m.nextTab(),
      'C-p': () => m.previousTab(),
      pageup: () => m.scroll(page),
      pagedown: () => m.scroll(-page),
      f1: () => {
        m.helpOpen = true;
      },
    };
    const action = actions[name];
    if (action) action();
    else if (altDigit) m.selectTab(Number(altDigit[1]));
    else if (ch && !key.ctrl && !key.meta && !/^\p{Cc}$/u.test(ch)) e.insert(ch);
  }
}

function fit(text: string, width: number): string {
  const chars = Array.from(text);
  return chars.length <= width ? text : `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}

function helpText(): string {
  const rows = [...COMMAND_HELP, ['', ''] as [string, string], ...KEY_HELP];
  return rows.map(([what, why]) => (what ? ` ${what.padEnd(18)} ${why}` : '')).join('\n');
}

/**
 * The blessed edge of the TUI: a status bar on top, the conversation, one input line, and the
 * tab bar at the bottom (their rows in bar-rows.ts), plus the request dialog, the quit question
 * and the help overlay. It renders a TuiModel and turns key presses into model calls; all
 * decisions live in the model.
 * Every text is drawn by cells.ts (grapheme clusters, measured as wrapped); blessed keeps the
 * screen, the borders, the keys and the diffing.
 *
 * Colours: only the terminal's default colours and attributes (inverse, bold, underline), plus
 * red for what went wrong. Under TERM=screen or xterm blessed knows 8 colours, and grey or black
 * turn into black text or black bars, unreadable on a dark or a light theme; default colours read
 * on both. NO_COLOR drops the red too.
 */
import type { Readable, Writable } from 'node:stream';
import blessed from 'blessed';
import { DIALOG_ARM_MS } from '../model/request-dialog.js';
import type { Viewport } from '../model/scroll.js';
import { fitStatus } from '../model/status-fields.js';
import { PROGRESS_ROWS } from '../model/tui-files.js';
import type { ChatLine, TuiModel } from '../model/tui-model.js';
import { inputRow, tabBarRow } from './bar-rows.js';
import {
  drawnBox,
  type Look,
  mendEveryFrame,
  PLAIN,
  type Row,
  shownCell,
  teachBlessedCells,
} from './cells.js';
import { invisibleAsDim } from './dim.js';
import { type EditingKeys, editingKeys, type Key } from './keys.js';
import { LogRows, type LogStyles } from './log-rows.js';
import {
  dialogBox,
  dialogContent,
  dialogRoom,
  dialogSubject,
  helpScroll,
  helpText,
  progressRows,
  quitRows,
} from './overlays.js';
import { BRACKETED_PASTE_OFF, BRACKETED_PASTE_ON, filteredInput } from './paste-filter.js';

export interface ViewOptions {
  input?: Readable;
  output?: Writable;
  /** terminfo name; blessed reads $TERM by default. */
  terminal?: string;
  /** NO_COLOR: no colours, only attributes and text marks. */
  noColor: boolean;
  /** --mouse: take the mouse (wheel scrolls); off, the terminal keeps drag-to-copy. */
  mouse?: boolean;
  /** A clock in ms for how long the dialog has been on screen (tests move their own). */
  clock?: () => number;
}

const BOLD: Look = { bold: true };
const INVERSE: Look = { inverse: true };
/** Transfer figures are drawn at most this often (they come four a second per transfer). */
const PROGRESS_REDRAW_MS = 250;
/** Autowrap off while the screen is ours (see cells.ts), and back on. */
const AUTOWRAP_OFF = '\u001b[?7l';
const AUTOWRAP_ON = '\u001b[?7h';

function logStyles(noColor: boolean): LogStyles {
  const red: Look = noColor ? BOLD : { bold: true, red: true };
  return {
    plain: PLAIN,
    own: PLAIN,
    peer: BOLD,
    notice: PLAIN,
    warning: red,
    failed: red,
    old: { dim: true },
  };
}

export class TuiView {
  readonly screen: blessed.Widgets.Screen;
  private readonly log: blessed.Widgets.BoxElement;
  /** The progress rows of the shown chat's transfers, between its log and the input line. */
  private readonly progress: blessed.Widgets.BoxElement;
  private progressTimer: NodeJS.Timeout | undefined;
  private readonly dialog: blessed.Widgets.BoxElement;
  private readonly confirm: blessed.Widgets.BoxElement;
  private readonly help: blessed.Widgets.BoxElement;
  private readonly logRows: LogRows;
  private readonly keys: EditingKeys;
  private readonly closeInput: () => void;
  private readonly output: Writable;
  private readonly clock: () => number;
  private destroyed = false;
  private renderQueued = false;
  /** What the dialog shows (`request 3`, `offer 2`), and since when (keys answer it only once it could be seen). */
  private dialogSeen: { subject: string; at: number } | undefined;
  private helpTop = 0;

  constructor(
    private readonly model: TuiModel,
    options: ViewOptions,
  ) {
    teachBlessedCells();
    this.output = options.output ?? process.stdout;
    this.clock = options.clock ?? (() => performance.now());
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
    // A dialog's border over a wide cluster of the log must not leave half of it (cells.ts).
    mendEveryFrame(this.screen);
    const program = this.screen.program as unknown as { _write(text: string): unknown };
    const write = program._write.bind(program);
    program._write = (text: string) => write(invisibleAsDim(text));
    this.logRows = new LogRows(logStyles(options.noColor));
    this.keys = editingKeys(model, {
      page: () => Math.max(1, Number(this.log.height) - 1),
      viewport: () => this.viewport(),
    });
    const line = { parent: this.screen, left: 0, width: '100%', height: 1 } as const;
    drawnBox({ ...line, top: 0 }, (width) => [this.statusRow(width)], INVERSE);
    this.log = drawnBox({ ...line, top: 1, height: '100%-3' }, (width, height) =>
      this.logRowsShown(width, height),
    );
    this.progress = drawnBox({ ...line, bottom: 2, hidden: true }, (width, height) =>
      progressRows(this.model, width, height),
    );
    drawnBox({ ...line, bottom: 1 }, (width) => [inputRow(this.model, width)]);
    drawnBox({ ...line, bottom: 0 }, (width) => [tabBarRow(this.model, width)]);
    this.dialog = drawnBox(
      { parent: this.screen, border: { type: 'line' }, hidden: true, label: ' Connection request ' },
      (width, height) => dialogContent(this.model, width, height),
    );
    this.confirm = drawnBox(
      { parent: this.screen, border: { type: 'line' }, hidden: true, label: ' Quit ' },
      (width, height) => quitRows(this.model, width, height),
    );
    this.help = drawnBox(
      {
        parent: this.screen,
        top: 'center',
        left: 'center',
        width: '90%',
        height: '90%',
        border: { type: 'line' },
        hidden: true,
        label: ' help: Esc closes, ↑↓ scroll ',
      },
      (width, height) => {
        const lines = helpText(width);
        this.helpTop = helpScroll(this.helpTop, 0, lines.length, height);
        return lines.slice(this.helpTop, this.helpTop + height).map((text) => [{ text, look: PLAIN }]);
      },
    );
    this.screen.on('keypress', (ch: string | undefined, key: Key) => this.onKey(ch, key));
    this.screen.on('resize', () => this.render());
    if (options.mouse) {
      this.log.on('wheelup', () => this.scrollBy(3));
      this.log.on('wheeldown', () => this.scrollBy(-3));
      this.log.enableMouse();
    }
    this.output.write(BRACKETED_PASTE_ON + AUTOWRAP_OFF);
    this.screen.program.hideCursor();
  }

  /** Draws the model as it is now. */
  render(): void {
    if (this.destroyed) return;
    const m = this.model;
    this.placeProgress();
    this.placeDialog();
    this.placeQuit();
    if (m.helpOpen) this.help.show();
    else {
      this.help.hide();
      this.helpTop = 0;
    }
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

  /** Transfer figures changed: drawn within PROGRESS_REDRAW_MS, however many came meanwhile. */
  scheduleProgressRender(): void {
    if (this.progressTimer) return;
    this.progressTimer = setTimeout(() => {
      this.progressTimer = undefined;
      this.render();
    }, PROGRESS_REDRAW_MS);
    this.progressTimer.unref();
  }

  /** Gives the terminal back as it was: normal screen, cursor shown, mouse off, no bracketed paste. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    clearTimeout(this.progressTimer);
    this.output.write(BRACKETED_PASTE_OFF + AUTOWRAP_ON);
    this.screen.destroy();
    this.closeInput();
  }

  /** The visible text, row by row (what a person would see); for tests. */
  text(): string[] {
    const lines = (this.screen as unknown as { lines: [unknown, string][][] }).lines;
    return lines.map((row) => row.map((cell) => shownCell(cell[1])).join(''));
  }

  /** The conversation's size and how many rows each line takes, for scrolling by rows. */
  viewport(): Viewport {
    const width = Math.max(1, Number(this.screen.width));
    return {
      height: Math.max(1, Number(this.log.height)),
      rowsOf: (line) => this.logRows.rowsOf(line as ChatLine, width),
    };
  }

  private logRowsShown(width: number, height: number): Row[] {
    const tab = this.model.currentTab;
    return this.logRows.visible(tab.lines, tab.log.anchor, width, height);
  }

  private statusRow(width: number): Row {
    return [{ text: fitStatus(this.model.statusFields(), width), look: INVERSE }];
  }

  /** Shows the dialog, sized to its text and the screen, and notes when a new subject was first shown. */
  private placeDialog(): void {
    const subject = dialogSubject(this.model);
    if (!subject || this.model.helpOpen || this.model.confirmingQuit) {
      this.dialog.hide();
      if (!subject) this.dialogSeen = undefined;
      return;
    }
    const screen = { width: Number(this.screen.width), height: Number(this.screen.height) };
    const inner = (screen.width < 60 ? screen.width : Math.floor(screen.width * 0.8)) - 2;
    // Its rows as they fit the room there is (shorter texts on a small screen), within its borders.
    const needed = dialogContent(this.model, Math.max(1, inner), dialogRoom(screen) - 2).length;
    Object.assign(this.dialog, dialogBox(screen, needed));
    this.dialog.setLabel(subject.startsWith('offer') ? ' File offer ' : ' Connection request ');
    this.dialog.show();
    if (this.dialogSeen?.subject !== subject) this.dialogSeen = { subject, at: this.clock() };
  }

  /** Shows the quit question, as the dialog is placed: sized to what it says and the screen. */
  private placeQuit(): void {
    if (!this.model.confirmingQuit) {
      this.confirm.hide();
      return;
    }
    const screen = { width: Number(this.screen.width), height: Number(this.screen.height) };
    const inner = Math.max(1, dialogBox(screen, 0).width - 2);
    Object.assign(
      this.confirm,
      dialogBox(screen, quitRows(this.model, inner, dialogRoom(screen) - 2).length),
    );
    this.confirm.show();
  }

  /** Whether the dialog has been on screen long enough to take an answer. */
  private dialogReady(): boolean {
    const seen = this.dialogSeen;
    return (
      seen !== undefined &&
      seen.subject === dialogSubject(this.model) &&
      this.clock() - seen.at >= DIALOG_ARM_MS
    );
  }

  /**
   * The progress rows of the shown chat take rows from its log (at most PROGRESS_ROWS, one on a
   * screen under 15 rows), so the log, the input line and the tab bar never overlap them.
   */
  private placeProgress(): void {
    const height = Number(this.screen.height);
    const most = height < 15 ? 1 : PROGRESS_ROWS;
    const files = this.model.files;
    const tab = this.model.currentTab;
    const rows = files?.busy(tab) ? files.progressRows(tab, Number(this.screen.width), most).length : 0;
    if (rows === 0) this.progress.hide();
    else {
      this.progress.height = rows;
      this.progress.show();
    }
    this.log.height = Math.max(1, height - 3 - rows);
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
    } else if (name === 'C-l') {
      // As in irssi and shells: clear the terminal and draw every cell again.
      (this.screen as unknown as { realloc(): void }).realloc();
    } else if (m.confirmingQuit) {
      if (name === 'y' || name === 'n' || name === 'escape' || name === 'enter') m.answerQuit(name === 'y');
      else {
        // Typed on without answering (a Ctrl+C meant to clear the line, as in a shell): the
        // question goes and the key goes to the draft, as typed; no key is lost. Enter only
        // closes it: a draft is never sent by a key meant for the question.
        m.answerQuit(false);
        this.keys.press(name, ch, key);
      }
    } else if (m.helpOpen) {
      this.onHelpKey(name);
    } else if ((m.dialogRequest || m.dialogOffer) && DIALOG_ANSWERS[name] !== undefined) {
      // Only keys no one types in flow answer it, and only once it could be seen.
      if (this.dialogReady()) {
        if (name === 'escape') m.dismissDialog();
        else m.answerDialog(DIALOG_ANSWERS[name] === 'accept');
      }
    } else {
      this.keys.press(name, ch, key);
    }
    this.scheduleRender();
  }

  private onHelpKey(name: string): void {
    const height = Math.max(1, Number(this.help.height) - 2);
    const lines = helpText(Math.max(1, Number(this.help.width) - 2)).length;
    const moves: Record<string, number> = {
      up: -1,
      down: 1,
      pageup: -(height - 1),
      pagedown: height - 1,
      home: -lines,
      end: lines,
    };
    if (name === 'escape' || name === 'f1' || name === 'q') this.model.helpOpen = false;
    else if (moves[name] !== undefined) this.helpTop = helpScroll(this.helpTop, moves[name], lines, height);
  }
}

/** The keys the dialog takes: never a letter typed in flow. */
const DIALOG_ANSWERS: Record<string, 'accept' | 'decline' | 'later'> = {
  'M-y': 'accept',
  'M-Y': 'accept',
  'M-n': 'decline',
  'M-N': 'decline',
  escape: 'later',
};

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

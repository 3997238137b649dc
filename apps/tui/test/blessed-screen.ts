/** The real blessed screen on in-memory streams, for tests: keys typed as raw bytes, cells read back. */
import { PassThrough } from 'node:stream';
import { afterEach } from 'vitest';
import type { ModelSettings } from '../src/model/tui-model.js';
import { TuiView } from '../src/view/tui-view.js';
import { identityOf, testModel } from './fake-port.js';

export const alice = { host: '127.0.0.1', port: 5555 };
export const ESC = String.fromCharCode(27);
const views: TuiView[] = [];
afterEach(() => {
  for (const v of views.splice(0)) v.destroy();
});

type Terminal = PassThrough & { columns: number; rows: number; isTTY: boolean };

export function build(
  columns = 80,
  rows = 24,
  noColor = false,
  options: { terminal?: string; mouse?: boolean; settings?: Partial<ModelSettings> } = {},
) {
  const input = new PassThrough() as Terminal;
  const output = new PassThrough() as Terminal;
  Object.assign(output, { columns, rows, isTTY: true });
  Object.assign(input, { isTTY: true, setRawMode: () => input });
  let written = '';
  output.on('data', (chunk: Buffer) => {
    written += chunk.toString();
  });
  const { settings, ...viewOptions } = options;
  const { port, model } = testModel(settings);
  let now = 0;
  const clock = () => now;
  const view = new TuiView(model, {
    input,
    output,
    terminal: 'xterm-256color',
    noColor,
    clock,
    ...viewOptions,
  });
  views.push(view);
  view.render();
  /** Types raw bytes as a terminal would send them, then waits for blessed to handle them. */
  const keys = async (bytes: string) => {
    input.write(bytes);
    await settle();
  };
  const screenText = () => view.text();
  /** Moves the view's clock (how long the dialog has been on screen). */
  const wait = (ms: number) => {
    now += ms;
  };
  return { input, output, port, model, view, keys, screenText, wait, written: () => written };
}

/**
 * Lets blessed finish what it does on later ticks: it reads keys when the input stream emits
 * them (on a next tick) and flushes its output on setImmediate. Waiting for the check phase to
 * run is exact; a short timer is not (on a loaded machine it can fire before the flush).
 */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
}

/** Waits (polling, at most 5 s) until `check()` holds: for what blessed does on its own timers. */
export async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A 80×12 screen on a chat tab holding more lines than fit. */
export function chatWithFortyLines(options: { mouse?: boolean } = {}) {
  const built = build(80, 12, false, options);
  built.model.onEvent({ type: 'request', session: 1, peer: alice, nick: 'alice', ...identityOf('alice') });
  built.model.answerDialog(true);
  for (let i = 0; i < 40; i++)
    built.model.onEvent({ type: 'message', session: 1, peer: alice, text: `line ${i}` });
  built.view.render();
  return built;
}

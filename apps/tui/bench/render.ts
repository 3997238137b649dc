/**
 * `pnpm bench tui`: what the TUI costs where a paste used to freeze it. Prints figures and one
 * JSON line for scripts/bench.mjs; asserts nothing.
 *
 * - render: one redraw of an 80×24 screen (the real blessed screen on in-memory streams, its
 *   output flushed) with 10,000 lines of scrollback and a 20 KB input, a new message and a key
 *   press before each; beside it the same with 10 lines and a 200-character input (longer than
 *   its row as well, so both redraw the sliding input row): the floor blessed itself sets.
 * - paste: 20,000 characters from the terminal in 4 KB chunks, then Enter, until the message is
 *   handed to the peer and the screen drawn; with bracketed paste, and without it (a terminal
 *   that sends the text bare: long runs of plain text are inserted whole too). The longest the event loop was blocked meanwhile, against the shortest
 *   heartbeat interval a peer may ask for (50 ms).
 */
import { PassThrough } from 'node:stream';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { TuiView } from '../src/view/tui-view.js';
import { identityOf, testModel } from '../test/fake-port.js';

const PASTE = 20_000;
const RENDERS = 500;
const MIN_HEARTBEAT_MS = 50;
const peer = { host: '127.0.0.1', port: 5555 };

function screen(lines: number, input: number) {
  const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => stdin });
  const stdout = Object.assign(new PassThrough(), { columns: 80, rows: 24, isTTY: true });
  stdout.resume();
  const { port, model } = testModel();
  const view = new TuiView(model, {
    input: stdin,
    output: stdout,
    terminal: 'xterm-256color',
    noColor: false,
  });
  model.onEvent({ type: 'request', session: 1, peer, nick: 'alice', ...identityOf('alice') });
  model.answerDialog(true);
  for (let i = 0; i < lines; i++)
    model.onEvent({ type: 'message', session: 1, peer, text: `line ${i} ${'word '.repeat(i % 30)}` });
  model.editor.insert('i'.repeat(input));
  const flush = () => (view.screen.program as unknown as { flush(): void }).flush();
  view.render();
  flush();
  return { stdin, port, model, view, flush };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

interface Figures {
  medianMs: number;
  p99Ms: number;
}

/** Redraw times of the screens given, taken in turns so that both see the same machine load. */
function timeRenders(...setups: [lines: number, input: number][]) {
  const screens = setups.map(([lines, input]) => screen(lines, input));
  const samples: number[][] = screens.map(() => []);
  for (let i = 0; i < RENDERS; i++)
    screens.forEach((s, k) => {
      s.model.onEvent({ type: 'message', session: 1, peer, text: `new ${i}` });
      s.model.editor.insert('k');
      const start = performance.now();
      s.view.render();
      s.flush();
      samples[k]?.push(performance.now() - start);
    });
  for (const s of screens) s.view.destroy();
  return samples.map((list) => {
    list.sort((a, b) => a - b);
    return { medianMs: round(percentile(list, 0.5), 3), p99Ms: round(percentile(list, 0.99), 3) };
  });
}

async function timePaste(bracketed: boolean) {
  const s = screen(1_000, 0);
  const text = 'p'.repeat(PASTE);
  const sent = new Promise<number>((resolve) => {
    const send = s.port.send.bind(s.port);
    s.port.send = (session, t) => {
      if (t.length === PASTE) resolve(performance.now());
      return send(session, t);
    };
  });
  const delay = monitorEventLoopDelay({ resolution: 1 });
  await new Promise((r) => setImmediate(r));
  delay.enable();
  const start = performance.now();
  const bytes = bracketed ? `\u001b[200~${text}\u001b[201~\r` : `${text}\r`;
  for (let i = 0; i < bytes.length; i += 4096) s.stdin.write(bytes.slice(i, i + 4096));
  const at = await sent;
  // Then the redraw that shows it.
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  const drawn = performance.now();
  delay.disable();
  s.view.destroy();
  return {
    toSentMs: round(at - start, 1),
    toDrawnMs: round(drawn - start, 1),
    longestBlockMs: round(delay.max / 1e6, 1),
  };
}

// Warm up the JIT on a small screen first.
timeRenders([100, 100]);
// The floor: an input longer than its row too, so both redraw the row that slides as keys come.
const [big, small] = timeRenders([10_000, 20_000], [10, 200]) as [Figures, Figures];
const bracketed = await timePaste(true);
const keys = await timePaste(false);

const result = {
  name: 'tui',
  renderBig: big,
  renderSmall: small,
  renderRatio: round(big.medianMs / small.medianMs, 2),
  pasteBracketed: bracketed,
  pasteKeys: keys,
  minHeartbeatMs: MIN_HEARTBEAT_MS,
};
console.log(`render 80×24, 10,000 lines + 20 KB input: median ${big.medianMs} ms, p99 ${big.p99Ms} ms`);
console.log(`render 80×24, 10 lines + 200-char input:  median ${small.medianMs} ms, p99 ${small.p99Ms} ms`);
console.log(
  `20 KB bracketed paste: sent after ${bracketed.toSentMs} ms, drawn after ${bracketed.toDrawnMs} ms, longest block ${bracketed.longestBlockMs} ms`,
);
console.log(
  `20 KB without bracketed paste: sent after ${keys.toSentMs} ms, drawn after ${keys.toDrawnMs} ms, longest block ${keys.longestBlockMs} ms`,
);
console.log(`@@bench ${JSON.stringify(result)}`);
process.exit(0);

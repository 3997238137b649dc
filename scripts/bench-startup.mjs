#!/usr/bin/env node
/**
 * Start-up: how long the installed commands take to answer --help and --version, and to have a
 * peer ready (netchat at its prompt, netchat-bot listening), next to `node -e 0` measured in the
 * same run, the floor any Node program pays. Runs the built package (packages/release/dist/netchat,
 * the files `npm install -g` installs) as processes, through their shebang, as a person's shell
 * does. Every command is run RUNS times, the commands taking turns so that a change in the
 * machine's load touches all of them alike; the figure is the median wall time.
 * Also shows the development way (`node apps/cli/dist/main.js --version`) for comparison.
 *
 * Run: node scripts/bench-startup.mjs (after pnpm build). Prints figures and one JSON line.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'packages/release/dist/netchat/dist');
const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 30);
const WARMUP = 3;
const env = { ...process.env, NETCHAT_HOME: mkdtempSync(join(tmpdir(), 'netchat-bench-home-')) };
// The home the peers make files in goes when the benchmark ends, however it ends.
process.on('exit', () => rmSync(env.NETCHAT_HOME, { recursive: true, force: true }));

const QUICK = {
  'node -e 0': [process.execPath, ['-e', '0']],
  'netchat --version': [join(bin, 'netchat.mjs'), ['--version']],
  'netchat --help': [join(bin, 'netchat.mjs'), ['--help']],
  'netchat-tui --help': [join(bin, 'netchat-tui.mjs'), ['--help']],
  'netchat-bot --version': [join(bin, 'netchat-bot.mjs'), ['--version']],
  'netchat completion bash': [join(bin, 'netchat.mjs'), ['completion', 'bash']],
  'node apps/cli/dist/main.js --version (development)': [process.execPath, [join(root, 'apps/cli/dist/main.js'), '--version']],
};
/** A peer until it is ready: what it prints then. */
const READY = {
  'netchat 0 until its prompt': [join(bin, 'netchat.mjs'), ['0'], 'Start chat with? (IP Port): '],
  'netchat-bot 0 until listening': [join(bin, 'netchat-bot.mjs'), ['0', '--log-level', 'info'], '"event":"listening"'],
};

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const ms = (value) => Math.round(value * 10) / 10;

function timeOnce([command, args]) {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return elapsed;
}

/** Starts the peer and resolves with the milliseconds until `ready` is printed (at most 15 s). */
function timeReady([command, args, ready]) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} not ready in 15 s: ${out}`));
    }, 15_000);
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      out += chunk;
      if (!out.includes(ready)) return;
      const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
      clearTimeout(timer);
      child.once('exit', () => resolve(elapsed));
      child.kill('SIGKILL');
    });
  });
}

const times = Object.fromEntries([...Object.keys(QUICK), ...Object.keys(READY)].map((name) => [name, []]));
for (let round = 0; round < WARMUP + RUNS; round++) {
  for (const [name, command] of Object.entries(QUICK)) {
    const elapsed = timeOnce(command);
    if (round >= WARMUP) times[name].push(elapsed);
  }
  for (const [name, command] of Object.entries(READY)) {
    const elapsed = await timeReady(command);
    if (round >= WARMUP) times[name].push(elapsed);
  }
}

const floor = median(times['node -e 0']);
const figures = {};
for (const [name, values] of Object.entries(times)) {
  const m = median(values);
  figures[name] = { medianMs: ms(m), ratio: Math.round((m / floor) * 100) / 100 };
  console.log(`${name.padEnd(52)} ${String(ms(m)).padStart(7)} ms  ${(m / floor).toFixed(2)}× node -e 0`);
}
console.log(`(median of ${RUNS} runs each, taking turns)`);
console.log(`@@bench ${JSON.stringify({ name: 'startup', runs: RUNS, nodeMs: ms(floor), commands: figures })}`);

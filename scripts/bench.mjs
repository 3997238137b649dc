#!/usr/bin/env node
/**
 * `pnpm bench`: runs every benchmark, each in its own process, one after the other; prints a
 * table and writes every figure to bench-results.json. Each figure stands next to the runtime's
 * own limit measured in the same run (raw node:dgram), or next to its absolute goal.
 *
 *   pnpm bench                    everything (builds the bot first: its benchmark runs dist/)
 *   pnpm bench roundtrip connect  only these (roundtrip, throughput, connect, rendezvous, transport, files, rate, hold, startup, tui)
 *   pnpm bench transport --quick  the transport benchmark at half length (flags after the names go to the benchmarks)
 *   pnpm bench --readme           also rewrite README's performance table from the results
 *   pnpm bench --readme-only      only rewrite README's table from bench-results.json
 *
 * Benchmarks print figures; nothing here fails on a slow figure (the machine may be busy).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const core = join(root, 'packages/core');
const bot = join(root, 'apps/bot');
const tui = join(root, 'apps/tui');
const RESULTS = join(root, 'bench-results.json');
const README = join(root, 'README.md');

const BENCHES = {
  roundtrip: { cwd: core, args: ['--import', 'tsx', 'bench/roundtrip.ts'] },
  throughput: { cwd: core, args: ['--import', 'tsx', 'bench/throughput.ts'] },
  connect: { cwd: core, args: ['--import', 'tsx', 'bench/connect.ts'] },
  // The scale part runs the rendezvous from dist/, and holds 100,000 client endpoints in this process.
  rendezvous: {
    cwd: core,
    args: ['--max-old-space-size=8192', '--import', 'tsx', 'bench/rendezvous.ts'],
    needsBuild: '@netchat/core',
  },
  // Streams on simulated paths and on loopback (its two processes run the built package).
  transport: { cwd: core, args: ['--import', 'tsx', 'bench/transport.ts'], needsBuild: '@netchat/core' },
  // A file through FileLink on loopback (two processes on dist/; `--size=MiB`) and on simulated paths.
  files: { cwd: core, args: ['--import', 'tsx', 'bench/files.ts'], needsBuild: '@netchat/core' },
  rate: { cwd: bot, args: ['bench/scale.mjs', 'rate'], needsBuild: '@netchat/bot' },
  hold: { cwd: bot, args: ['bench/scale.mjs', 'hold'], needsBuild: '@netchat/bot' },
  // The installed commands (packages/release/dist) against `node -e 0`.
  startup: { cwd: root, args: ['scripts/bench-startup.mjs'], needsBuild: '@netchat/release' },
  tui: { cwd: tui, args: ['--import', 'tsx', 'bench/render.ts'] },
};

const argv = process.argv.slice(2);
const flags = new Set(argv.filter((a) => a.startsWith('--')));
/** Flags this script does not take itself go to the benchmarks (`--quick`, `--only=…`). */
const OWN_FLAGS = new Set(['--readme', '--readme-only', '--no-build']);
const passOn = argv.filter((a) => a.startsWith('--') && !OWN_FLAGS.has(a));
const chosen = argv.filter((a) => !a.startsWith('--'));
for (const name of chosen) if (!(name in BENCHES)) throw new Error(`unknown benchmark ${name}`);
const names = chosen.length > 0 ? chosen : Object.keys(BENCHES);

function run(name, { cwd, args }) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...args, ...passOn], { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    let buffered = '';
    const results = [];
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.startsWith('@@bench ')) results.push(JSON.parse(line.slice(8)));
        else console.log(line);
        newline = buffered.indexOf('\n');
      }
    });
    child.on('exit', (code) => {
      if (code !== 0) console.log(`(${name} exited with ${code})`);
      resolve(results);
    });
  });
}

const fmt = (n, digits = 0) =>
  n === undefined || Number.isNaN(n) ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: digits });
const met = (ok) => (ok === undefined ? '' : ok ? 'yes' : 'no');

/** The results as rows: figure, netchat, the runtime's limit, ratio, goal, met. */
function rows(r) {
  const out = [];
  const rt = r.roundtrip;
  if (rt) {
    out.push([
      'Round trip, 64 B, median',
      `${fmt(rt.netchat.medianUs, 1)} µs`,
      `${fmt(rt.raw.medianUs, 1)} µs`,
      `${rt.medianRatio}×`,
      '≤ 1.25×',
      met(rt.medianRatio <= 1.25),
    ]);
    out.push([
      'Round trip, 64 B, p99',
      `${fmt(rt.netchat.p99Us, 1)} µs`,
      `${fmt(rt.raw.p99Us, 1)} µs`,
      `${rt.p99Ratio}×`,
      '≤ 3×',
      met(rt.p99Ratio <= 3),
    ]);
  }
  const tp = r.throughput;
  if (tp)
    out.push([
      'One-way throughput, 64 B messages',
      `${fmt(tp.netchat.perSecond)} msg/s`,
      `${fmt(tp.raw.perSecond)} msg/s (lost ${tp.raw.lost})`,
      `${tp.ratio}`,
      '≥ 0.5',
      met(tp.ratio >= 0.5),
    ]);
  const c = r.connect;
  if (c) {
    out.push([
      'Connect, first contact, median',
      `${fmt(c.firstContact.medianUs / 1000, 2)} ms`,
      `${fmt(c.rawRoundTrip.medianUs, 1)} µs round trip`,
      `${c.firstContactInRawRoundTrips} round trips`,
      '',
      '',
    ]);
    out.push([
      'Connect, known peer (new session), median',
      `${fmt(c.existingChannel.medianUs / 1000, 2)} ms`,
      `${fmt(c.rawRoundTrip.medianUs, 1)} µs round trip`,
      `${c.existingChannelInRawRoundTrips} round trips`,
      '',
      '',
    ]);
  }
  const rv = r.rendezvous;
  if (rv) {
    out.push([
      'Open by fingerprint, direct (hole punch), 20 ms links',
      `${fmt(rv.openDirectMs)} ms`,
      '(virtual time)',
      '',
      '',
      '',
    ]);
    out.push([
      'Open by fingerprint, relayed (port-randomising NATs)',
      `${fmt(rv.openRelayedMs)} ms`,
      '(virtual time; 3 s waiting for a direct path)',
      '',
      '',
      '',
    ]);
    out.push([
      'Relay cost per packet at the rendezvous (MACs checked and made)',
      `${fmt(rv.relayUsPerPacket, 2)} µs, +${rv.relayOverheadBytes} B`,
      `${fmt(rv.bareForwardUsPerPacket, 2)} µs bare forwarding`,
      `${fmt(rv.relayUsPerPacket / rv.bareForwardUsPerPacket, 1)}×`,
      '',
      '',
    ]);
    const sc = rv.scale;
    if (sc) {
      const all = sc.holdRegistrations >= sc.clients;
      out.push([
        `Rendezvous churn: ${fmt(sc.churnRegistrations)} registrations from ${fmt(sc.addresses)} addresses, RSS after`,
        `${fmt(sc.churnRssAfterMB, 1)} MB (${sc.churnRssGrowthPercent > 0 ? '+' : ''}${fmt(sc.churnRssGrowthPercent, 1)} %)`,
        `${fmt(sc.churnRssBeforeMB, 1)} MB before`,
        '',
        'within 20 %',
        met(Math.abs(sc.churnRssGrowthPercent) <= 20),
      ]);
      out.push([
        `Rendezvous holding ${fmt(sc.holdRegistrations)} registrations (heartbeats ${sc.heartbeatSeconds} s): RSS`,
        `${fmt(sc.holdRssMB, 1)} MB`,
        `${fmt(sc.rssEmptyMB, 1)} MB empty`,
        '',
        `${fmt(sc.clients)}, ≤ 1 GB`,
        met(all && sc.holdRssMB <= 1024),
      ]);
      out.push([
        `Rendezvous holding them: CPU over ${fmt(sc.holdIdleSeconds)} s`,
        `${fmt(sc.holdCpuPercent, 2)}% of a core`,
        `load ${sc.load.join(' ')}`,
        '',
        '≤ 30%',
        met(all && sc.holdCpuPercent <= 30),
      ]);
    }
  }
  const tr = r.transport;
  for (const p of tr?.simulated ?? []) {
    out.push([
      `Stream, ${p.path}, buffer 1 BDP: share of the bottleneck`,
      `${fmt(p.share * 100, 1)} %`,
      `${fmt(p.bitsPerSecond / 1e6)} Mbit/s (virtual time)`,
      '',
      '≥ 90 %',
      met(p.share >= 0.9),
    ]);
    out.push([
      `Chat line during it, one way, p95 (${p.path})`,
      `${fmt(p.chatP95Ms, 1)} ms`,
      `${p.rttMs} ms round trip`,
      '',
      `≤ ${p.chatLimitMs} ms`,
      met(p.chatP95Ms <= p.chatLimitMs),
    ]);
    out.push([
      `Two streams (two sessions; two peers), ${p.path}`,
      `${fmt(p.fairSessions, 2)}; ${fmt(p.fairPeers, 2)}`,
      '',
      '',
      '≥ 0.8',
      met(p.fairSessions >= 0.8 && p.fairPeers >= 0.8),
    ]);
    out.push([
      `Stream at 1 % random loss, ${p.path}`,
      `${fmt(p.lossMbit, 1)} Mbit/s`,
      `${fmt(p.mathisMbit, 1)} Mbit/s TCP (Mathis)`,
      `${fmt(p.lossMbit / p.mathisMbit, 1)}×`,
      '',
      '',
    ]);
  }
  const lb = tr?.loopback;
  if (lb) {
    out.push([
      `Stream on loopback, ${fmt(lb.bytes / 1024 ** 2)} MiB, two processes${
        lb.largeDatagrams === false ? ' (1200-byte datagrams, not the default)' : ''
      }`,
      `${fmt(lb.bytesPerSecond / 1e6, 1)} MB/s`,
      `${fmt(lb.rawBytesPerSecond / 1e6, 1)} MB/s raw dgram without loss`,
      `${lb.ratio}`,
      '≥ 0.5',
      met(lb.ratio >= 0.5),
    ]);
    out.push([
      'Stream on loopback: RSS sender, receiver',
      `${fmt(lb.senderRssMB, 1)} MB, ${fmt(lb.receiverRssMB, 1)} MB`,
      '',
      '',
      '≤ 150 MB',
      met(Math.max(lb.senderRssMB, lb.receiverRssMB) <= 150),
    ]);
    out.push([
      'Chat line during it, one way, p95',
      `${fmt(lb.chatP95Ms, 1)} ms`,
      '',
      '',
      '< 50 ms',
      met(lb.chatP95Ms < 50),
    ]);
  }
  const fl = r.files?.loopback;
  if (fl) {
    out.push([
      `File on loopback, ${fmt(fl.bytes / 1024 ** 2)} MiB, two processes (read, written, fsynced, verified)`,
      `${fmt(fl.bytesPerSecond / 1e6, 1)} MB/s`,
      `${fmt(fl.rawBytesPerSecond / 1e6, 1)} MB/s raw dgram without loss`,
      `${fl.ratio}`,
      '≥ 0.5',
      met(fl.verified && fl.ratio >= 0.5),
    ]);
    out.push([
      'File on loopback: RSS sender, receiver',
      `${fmt(fl.senderRssMB, 1)} MB, ${fmt(fl.receiverRssMB, 1)} MB`,
      '',
      '',
      '≤ 150 MB',
      met(Math.max(fl.senderRssMB, fl.receiverRssMB) <= 150),
    ]);
    out.push(['Chat line during it, one way, p95', `${fmt(fl.chatP95Ms, 1)} ms`, '', '', '< 50 ms', met(fl.chatP95Ms < 50)]);
    out.push([
      "File on loopback: the sender's reads (hashing + sending)",
      `${fmt(fl.readsPerByte, 2)} × the file`,
      '',
      '',
      '≤ 2×',
      met(fl.readsPerByte <= 2),
    ]);
  }
  for (const p of r.files?.simulated ?? []) {
    out.push([
      `File, ${p.path}, buffer 1 BDP, from 2 s on`,
      `${fmt(p.fileMbit, 1)} Mbit/s`,
      `${fmt(p.streamMbit, 1)} Mbit/s one bulk stream (virtual time)`,
      `${p.ratio}`,
      '≥ 0.9',
      met(p.verified && p.ratio >= 0.9),
    ]);
    out.push([
      `Chat line during it, one way, p95 (${p.path})`,
      `${fmt(p.chatP95Ms, 1)} ms`,
      `${p.rttMs} ms round trip`,
      '',
      `≤ ${p.chatLimitMs} ms`,
      met(p.chatP95Ms <= p.chatLimitMs),
    ]);
  }
  const s = r.sessionRate;
  if (s)
    out.push([
      `New sessions/s (bot, ${s.inFlight} in flight)`,
      `${fmt(s.perSecond)}/s`,
      `bot CPU ${s.botCpuPercent}%, clients ${s.clientsCpuPercent}%`,
      '',
      '≥ 1,000/s',
      met(s.perSecond >= 1000 && s.failed === 0),
    ]);
  const h = r.hold;
  if (h) {
    const all = h.sessions >= h.goalSessions;
    out.push([
      `Sessions one bot holds (heartbeats ${h.heartbeatSeconds} s)`,
      fmt(h.sessions),
      '',
      '',
      fmt(h.goalSessions),
      met(all),
    ]);
    out.push([
      'Bot with them: RSS',
      `${fmt(h.rssMB, 1)} MB`,
      `${fmt(h.rssEmptyMB, 1)} MB empty`,
      '',
      '≤ 200 MB',
      met(all && h.rssMB <= 200),
    ]);
    out.push([
      `Bot with them: idle CPU over ${h.idleSeconds} s`,
      `${fmt(h.idleCpuPercent, 2)}% of a core`,
      '',
      '',
      '≤ 5%',
      met(all && h.idleCpuPercent <= 5),
    ]);
  }
  const st = r.startup;
  if (st) {
    const node = `${fmt(st.nodeMs, 1)} ms (node -e 0)`;
    for (const name of ['netchat --version', 'netchat --help', 'netchat-tui --help', 'netchat-bot --version']) {
      const c = st.commands[name];
      if (c) out.push([`Start-up: ${name}`, `${fmt(c.medianMs, 1)} ms`, node, `${c.ratio}×`, '≤ 1.5×', met(c.ratio <= 1.5)]);
    }
    for (const name of ['netchat 0 until its prompt', 'netchat-bot 0 until listening']) {
      const c = st.commands[name];
      if (c) out.push([`Start-up: ${name}`, `${fmt(c.medianMs, 1)} ms`, node, `${c.ratio}×`, '', '']);
    }
  }
  const t = r.tui;
  if (t) {
    out.push([
      'TUI redraw, 80×24, 10,000 lines + 20 KB input, median',
      `${fmt(t.renderBig.medianMs, 2)} ms (p99 ${fmt(t.renderBig.p99Ms, 1)})`,
      `${fmt(t.renderSmall.medianMs, 2)} ms with 10 lines, 200-char input`,
      `${t.renderRatio}×`,
      '≤ 2 ms, ≤ 1.5×',
      met(t.renderBig.medianMs <= 2 && t.renderRatio <= 1.5),
    ]);
    out.push([
      'TUI 20 KB bracketed paste: sent, drawn',
      `${fmt(t.pasteBracketed.toSentMs, 1)} ms, ${fmt(t.pasteBracketed.toDrawnMs, 1)} ms`,
      '',
      '',
      '≤ 100 ms',
      met(t.pasteBracketed.toDrawnMs <= 100),
    ]);
    out.push([
      'TUI 20 KB paste without bracketed paste: drawn',
      `${fmt(t.pasteKeys.toDrawnMs, 1)} ms`,
      '',
      '',
      '≤ 100 ms',
      met(t.pasteKeys.toDrawnMs <= 100),
    ]);
    const block = Math.max(t.pasteBracketed.longestBlockMs, t.pasteKeys.longestBlockMs);
    out.push([
      'TUI longest event-loop block during a paste',
      `${fmt(block, 1)} ms`,
      `${t.minHeartbeatMs} ms shortest heartbeat interval`,
      `${Math.round((block / t.minHeartbeatMs) * 100) / 100}`,
      '≤ 0.5',
      met(block <= t.minHeartbeatMs / 2),
    ]);
  }
  return out;
}

const HEAD = ['Figure', 'netchat', 'Runtime limit (same run)', 'Ratio', 'Goal', 'Met'];

function printTable(table) {
  const widths = HEAD.map((h, i) => Math.max(h.length, ...table.map((row) => String(row[i]).length)));
  const line = (row) => row.map((cell, i) => String(cell).padEnd(widths[i])).join('  ');
  console.log(line(HEAD));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of table) console.log(line(row));
}

function markdown(results) {
  const m = results.meta;
  const lines = [
    `| ${HEAD.join(' | ')} |`,
    `| ${HEAD.map(() => '---').join(' | ')} |`,
    ...rows(results).map((row) => `| ${row.join(' | ')} |`),
    '',
    `Measured ${m.date.slice(0, 16).replace('T', ' ')} UTC on ${m.cpus} × ${m.cpuModel}, node ${m.node}, ` +
      `load average ${m.loadBefore} before; commit ${m.commit}. Loopback, encryption on. ` +
      'Regenerate with `pnpm bench --readme`.',
  ];
  // Benchmarks not run this time keep their figures: say which, and that they are older.
  const earlier = Object.entries(results).filter(([, v]) => v?.fromEarlierRun);
  if (earlier.length > 0) {
    const when = [...new Set(earlier.map(([, v]) => String(v.fromEarlierRun).slice(0, 16).replace('T', ' ')))];
    lines.push(
      '',
      `Not run this time, so from an earlier run (${when.join(', ')} UTC or before, an older commit): ` +
        `${earlier.map(([k]) => k).join(', ')}.`,
    );
  }
  return lines.join('\n');
}

function updateReadme(results) {
  const start = '<!-- bench:start -->';
  const end = '<!-- bench:end -->';
  const text = readFileSync(README, 'utf8');
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < 0) throw new Error(`README.md has no ${start} … ${end} section`);
  writeFileSync(README, `${text.slice(0, from + start.length)}\n${markdown(results)}\n${text.slice(to)}`);
  console.log('README.md performance table updated.');
}

if (flags.has('--readme-only')) {
  updateReadme(JSON.parse(readFileSync(RESULTS, 'utf8')));
  process.exit(0);
}

const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
const meta = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
  commit:
    process.env.BENCH_COMMIT ??
    spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout.trim(),
  dirtyTree: spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' })
    .stdout.trim() !== '',
  loadBefore: load(),
};

let built = true;
const toBuild = [...new Set(names.map((n) => BENCHES[n].needsBuild).filter(Boolean))];
if (toBuild.length > 0 && !flags.has('--no-build')) {
  console.log(`Building ${toBuild.join(', ')} and what they use (their benchmarks run dist/) ...`);
  const filters = toBuild.map((name) => `--filter=${name}...`);
  const b = spawnSync('pnpm', ['exec', 'turbo', 'run', 'build', ...filters, '--output-logs=errors-only'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
  });
  built = b.status === 0;
  if (!built) console.log('Build failed: the benchmarks that run dist/ are skipped.');
}

const results = { meta };
for (const name of names) {
  if (BENCHES[name].needsBuild && !built) continue;
  console.log(`\n== ${name}`);
  for (const r of await run(name, BENCHES[name])) {
    const { name: key, ...figures } = r;
    results[key] = figures;
  }
}
meta.loadAfter = load();

// Benchmarks not run this time keep their last figures, marked as such.
let previous = {};
try {
  previous = JSON.parse(readFileSync(RESULTS, 'utf8'));
} catch {}
for (const [key, value] of Object.entries(previous))
  if (!(key in results) && key !== 'meta') results[key] = { ...value, fromEarlierRun: value.fromEarlierRun ?? previous.meta?.date };
writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);

console.log(`\nnetchat ${meta.commit}${meta.dirtyTree ? ' (tree with changes)' : ''}, node ${meta.node}, ${meta.cpus} CPUs, load ${meta.loadBefore} → ${meta.loadAfter}\n`);
printTable(rows(results));
console.log(`\nWritten to ${RESULTS}`);
if (flags.has('--readme')) updateReadme(results);

#!/usr/bin/env node
/**
 * Loss-lab report: merges one test's per-process result files into a figure line (printed, starting
 * with FIGURE) and a JSON record (appended to the run's summary file).
 *
 *   node report.mjs connect  --label L --loss P --initiator F --responder F --summary F
 *   node report.mjs idle     --label L --loss P --heartbeat MS --initiator F --responder F --summary F [--name idle|false_alarms]
 *   node report.mjs frozen   --label L --heartbeat MS --miss-limit N --initiator F --responder F --summary F
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const [kind, ...rest] = process.argv.slice(2);
const args = {};
for (let i = 0; i < rest.length; i += 2) args[rest[i].slice(2)] = rest[i + 1];
const read = (f) => (f && existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : null);
const initiator = read(args.initiator);
const responder = read(args.responder);
const label = args.label ?? '';
const pct = (p) => `${Math.round(Number(p) * 100)}%`;
const s1 = (ms) => (ms === null || ms === undefined ? '-' : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`);

function quantile(values, q) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}
const responderAt = (port) => responder?.peers?.find((p) => p.port === port);
const inWindow = (events, from, to) => events.filter((e) => e.wall >= from && e.wall <= to);
const countType = (events, type) => events.filter((e) => e.type === type).length;

function save(record) {
  const summary = read(args.summary) ?? { tests: [] };
  summary.tests.push(record);
  writeFileSync(args.summary, `${JSON.stringify(summary, null, 1)}\n`);
}
function figure(line) {
  console.log(`FIGURE [${label}] ${line}`);
  return line;
}

/** Why a connect did not open, as far as the two peers' events and counters tell. */
function diagnose(trial) {
  const r = responderAt(trial.port);
  if (!r) return 'no responder record';
  const types = r.events.map((e) => e.type);
  const sec = r.stats?.secure ?? {};
  const parts = [];
  parts.push(types.includes('request') ? 'responder saw the request' : 'responder never saw a request');
  if (types.includes('request')) parts.push(`responder events: ${[...new Set(types)].join(',')}`);
  const rep = r.stats?.endpoint ?? {};
  parts.push(
    `responder handshakesCompleted=${sec.handshakesCompleted ?? '?'} unknownChannel=${sec.unknownChannel ?? '?'}` +
      ` cookiesSent=${sec.cookiesSent ?? '?'} datagrams in/out=${rep.datagramsIn ?? '?'}/${rep.datagramsOut ?? '?'}`,
  );
  const isec = trial.stats?.secure ?? {};
  const iep = trial.stats?.endpoint ?? {};
  parts.push(
    `initiator handshakesCompleted=${isec.handshakesCompleted ?? '?'} datagrams in/out=${iep.datagramsIn ?? '?'}/${iep.datagramsOut ?? '?'}`,
  );
  return parts.join('; ');
}

function connect() {
  const trials = (initiator?.trials ?? []).filter(Boolean);
  const n = trials.length;
  const opened = trials.filter((t) => t.outcome === 'opened');
  const times = opened.map((t) => t.openMs);
  const failures = trials
    .filter((t) => t.outcome !== 'opened')
    .map((t) => ({ trial: t.trial, outcome: t.outcome, atMs: t.atMs ?? null, why: diagnose(t) }));
  const outcomes = {};
  for (const t of trials) outcomes[t.outcome] = (outcomes[t.outcome] ?? 0) + 1;
  const line = figure(
    `connect loss=${pct(args.loss)} each way: opened ${opened.length}/${n} within ${s1(initiator?.timeoutMs)}` +
      ` (open time median ${s1(quantile(times, 0.5))}, p90 ${s1(quantile(times, 0.9))}, max ${s1(quantile(times, 1))})` +
      (failures.length ? `; not opened: ${Object.entries(outcomes).filter(([k]) => k !== 'opened').map(([k, v]) => `${v} ${k}`).join(', ')}` : ''),
  );
  for (const f of failures) console.log(`  trial ${f.trial}: ${f.outcome}${f.atMs ? ` at ${s1(f.atMs)}` : ''}: ${f.why}`);
  save({
    test: 'connect',
    label,
    lossEachWay: Number(args.loss),
    count: n,
    parallel: initiator?.parallel,
    opened: opened.length,
    openMs: { median: quantile(times, 0.5), p90: quantile(times, 0.9), max: quantile(times, 1), all: times },
    outcomes,
    failures,
    figure: line,
  });
}

function idle() {
  const name = args.name ?? 'idle';
  const from = initiator?.windowStartWall ?? 0;
  const to = initiator?.windowEndWall ?? Number.POSITIVE_INFINITY;
  const sessions = (initiator?.sessions ?? []).map((s) => {
    const r = responderAt(s.port);
    const mine = inWindow(s.events, from, to);
    const theirs = r ? inWindow(r.events, from, to) : [];
    const lostMine = mine.find((e) => e.type === 'lost');
    const lostTheirs = theirs.find((e) => e.type === 'lost');
    const firstLost = [lostMine, lostTheirs].filter(Boolean).sort((a, b) => a.wall - b.wall)[0];
    return {
      index: s.index,
      opened: s.opened,
      survived: s.opened && !lostMine && !lostTheirs,
      lostAfterMs: firstLost ? firstLost.wall - from : null,
      lostBy: firstLost ? (firstLost === lostMine ? 'initiator' : 'responder') : null,
      heartbeatMissed: { initiator: countType(mine, 'heartbeat_missed'), responder: countType(theirs, 'heartbeat_missed') },
      lost: { initiator: countType(mine, 'lost'), responder: countType(theirs, 'lost') },
      maxMissedCount: Math.max(0, ...[...mine, ...theirs].filter((e) => e.type === 'heartbeat_missed').map((e) => e.count ?? 0)),
      otherEvents: [...new Set([...mine, ...theirs].map((e) => e.type))].filter((t) => t !== 'heartbeat_missed'),
    };
  });
  const opened = sessions.filter((s) => s.opened).length;
  const survived = sessions.filter((s) => s.survived).length;
  const missed = sessions.reduce((a, s) => a + s.heartbeatMissed.initiator + s.heartbeatMissed.responder, 0);
  const lost = sessions.reduce((a, s) => a + s.lost.initiator + s.lost.responder, 0);
  const lostTimes = sessions.filter((s) => s.lostAfterMs !== null).map((s) => s.lostAfterMs);
  const hb = Number(args.heartbeat);
  let line;
  if (name === 'false_alarms') {
    line = figure(
      `no-false-alarms loss=${pct(args.loss)} heartbeat=${hb / 1000} s for ${initiator?.windowSeconds ?? '?'} s, ${sessions.length} sessions: ` +
        `heartbeat_missed ${missed} (both sides), lost ${lost}`,
    );
  } else {
    line = figure(
      `idle loss=${pct(args.loss)} each way heartbeat=${hb / 1000} s for ${initiator?.windowSeconds ?? '?'} s: survived ${survived}/${sessions.length}` +
        (opened < sessions.length ? ` (only ${opened} opened)` : '') +
        (lostTimes.length
          ? `; lost after ${lostTimes.map((t) => (t / 1000).toFixed(1)).join(', ')} s (median ${(quantile(lostTimes, 0.5) / hb).toFixed(0)} intervals)`
          : '') +
        `; events: heartbeat_missed ${missed}, lost ${lost}`,
    );
  }
  save({
    test: name,
    label,
    lossEachWay: Number(args.loss),
    heartbeatMs: hb,
    windowSeconds: initiator?.windowSeconds,
    sessions,
    opened,
    survived,
    heartbeatMissed: missed,
    lost,
    figure: line,
  });
}

/**
 * A timer cannot fire before its deadline, and the node adapter pads each setTimeout by 1 ms and
 * rounds up: a `lost` a few ms past the bound still meets it. Reported separately from the strict check.
 */
const TIMER_SLACK_MS = 5;

function frozen() {
  const hb = Number(args.heartbeat);
  const missLimit = Number(args['miss-limit'] ?? 3);
  const bound = missLimit * hb + hb / 2;
  const rows = initiator?.frozen ?? [];
  const fromHeard = rows.filter((r) => r.fromLastHeardMs !== null).map((r) => r.fromLastHeardMs);
  const fromFreeze = rows.filter((r) => r.fromFreezeMs !== null).map((r) => r.fromFreezeMs);
  const lost = rows.filter((r) => r.lost).length;
  const line = figure(
    `frozen peer heartbeat=${hb / 1000} s missLimit=${missLimit}: ${lost}/${rows.length} lost; ` +
      `after last heard median ${quantile(fromHeard, 0.5)} ms, max ${quantile(fromHeard, 1)} ms (bound ${bound} ms); ` +
      `after the freeze median ${quantile(fromFreeze, 0.5)} ms, max ${quantile(fromFreeze, 1)} ms` +
      (lost < rows.length || quantile(fromHeard, 1) > bound + TIMER_SLACK_MS
        ? ' (NOT within the bound)'
        : ` (within the bound${quantile(fromHeard, 1) > bound ? `, allowing ${TIMER_SLACK_MS} ms for timer granularity` : ''})`),
  );
  save({
    test: 'frozen',
    label,
    heartbeatMs: hb,
    missLimit,
    boundMs: bound,
    lost,
    sessions: rows,
    fromLastHeardMs: { median: quantile(fromHeard, 0.5), max: quantile(fromHeard, 1) },
    fromFreezeMs: { median: quantile(fromFreeze, 0.5), max: quantile(fromFreeze, 1) },
    withinBound: fromHeard.length > 0 && fromHeard.every((v) => v <= bound),
    withinBoundWithTimerSlack: lost === rows.length && fromHeard.every((v) => v <= bound + TIMER_SLACK_MS),
    timerSlackMs: TIMER_SLACK_MS,
    figure: line,
  });
}

const kinds = { connect, idle, frozen };
if (!kinds[kind]) {
  console.error('usage: report.mjs connect|idle|frozen ...');
  process.exit(2);
}
kinds[kind]();

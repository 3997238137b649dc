#!/usr/bin/env node
/**
 * Loss-lab peer driver. Runs netchat peers from a built @netchat/core (the `--dist` folder, with
 * index.js in it) inside one network namespace; loss-lab.sh starts one process per side.
 *
 *   node peer.mjs responders --dist D --host 10.99.0.1 --port-base 41000 --count 20 --out F --ready F [--heartbeat MS]
 *       Listens on count fixed ports (one fresh peer each), accepts every request, logs events.
 *       Writes its result JSON to --out on SIGTERM (or after --max-seconds).
 *   node peer.mjs connects   --dist D --host 10.99.0.2 --target 10.99.0.1 --port-base 41000 --count 20 --parallel 10 --out F
 *       One fresh initiator per trial; each connects to port-base + i; opened = `accepted` within the connect timeout.
 *   node peer.mjs idle       --dist D --host 10.99.0.2 --target 10.99.0.1 --port-base 42000 --count 4 --heartbeat 200
 *                            --ready F --go F --seconds 60 --out F [--freeze-pid-file F]
 *       Opens count sessions (on a clean link), writes --ready, waits for --go (the lab adds the loss rules then), and watches
 *       the sessions for --seconds. With --freeze-pid-file: instead freezes the responder process (SIGSTOP) and measures
 *       how long until each session is reported lost.
 *
 * Every wait is bounded; the process exits on its own even if the other side never answers.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [role, ...rest] = process.argv.slice(2);
const args = {};
for (let i = 0; i < rest.length; i += 2) {
  if (!rest[i].startsWith('--')) throw new Error(`bad argument ${rest[i]}`);
  args[rest[i].slice(2)] = rest[i + 1];
}
const num = (name, fallback) => (args[name] === undefined ? fallback : Number(args[name]));
const dist = resolve(args.dist ?? 'dist');
const core = await import(pathToFileURL(`${dist}/index.js`).href);
const { NetchatPeer } = core;

const wall = () => Date.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Polls `test` every `every` ms until it is true or `timeoutMs` passed; true if it became true. */
async function until(test, timeoutMs, every = 20) {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    if (test()) return true;
    await sleep(every);
  }
  return test();
}
function write(file, value) {
  writeFileSync(file, `${JSON.stringify(value, null, 1)}\n`);
}

/** Peer options shared by both sides; heartbeat and timeouts from the command line. */
function peerOptions(port) {
  const o = { port, host: args.host };
  if (args.heartbeat) o.heartbeatInterval = num('heartbeat');
  if (args['miss-limit']) o.missLimit = num('miss-limit');
  if (args['connect-timeout']) o.connectTimeout = num('connect-timeout');
  return o;
}

/**
 * Engine counters, for diagnosis only: `peer.stats` and `peer.secureStats` where the build has them,
 * else the endpoint's (older builds kept the secure layer's counters in a private field).
 */
function stats(peer) {
  const out = {};
  try {
    const endpoint = peer.endpoint ?? {};
    const plain = peer.stats ?? endpoint.stats;
    const secure = peer.secureStats ?? endpoint.secureStats ?? endpoint.secure?.stats;
    if (plain) out.endpoint = { ...plain };
    if (secure) out.secure = { ...secure };
  } catch (error) {
    out.error = String(error?.message ?? error);
  }
  return out;
}

/**
 * Records a peer's events: every type counted; all but the periodic heartbeat_sent kept with wall
 * time and time since `t0` (ms).
 */
function recorder(peer, t0) {
  const rec = { counts: {}, events: [] };
  peer.on('event', (e) => {
    rec.counts[e.type] = (rec.counts[e.type] ?? 0) + 1;
    if (e.type === 'heartbeat_sent') return;
    const { type, session, peer: _peer, publicKey: _k, fingerprint: _f, nick: _n, ...detail } = e;
    rec.events.push({ type, session, wall: wall(), t: Math.round((performance.now() - t0) * 10) / 10, ...detail });
  });
  peer.on('send_error', (error) => {
    rec.counts.send_error = (rec.counts.send_error ?? 0) + 1;
  });
  return rec;
}

async function responders() {
  const count = num('count', 1);
  const base = num('port-base', 41000);
  const maxSeconds = num('max-seconds', 300);
  const t0 = performance.now();
  const peers = [];
  for (let i = 0; i < count; i++) {
    const peer = await NetchatPeer.listen(peerOptions(base + i));
    const rec = recorder(peer, t0);
    peer.on('request', (e) => peer.accept(e.session));
    peers.push({ port: base + i, peer, rec });
  }
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    write(args.out, {
      role: 'responders',
      pid: process.pid,
      peers: peers.map(({ port, peer, rec }) => ({ port, ...rec, stats: stats(peer) })),
    });
    process.exit(0);
  };
  process.on('SIGTERM', finish);
  process.on('SIGINT', finish);
  setTimeout(finish, maxSeconds * 1000).unref();
  writeFileSync(args.ready, `${process.pid}\n`);
  // Keep the process alive until told to stop (the peers' sockets do too).
  setInterval(() => {}, 1 << 30);
}

async function connects() {
  const count = num('count', 20);
  const parallel = Math.max(1, num('parallel', 10));
  const base = num('port-base', 41000);
  const timeout = num('connect-timeout', 30_000);
  const t0 = performance.now();
  const trials = [];
  let next = 0;
  async function trial(i) {
    const peer = await NetchatPeer.listen(peerOptions(0));
    const rec = recorder(peer, t0);
    const started = performance.now();
    const result = { trial: i, port: base + i, startedWall: wall(), outcome: 'timeout', openMs: null };
    const ended = new Promise((resolveEnd) => {
      for (const type of ['accepted', 'declined', 'no_answer', 'lost', 'closed']) {
        peer.on(type, (e) => {
          if (result.outcome !== 'timeout') return;
          result.outcome = type === 'accepted' ? 'opened' : type;
          if (type === 'declined') result.reason = e.reason;
          result.atMs = Math.round(performance.now() - started);
          if (type === 'accepted') result.openMs = result.atMs;
          resolveEnd();
        });
      }
      // Outer bound: the engine's own connect timeout plus a little.
      setTimeout(resolveEnd, timeout + 2_000);
    });
    try {
      peer.connectTo({ host: args.target, port: base + i });
    } catch (error) {
      result.outcome = 'error';
      result.error = String(error?.message ?? error);
    }
    await ended;
    result.events = rec.events;
    result.counts = rec.counts;
    result.stats = stats(peer);
    trials[i] = result;
    await peer.close(300).catch(() => {});
  }
  async function worker() {
    while (next < count) {
      const i = next++;
      await trial(i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  write(args.out, { role: 'connects', count, parallel, timeoutMs: timeout, trials });
  process.exit(0);
}

async function idle() {
  const count = num('count', 4);
  const base = num('port-base', 42000);
  const seconds = num('seconds', 60);
  const t0 = performance.now();
  const sessions = [];
  for (let i = 0; i < count; i++) {
    const peer = await NetchatPeer.listen(peerOptions(0));
    const rec = recorder(peer, t0);
    const s = { index: i, port: base + i, peer, rec, id: undefined, opened: false, lostAt: null, lostWall: null };
    peer.on('accepted', (e) => {
      s.id = e.session;
      s.opened = true;
    });
    peer.on('lost', (e) => {
      if (s.lostAt === null && e.session === s.id) {
        s.lostAt = performance.now();
        s.lostWall = wall();
        s.lostMissed = e.missed;
      }
    });
    sessions.push(s);
    // Staggered, so that the sessions' heartbeat timers do not all run in step.
    if (i > 0) await sleep(37);
    peer.connectTo({ host: args.target, port: base + i });
  }
  // Sessions open on a clean link (no loss rules yet): at most 35 s.
  await until(() => sessions.every((s) => s.opened || s.lostAt !== null), 35_000);
  const openedCount = sessions.filter((s) => s.opened).length;
  writeFileSync(args.ready, `${openedCount}\n`);
  // The lab adds loss rules, then writes the go file: at most 30 s.
  await until(() => existsSync(args.go), 30_000, 10);
  const windowStartWall = wall();
  const windowStart = performance.now();
  const result = { role: 'idle', count, opened: openedCount, windowStartWall };

  if (args['freeze-pid-file']) {
    // Let a few heartbeats pass first so the sessions' phases differ, then freeze the responder process.
    await sleep(1_000);
    const pid = Number(readFileSync(args['freeze-pid-file'], 'utf8').trim());
    const lastHeard = new Map();
    const sample = () => {
      for (const s of sessions) {
        if (s.lostAt !== null || s.id === undefined) continue;
        const info = s.peer.session(s.id);
        if (info) lastHeard.set(s, info.lastHeard);
      }
    };
    sample();
    process.kill(pid, 'SIGSTOP');
    const frozenAt = performance.now();
    result.frozenWall = wall();
    const sampler = setInterval(sample, 2);
    await until(() => sessions.every((s) => !s.opened || s.lostAt !== null), num('freeze-wait', 5_000), 5);
    clearInterval(sampler);
    try {
      process.kill(pid, 'SIGCONT');
    } catch {}
    result.frozen = sessions.map((s) => ({
      index: s.index,
      opened: s.opened,
      lost: s.lostAt !== null,
      lostMissed: s.lostMissed ?? null,
      fromFreezeMs: s.lostAt === null ? null : Math.round(s.lostAt - frozenAt),
      fromLastHeardMs:
        s.lostAt === null || !lastHeard.has(s) ? null : Math.round(s.lostAt - lastHeard.get(s)),
      // lastHeard is on the peer's clock (performance.now() by default, the same as ours).
      lastHeardBeforeFreezeMs: lastHeard.has(s) ? Math.round(frozenAt - Math.min(frozenAt, lastHeard.get(s))) : null,
    }));
  } else {
    await until(() => sessions.every((s) => s.lostAt !== null), seconds * 1000, 50);
  }
  result.windowEndWall = wall();
  result.windowSeconds = Math.round(performance.now() - windowStart) / 1000;
  result.sessions = sessions.map((s) => ({
    index: s.index,
    port: s.port,
    opened: s.opened,
    lostAfterMs: s.lostAt === null ? null : Math.round(s.lostAt - windowStart),
    counts: s.rec.counts,
    events: s.rec.events,
    stats: stats(s.peer),
  }));
  write(args.out, result);
  // No graceful close: the other side is about to be stopped too (or is frozen).
  process.exit(0);
}

const roles = { responders, connects, idle };
if (!roles[role]) {
  console.error(`usage: peer.mjs responders|connects|idle --dist DIR ...`);
  process.exit(2);
}
await roles[role]();

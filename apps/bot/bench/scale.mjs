/**
 * The real netchat-bot (apps/bot/dist, so `pnpm build` first) under load, measured from inside
 * its own process (probe.mjs: process.cpuUsage and RSS). The clients are NetchatPeers in this
 * process, never in the bot's. Loopback only.
 *
 *  - rate: new sessions a second. Every session is a fresh client (new key, new socket, whole
 *    handshake), 64 requests in flight at once; a client closes once accepted. Each client binds
 *    its own loopback address (127.1.x.y), so the bot's per-host handshake rate limit, which is
 *    meant for floods from one host, does not pace the benchmark.
 *  - hold: 10,000 sessions with default heartbeats (25 s): 2,500 client peers (127.2.x.y) with
 *    4 sessions each, the default per-peer limit; the bot runs with --max-sessions 10000. Then
 *    RSS and idle CPU (% of one core) over an idle window.
 *
 * Run: pnpm --filter @netchat/bot bench [rate|hold]. Prints figures and one JSON line each.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { NetchatPeer } from '@netchat/core';

const BOT = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const PROBE = new URL('./probe.mjs', import.meta.url).href;
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 64);
const RATE_SESSIONS = Number(process.env.BENCH_RATE_SESSIONS ?? 3_000);
const RATE_WARMUP = 500;
const HOLD_SESSIONS = Number(process.env.BENCH_HOLD_SESSIONS ?? 10_000);
const SESSIONS_PER_PEER = 4;
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 30);
const LOG_LEVEL = process.env.BENCH_BOT_LOG_LEVEL ?? 'info';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (value, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

function freePort() {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** `index` to a loopback address in 127.<net>.0.0/16, skipping .0 and .255. */
function loopback(net, index) {
  return `127.${net}.${Math.floor(index / 254)}.${(index % 254) + 1}`;
}

/** Starts the real bot with the probe, and waits until it answers a connect. */
async function startBot(maxSessions) {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--import', PROBE, BOT, String(port), '--host', '127.0.0.1', '--max-sessions', String(maxSessions), '--log-level', LOG_LEVEL],
    { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
  );
  let nextId = 0;
  const waiting = new Map();
  child.on('message', (m) => {
    waiting.get(m.id)?.(m);
    waiting.delete(m.id);
  });
  const bot = {
    address: { host: '127.0.0.1', port },
    sample() {
      const id = nextId++;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        child.send({ type: 'sample', id });
      });
    },
    /** With BENCH_PROFILE_DIR set: a CPU profile of the bot from 'start' to 'stop'. */
    profile(action, label) {
      const dir = process.env.BENCH_PROFILE_DIR;
      if (!dir) return Promise.resolve();
      const id = nextId++;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        child.send({ type: 'profile', id, action, path: `${dir}/bot-${label}.cpuprofile` });
      });
    },
    async stop() {
      child.kill('SIGTERM');
      const exited = new Promise((r) => child.once('exit', r));
      if ((await Promise.race([exited, sleep(3000).then(() => 'timeout')])) === 'timeout') child.kill('SIGKILL');
    },
  };
  // Ready when a connect is accepted (its first datagrams may meet a socket not bound yet).
  const probe = await NetchatPeer.listen({ port: 0, host: loopback(9, 0), connectRetryInitial: 50 });
  await new Promise((resolve, reject) => {
    probe.once('accepted', resolve);
    probe.once('no_answer', () => reject(new Error('the bot did not start')));
    probe.connectTo(bot.address);
  });
  await probe.close(500);
  return bot;
}

function cpuPercent(a, b) {
  const used = b.cpu.user + b.cpu.system - (a.cpu.user + a.cpu.system); // µs
  return (used / 1000 / (b.at - a.at)) * 100;
}

function ownCpu() {
  const cpu = process.cpuUsage();
  return { at: performance.now(), cpu };
}

/**
 * New sessions a second: fresh clients, IN_FLIGHT at once, RATE_SESSIONS in all; the rate is
 * taken over all but the first RATE_WARMUP. (A count, not a duration: every client leaves a
 * channel on the bot for a while, and the bot's channel table has a ceiling.)
 */
export async function rate() {
  const bot = await startBot(10_000);
  let next = 0;
  let started = 0;
  let accepted = 0;
  let failed = 0;
  const closing = [];
  const latencies = [];
  let from;
  let to;
  const one = async () => {
    while (started < RATE_SESSIONS) {
      started++;
      const client = await NetchatPeer.listen({ port: 0, host: loopback(1, next++ % 60_000) });
      const start = performance.now();
      const ok = await new Promise((resolve) => {
        client.once('accepted', () => resolve(true));
        client.once('declined', () => resolve(false));
        client.once('no_answer', () => resolve(false));
        client.connectTo(bot.address);
      });
      const done = ++accepted + failed;
      if (!ok) failed++, accepted--;
      if (done > RATE_WARMUP) latencies.push(performance.now() - start);
      if (done === RATE_WARMUP) {
        from = { bot: await bot.sample(), self: ownCpu() };
        await bot.profile('start', 'rate');
      }
      if (done === RATE_SESSIONS) {
        to = { bot: await bot.sample(), self: ownCpu() };
        await bot.profile('stop', 'rate');
      }
      closing.push(client.close(1000));
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, one));
  await Promise.all(closing);
  await bot.stop();
  const perSecond = (RATE_SESSIONS - RATE_WARMUP) / ((to.bot.at - from.bot.at) / 1000);
  latencies.sort((a, b) => a - b);
  const connectMs = (p) => round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN, 1);
  return {
    inFlight: IN_FLIGHT,
    sessions: RATE_SESSIONS - RATE_WARMUP,
    perSecond: Math.round(perSecond),
    failed,
    connectMs: { median: connectMs(0.5), p99: connectMs(0.99), max: connectMs(1) },
    botCpuPercent: round(cpuPercent(from.bot, to.bot), 1),
    clientsCpuPercent: round(cpuPercent(from.self, to.self), 1),
    logLevel: LOG_LEVEL,
  };
}

/** HOLD_SESSIONS sessions held by one bot; RSS and CPU while idle. */
export async function hold() {
  const bot = await startBot(HOLD_SESSIONS);
  const before = await bot.sample();
  const peers = HOLD_SESSIONS / SESSIONS_PER_PEER;
  const clients = [];
  let accepted = 0;
  let refused = 0;
  let ended = 0;
  let missed = 0;
  const setupStart = performance.now();
  // IN_FLIGHT / SESSIONS_PER_PEER clients at once, so at most IN_FLIGHT requests in flight.
  let nextPeer = 0;
  const worker = async () => {
    // Once a request fails the bot is full (or stopped answering): stop adding sessions.
    while (nextPeer < peers && refused === 0) {
      const index = nextPeer++;
      const client = await NetchatPeer.listen({ port: 0, host: loopback(2, index), connectTimeout: 5_000 });
      clients.push(client);
      client.on('lost', () => ended++);
      client.on('closed', () => ended++);
      client.on('heartbeat_missed', () => missed++);
      const open = () =>
        new Promise((resolve) => {
          const session = client.connectTo(bot.address);
          const onAccepted = (e) => {
            if (e.session !== session) return;
            accepted++;
            client.off('accepted', onAccepted);
            resolve();
          };
          const onFailed = (e) => {
            if (e.session !== session) return;
            refused++;
            resolve();
          };
          client.on('accepted', onAccepted);
          client.on('no_answer', onFailed);
          client.on('declined', onFailed);
        });
      // The first session opens the channel; the others then share it. (Requests sent all at
      // once each make a handshake of their own, and the bot keeps only the last: see
      // /work/notes/bench.md.)
      await open();
      await Promise.all(Array.from({ length: SESSIONS_PER_PEER - 1 }, open));
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT / SESSIONS_PER_PEER }, worker));
  const setupSeconds = (performance.now() - setupStart) / 1000;
  await sleep(3000); // greetings delivered and acknowledged, delayed acks sent
  const endedBeforeIdle = ended;
  await bot.profile('start', 'idle');
  const idleStart = await bot.sample();
  await sleep(IDLE_SECONDS * 1000);
  const idleEnd = await bot.sample();
  await bot.profile('stop', 'idle');
  const endedDuringIdle = ended - endedBeforeIdle;
  const endedAtAll = ended;
  const missedDuringIdle = missed;
  await bot.stop();
  await Promise.all(clients.map((c) => c.close(100)));
  return {
    sessions: accepted - endedAtAll,
    accepted,
    refused,
    goalSessions: HOLD_SESSIONS,
    peers: nextPeer,
    sessionsPerPeer: SESSIONS_PER_PEER,
    heartbeatSeconds: 25,
    setupSeconds: round(setupSeconds, 1),
    idleSeconds: IDLE_SECONDS,
    rssMB: round(idleEnd.rss / 2 ** 20, 1),
    rssEmptyMB: round(before.rss / 2 ** 20, 1),
    heapUsedMB: round(idleEnd.heapUsed / 2 ** 20, 1),
    idleCpuPercent: round(cpuPercent(idleStart, idleEnd), 2),
    endedDuringIdle,
    profiled: process.env.BENCH_PROFILE_DIR !== undefined,
    heartbeatsMissed: missedDuringIdle,
    logLevel: LOG_LEVEL,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const which = process.argv[2] ?? 'all';
  if (which === 'all' || which === 'rate') {
    const r = await rate();
    console.log(`New sessions a second, real netchat-bot, ${r.inFlight} in flight, fresh clients, ${r.sessions} sessions`);
    console.log(
      `  ${r.perSecond}/s (goal ≥ 1000)  bot CPU ${r.botCpuPercent}%  clients CPU ${r.clientsCpuPercent}%  failed ${r.failed}`,
    );
    console.log(`@@bench ${JSON.stringify({ name: 'sessionRate', ...r })}`);
  }
  if (which === 'all' || which === 'hold') {
    const r = await hold();
    if (r.refused > 0) console.log(`  the bot stopped accepting at ${r.accepted} sessions (goal ${r.goalSessions})`);
    console.log(`${r.sessions} sessions held by the real netchat-bot (${r.peers} peers × ${r.sessionsPerPeer}), heartbeats 25 s`);
    console.log(
      `  RSS ${r.rssMB} MB (goal ≤ 200; ${r.rssEmptyMB} MB empty)  idle CPU ${r.idleCpuPercent}% of a core over ${r.idleSeconds} s (goal ≤ 5)  set up in ${r.setupSeconds} s`,
    );
    console.log(`@@bench ${JSON.stringify({ name: 'hold', ...r })}`);
  }
}

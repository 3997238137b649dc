/**
 * The rendezvous at scale, on loopback: churn and hold. The rendezvous runs in a process of its
 * own (rendezvous-server.mjs, the built package) and reports its CPU time, RSS and table sizes;
 * the clients are real endpoints with rendezvous clients in this process (rendezvous-fleet.ts),
 * several per socket, one loopback address per socket.
 *
 *  - churn: CLIENTS registrations coming and going from ADDRESSES addresses (a new key on every
 *    address each round, all registered, then all closed). The rendezvous's RSS after a full GC,
 *    before (after a warm-up round that came and went) and after, against the goal: within 20 %.
 *    Its table sizes after, which must all be back to 0.
 *  - hold: CLIENTS live registrations (default 25 s heartbeats), CLIENTS / ADDRESSES per
 *    address; then the rendezvous's RSS and its CPU over an idle window of IDLE_SECONDS, against
 *    the goals: ≤ 1 GB and ≤ 30 % of one core.
 *
 * One deviation from `netchat-bot --rendezvous`, said where the figures are printed: the
 * rendezvous takes up to 16 sessions per client address (the bot takes 4, which would need
 * 25,000 addresses and more sockets than one process may open here); it costs the same per session.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { ClientFleet } from './rendezvous-fleet.js';
import { round, sleep } from './util.js';

const CLIENTS = Number(process.env.BENCH_RV_CLIENTS ?? 100_000);
const ADDRESSES = Number(process.env.BENCH_RV_ADDRESSES ?? 10_000);
const IDLE_SECONDS = Number(process.env.BENCH_RV_IDLE_SECONDS ?? 30);
const SETTLE_SECONDS = Number(process.env.BENCH_RV_SETTLE_SECONDS ?? 30);
/** Clients connecting at once: below the rendezvous's load threshold (128 half-done handshakes). */
const IN_FLIGHT = 64;
/** One round's worth first (as many as there are addresses), so both sides are warm when measured. */
const WARM_UP = ADDRESSES;
const PER_ADDRESS_LIMIT = 16;
/** Which parts run (`churn`, `hold` or both, comma-separated): one alone when looking into it. */
const PARTS = new Set((process.env.BENCH_RV_PARTS ?? 'churn,hold').split(','));

interface Sample {
  at: number;
  cpu: { user: number; system: number };
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  mallocHeap: number;
  registrations: number;
  sessions?: number;
  sizes: Record<string, number>;
  secure: { channels: number; pending: number; rateLimitedAddresses: number };
  stats: Record<string, number>;
  datagrams: { in: number; out: number };
}

class RendezvousProcess {
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly waiting = new Map<number, (s: Sample) => void>();
  readonly port: Promise<number>;

  constructor() {
    const script = fileURLToPath(new URL('./rendezvous-server.mjs', import.meta.url));
    this.child = spawn(
      process.execPath,
      ['--expose-gc', script, String(CLIENTS + WARM_UP), String(PER_ADDRESS_LIMIT)],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    this.port = new Promise((resolve) => {
      this.child.on('message', (m: { type: string; port?: number; id?: number } & Sample) => {
        if (m.type === 'listening') resolve(m.port as number);
        if (m.type === 'sample') this.waiting.get(m.id as number)?.(m);
      });
    });
  }

  sample(options: { gc?: boolean; sessions?: boolean } = {}): Promise<Sample> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, (s) => {
        this.waiting.delete(id);
        resolve(s);
      });
      this.child.send({ type: 'sample', id, ...options });
    });
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

/** Waits (polling every 100 ms, at most `ms`) until `ready`. */
async function until(ready: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    if (await ready()) return true;
    await sleep(100);
  }
  return ready();
}

/** Adds `count` clients, `IN_FLIGHT` at a time, on addresses `slot(i)`; resolves when all have registered (or were refused). */
async function register(fleet: ClientFleet, count: number, slot: (i: number) => number) {
  const start = fleet.registered + fleet.refused;
  let added = 0;
  const started = performance.now();
  while (fleet.registered + fleet.refused - start < count) {
    while (added < count && added - (fleet.registered + fleet.refused - start) < IN_FLIGHT)
      fleet.add(slot(added++));
    await sleep(2);
    if (performance.now() - started > 30 * 60_000) throw new Error('registering took over 30 min');
  }
  return (performance.now() - started) / 1000;
}

/** Closes every client and waits until the rendezvous holds no registration. */
async function leave(fleet: ClientFleet, rendezvous: RendezvousProcess) {
  const clients = fleet.all();
  for (const client of clients) fleet.close(client);
  await until(() => clients.every((c) => !fleet.busy(c)), 120_000);
  for (const client of clients) fleet.discard(client);
  await until(async () => (await rendezvous.sample()).registrations === 0, 120_000);
}

/**
 * Waits until the rendezvous's secure layer has closed the channels of the clients that left
 * (a channel no session uses is closed after 30 s, by design), then lets it idle for 30 s more,
 * sampling after a full GC every 5 s (V8 and the allocator give pages back over a few seconds),
 * and returns the last sample.
 */
async function settled(rendezvous: RendezvousProcess): Promise<Sample> {
  await until(async () => (await rendezvous.sample()).secure.channels === 0, 90_000);
  let last = await rendezvous.sample({ gc: true, sessions: true });
  for (let i = 0; i < 6; i++) {
    await sleep(5_000);
    last = await rendezvous.sample({ gc: true, sessions: true });
  }
  return last;
}

const MB = 1024 * 1024;

/** A sample's memory, in MB: RSS, and what of it V8's heap and the buffers outside it account for. */
function memoryMB(s: Sample) {
  return {
    rss: round(s.rss / MB, 1),
    heapUsed: round(s.heapUsed / MB, 1),
    heapTotal: round(s.heapTotal / MB, 1),
    external: round(s.external / MB, 1),
    arrayBuffers: round(s.arrayBuffers / MB, 1),
    mallocHeap: round(s.mallocHeap / MB, 1),
  };
}

/** CLIENTS registrations coming and going, ADDRESSES at a time; RSS before and after, settled. */
async function churn(fleet: ClientFleet, rendezvous: RendezvousProcess) {
  await register(fleet, WARM_UP, (i) => i);
  await leave(fleet, rendezvous);
  const before = await settled(rendezvous);
  const churnStart = performance.now();
  let registrations = 0;
  let peak = before;
  while (registrations < CLIENTS) {
    const count = Math.min(ADDRESSES, CLIENTS - registrations);
    await register(fleet, count, (i) => i);
    registrations += count;
    const full = await rendezvous.sample();
    if (full.rss > peak.rss) peak = full;
    await leave(fleet, rendezvous);
    console.log(
      `  churn: ${registrations.toLocaleString('en-US')} registrations came and went (RSS ${round(full.rss / MB, 1)} MB with them, ${full.secure.channels} channels)`,
    );
  }
  const churnSeconds = (performance.now() - churnStart) / 1000;
  const after = await settled(rendezvous);
  return {
    churnRegistrations: registrations,
    churnSeconds: round(churnSeconds, 0),
    churnRssBeforeMB: round(before.rss / MB, 1),
    churnRssAfterMB: round(after.rss / MB, 1),
    churnRssGrowthPercent: round(((after.rss - before.rss) / before.rss) * 100, 1),
    churnHeapBeforeMB: round(before.heapUsed / MB, 1),
    churnHeapAfterMB: round(after.heapUsed / MB, 1),
    churnMemoryBeforeMB: memoryMB(before),
    churnMemoryPeakMB: memoryMB(peak),
    churnPeakChannels: peak.secure.channels,
    churnMemoryAfterMB: memoryMB(after),
    churnSizesAfter: after.sizes,
    churnSessionsAfter: after.sessions,
    churnSecureAfter: after.secure,
  };
}

/** CLIENTS live registrations; the rendezvous's RSS and CPU over an idle window. */
async function hold(fleet: ClientFleet, rendezvous: RendezvousProcess) {
  const holdSeconds = await register(fleet, CLIENTS, (i) => i);
  const held = await rendezvous.sample();
  const probesBefore = fleet.probes();
  console.log(
    `  hold: ${held.registrations.toLocaleString('en-US')} registered in ${round(holdSeconds, 0)} s; settling ${SETTLE_SECONDS} s`,
  );
  await sleep(SETTLE_SECONDS * 1000);
  const selfBefore = process.cpuUsage();
  const idleStart = await rendezvous.sample();
  await sleep(IDLE_SECONDS * 1000);
  const idleEnd = await rendezvous.sample();
  const self = process.cpuUsage(selfBefore);
  const probesInWindow = fleet.probes() - probesBefore;
  const windowMs = idleEnd.at - idleStart.at;
  const cpuMs = (idleEnd.cpu.user + idleEnd.cpu.system - idleStart.cpu.user - idleStart.cpu.system) / 1000;
  const perSecond = (n: number) => round((n / windowMs) * 1000, 0);
  return {
    holdRegistrations: idleEnd.registrations,
    holdRefused: fleet.refused,
    holdSetupSeconds: round(holdSeconds, 0),
    holdRssMB: round(idleEnd.rss / MB, 1),
    holdIdleSeconds: round(windowMs / 1000, 1),
    holdCpuPercent: round((cpuMs / windowMs) * 100, 2),
    // What the rendezvous received and sent a second over the window (heartbeats and answers).
    holdDatagramsInPerSecond: perSecond(idleEnd.datagrams.in - idleStart.datagrams.in),
    holdDatagramsOutPerSecond: perSecond(idleEnd.datagrams.out - idleStart.datagrams.out),
    clientsCpuPercent: round(((self.user + self.system) / 1000 / windowMs) * 100, 1),
    // Clients that doubted the rendezvous (no answer within 2 s of a heartbeat) from the end of
    // the set-up to the end of the window: 0 when it kept up.
    clientProbes: probesInWindow,
    heartbeatSeconds: 25,
  };
}

export async function rendezvousScale() {
  const rendezvous = new RendezvousProcess();
  const fleet = new ClientFleet({ host: '127.0.0.1', port: await rendezvous.port });
  try {
    await fleet.bind(ADDRESSES);
    const empty = await rendezvous.sample({ gc: true });
    const churned = PARTS.has('churn') ? await churn(fleet, rendezvous) : undefined;
    const held = PARTS.has('hold') ? await hold(fleet, rendezvous) : undefined;
    const base = {
      clients: CLIENTS,
      addresses: ADDRESSES,
      perAddressLimit: PER_ADDRESS_LIMIT,
      rssEmptyMB: round(empty.rss / MB, 1),
      load: os.loadavg().map((l) => round(l, 2)),
    };
    return { base, churn: churned, hold: held };
  } finally {
    rendezvous.kill();
    await fleet.shutdown();
  }
}

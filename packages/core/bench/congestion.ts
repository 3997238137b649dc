/**
 * The congestion controllers on simulated paths (virtual time, packet level: test/support's
 * PathSimulator), each figure beside its goal (issue 19):
 *
 * - one bulk flow: utilisation of the bottleneck from 2 s on (goal ≥ 90 %), and the queueing
 *   delay a chat datagram sent at a random moment would see (p50, p95; goal p95 ≤ 25 ms);
 * - two flows, started together and one 5 s later: each one's goodput once both run, as the
 *   smaller over the larger (goal ≥ 0.8: within 20 % of each other);
 * - one flow at 1 % random loss: its rate beside Mathis' TCP rate, MSS/RTT × 1.22/√p;
 *
 * on 100 Mbit/s at 50 ms, 10 Mbit/s at 200 ms and 1 Gbit/s at 10 ms, with a drop-tail buffer of
 * one bandwidth-delay product. Same figures every run (seeded).
 *
 * Then a model of loopback between two processes, where no link is the bottleneck but the
 * receiver is: it takes 800 Mbit/s of datagrams, its socket buffer holds 200 KB, the path is
 * 0.1 ms, and it acknowledges once per event-loop turn (every 16 datagrams or 1 ms). The figure
 * is the share of the receiver's rate the sender keeps it busy with (goal: the controller must
 * not hold the window below that), and the datagrams the socket buffer dropped.
 *
 * Last, the cost on the hot path: loss detection, the controller and the pacer for one datagram
 * sent and acknowledged (an ACK every 2, a thousand in flight), in ns of this machine's CPU.
 *
 *   node --import tsx bench/congestion.ts [--quick] [--only=bbr,newreno] [--path=100M,10M,1G,loopback,hot]
 *
 * Benchmarks print figures; nothing here fails on a missed goal.
 */
import { Bbr } from '../src/congestion/bbr.js';
import { MAX_DATAGRAM_SIZE } from '../src/congestion/controller.js';
import { Ledbat } from '../src/congestion/ledbat.js';
import { LossDetection } from '../src/congestion/loss-detection.js';
import { Pacer } from '../src/congestion/pacer.js';
import { RttEstimator } from '../src/session/rtt-estimator.js';
import { NewReno } from '../src/congestion/new-reno.js';
import type { ControllerFactory } from '../test/support/bulk-sender.js';
import { type FlowOptions, type PathOptions, PathSimulator } from '../test/support/path-simulator.js';
import { seededU32 } from '../src/testing/seeded-random.js';
import { percentile, report, round } from './util.js';

const args = process.argv.slice(2);
const option = (name: string) =>
  args
    .find((a) => a.startsWith(`--${name}=`))
    ?.split('=')[1]
    ?.split(',');
const quick = args.includes('--quick');
const scale = quick ? 0.5 : 1;

const CONTROLLERS: Record<string, (seed: number) => ControllerFactory> = {
  newreno: () => (rtt) => new NewReno(rtt),
  'ledbat++': () => (rtt) => new Ledbat(rtt),
  'ledbat++15': () => (rtt) => new Ledbat(rtt, { target: 15 }),
  bbr: (seed) => () => new Bbr({ randomU32: seededU32(seed) }),
};

const PATHS: Record<string, PathOptions> = {
  '100M': { bitsPerSecond: 100e6, rtt: 50 },
  '10M': { bitsPerSecond: 10e6, rtt: 200 },
  '1G': { bitsPerSecond: 1e9, rtt: 10 },
};

const GOALS = { utilisation: 0.9, queueP95: 25, fairness: 0.8 };
const LOSS = 0.01;

interface Figures {
  utilisation: number;
  queueP50: number;
  queueP95: number;
  fairTogether: number;
  fairLate: number;
  lossRate: number;
  mathis: number;
  wallSeconds: number;
}

function simulate(path: PathOptions, flows: FlowOptions[], until: number): PathSimulator {
  const sim = new PathSimulator(path, flows);
  sim.run(until);
  return sim;
}

/** The smaller flow's goodput over the larger's, over [from, to). */
function fairness(sim: PathSimulator, from: number, to: number): number {
  const a = sim.goodput(0, from, to);
  const b = sim.goodput(1, from, to);
  return Math.min(a, b) / Math.max(a, b);
}

function measure(make: (seed: number) => ControllerFactory, path: PathOptions): Figures {
  const started = performance.now();
  const single = 20_000 * scale;
  const one = simulate(path, [{ controller: make(1) }], single);
  const delays = [...one.queueDelays].sort((a, b) => a - b);
  const together = simulate(path, [{ controller: make(2) }, { controller: make(3) }], 30_000 * scale);
  const late = simulate(
    path,
    [{ controller: make(4) }, { controller: make(5), start: 5_000 }],
    35_000 * scale,
  );
  const lossy = simulate({ ...path, loss: LOSS }, [{ controller: make(6) }], single);
  return {
    utilisation: one.goodput(0, 2_000, single) / one.bandwidth,
    queueP50: percentile(delays, 0.5),
    queueP95: percentile(delays, 0.95),
    fairTogether: fairness(together, 5_000 * scale, 30_000 * scale),
    fairLate: fairness(late, 15_000 * scale, 35_000 * scale),
    lossRate: lossy.goodput(0, 2_000, single),
    mathis: ((MAX_DATAGRAM_SIZE * 1000) / path.rtt) * (1.22 / Math.sqrt(LOSS)),
    wallSeconds: (performance.now() - started) / 1000,
  };
}

const mbit = (bytesPerSecond: number) => `${round((bytesPerSecond * 8) / 1e6, 1)} Mbit/s`;
const pct = (x: number) => `${round(x * 100, 1)} %`;
const mark = (ok: boolean) => (ok ? 'ok  ' : 'MISS');

/** The loopback model (see the top of this file): one flow for 5 s, figures from 1 s on. */
function loopback(make: (seed: number) => ControllerFactory) {
  const path: PathOptions = {
    bitsPerSecond: 800e6,
    rtt: 0.1,
    bufferBytes: 200_000,
    ackEvery: 16,
    maxAckDelay: 1,
    sampleFrom: 1_000,
  };
  const sim = simulate(path, [{ controller: make(7) }], 5_000);
  const delays = [...sim.queueDelays].sort((a, b) => a - b);
  return {
    utilisation: sim.goodput(0, 1_000, 5_000) / sim.bandwidth,
    queueP95: percentile(delays, 0.95),
    dropped: sim.forward.stats.droppedFull / sim.forward.stats.sent,
  };
}

/** ns per datagram sent and acknowledged through loss detection, the controller and the pacer. */
function hotPath(make: (seed: number) => ControllerFactory, count: number): number {
  const rtt = new RttEstimator(1, 60_000);
  const cc = make(8)(rtt);
  const loss = new LossDetection(rtt, cc);
  const pacer = new Pacer();
  const ranges = new Float64Array(2);
  const lag = 1_000; // datagrams in flight
  let now = 0;
  const started = process.hrtime.bigint();
  for (let pn = 0; pn < count; pn++) {
    now += 0.01;
    pacer.nextSendTime(now, MAX_DATAGRAM_SIZE, cc.window(), rtt.srtt, cc.pacingRate());
    pacer.onSent(MAX_DATAGRAM_SIZE);
    loss.onPacketSent(now, MAX_DATAGRAM_SIZE, pn);
    if (pn % 2 === 1 && pn >= lag) {
      // QUIC repeats the acknowledged range: one range from 0 to the newest, every time.
      ranges[1] = pn - lag;
      loss.onAckReceived(now, ranges, 1, 0);
    }
  }
  return Number(process.hrtime.bigint() - started) / count;
}

const controllers = option('only') ?? Object.keys(CONTROLLERS);
const paths = option('path') ?? Object.keys(PATHS);
for (const name of [...controllers, ...paths])
  if (!(name in CONTROLLERS) && !(name in PATHS) && name !== 'loopback' && name !== 'hot')
    throw new Error(`unknown controller or path ${name}`);

console.log(`congestion control on simulated paths (buffer 1 BDP)${quick ? ', quick: half durations' : ''}`);
for (const pathName of paths.filter((p) => p in PATHS)) {
  const path = PATHS[pathName] as PathOptions;
  console.log(`\n${mbit(path.bitsPerSecond / 8)}, ${path.rtt} ms round trip`);
  console.log(
    [
      'controller'.padEnd(12),
      'utilisation ≥90%'.padEnd(22),
      'queue p50'.padEnd(10),
      'queue p95 ≤25ms'.padEnd(21),
      'fair together ≥0.8'.padEnd(24),
      'fair late ≥0.8'.padEnd(20),
      '1% loss (Mathis)',
    ].join(' '),
  );
  for (const name of controllers) {
    const f = measure(CONTROLLERS[name] as (seed: number) => ControllerFactory, path);
    console.log(
      [
        name.padEnd(12),
        `${mark(f.utilisation >= GOALS.utilisation)} ${pct(f.utilisation)}`.padEnd(22),
        `${round(f.queueP50, 1)} ms`.padEnd(10),
        `${mark(f.queueP95 <= GOALS.queueP95)} ${round(f.queueP95, 1)} ms`.padEnd(21),
        `${mark(f.fairTogether >= GOALS.fairness)} ${round(f.fairTogether, 2)}`.padEnd(24),
        `${mark(f.fairLate >= GOALS.fairness)} ${round(f.fairLate, 2)}`.padEnd(20),
        `${mbit(f.lossRate)} (${mbit(f.mathis)}, ${round(f.lossRate / f.mathis, 2)}x)`,
        `  [${round(f.wallSeconds, 1)} s]`,
      ].join(' '),
    );
    report('congestion', {
      controller: name,
      path: pathName,
      utilisation: round(f.utilisation, 4),
      queueP50Ms: round(f.queueP50, 2),
      queueP95Ms: round(f.queueP95, 2),
      fairTogether: round(f.fairTogether, 3),
      fairLate: round(f.fairLate, 3),
      lossRateMbit: round((f.lossRate * 8) / 1e6, 2),
      mathisMbit: round((f.mathis * 8) / 1e6, 2),
    });
  }
}

if (!option('path') || paths.includes('loopback')) {
  console.log(
    '\nloopback model: receiver takes 800 Mbit/s, 200 KB socket buffer, 0.1 ms, an ACK every 16 datagrams or 1 ms',
  );
  console.log(
    ['controller'.padEnd(12), 'receiver busy ≥90%'.padEnd(22), 'queue p95'.padEnd(10), 'dropped'].join(' '),
  );
  for (const name of controllers) {
    const f = loopback(CONTROLLERS[name] as (seed: number) => ControllerFactory);
    console.log(
      [
        name.padEnd(12),
        `${mark(f.utilisation >= GOALS.utilisation)} ${pct(f.utilisation)}`.padEnd(22),
        `${round(f.queueP95, 2)} ms`.padEnd(10),
        pct(f.dropped),
      ].join(' '),
    );
    report('congestion', {
      controller: name,
      path: 'loopback',
      utilisation: round(f.utilisation, 4),
      queueP95Ms: round(f.queueP95, 3),
      dropped: round(f.dropped, 5),
    });
  }
}

if (!option('path') || paths.includes('hot'))
  console.log('\nhot path: one datagram sent and acknowledged (loss detection + controller + pacer)');
for (const name of !option('path') || paths.includes('hot') ? controllers : []) {
  const make = CONTROLLERS[name] as (seed: number) => ControllerFactory;
  hotPath(make, 200_000); // warm-up
  const ns = Math.min(hotPath(make, 1_000_000), hotPath(make, 1_000_000));
  console.log(
    `${name.padEnd(12)} ${round(ns, 0)} ns a datagram (${round(1e3 / ns, 2)} M datagrams/s of one core)`,
  );
  report('congestion-hot-path', { controller: name, nsPerDatagram: round(ns, 1) });
}

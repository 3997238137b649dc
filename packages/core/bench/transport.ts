/**
 * `pnpm bench transport` (issue 19): streams beside chat, measured.
 *
 * 1. Simulated paths, through the real engine (two or three Endpoints on virtual time, real
 *    crypto; transport-sim.ts): 100 Mbit/s at 50 ms, 10 Mbit/s at 200 ms, 1 Gbit/s at 10 ms, a
 *    drop-tail buffer of one bandwidth-delay product. One bulk stream's share of the bottleneck
 *    from 2 s on (goal ≥ 90 %), a chat line's one-way delay during it (p95, goal ≤ RTT + 25 ms),
 *    two bulk streams on two sessions of one channel and on two peers behind one bottleneck
 *    (goal: within 20 % of each other), and the rate at 1 % random loss beside TCP's (Mathis).
 * 2. Loopback, two processes (transport-loopback.ts): 1 GiB on one stream against the rate raw
 *    node:dgram moves 1200-byte datagrams one way without loss, in the same run (goal ≥ 0.5),
 *    each side's RSS (goal ≤ 150 MB), a chat line's delay during it (p95, goal < 50 ms).
 * 3. The engine's own CPU per datagram of a bulk stream, without sockets (engine-cost.ts).
 *
 *   node --import tsx bench/transport.ts [--quick] [--only=sim|loopback|engine]
 *
 * The loopback children run the built package: `pnpm build` first (scripts/bench.mjs does).
 * Figures are printed as measured; nothing here fails on a missed goal.
 */
import { engineCost } from './engine-cost.js';
import { netchatTransfer, rawBaseline } from './transport-loopback.js';
import { lossyFlow, type PathCase, singleFlow, twoFlows } from './transport-sim.js';
import { report, round } from './util.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.find((a) => a.startsWith('--only='))?.slice(7);
const scale = quick ? 0.5 : 1;

const PATHS: PathCase[] = [
  { name: '100 Mbit/s, 50 ms', bitsPerSecond: 100e6, rtt: 50, seconds: 10 * scale },
  { name: '10 Mbit/s, 200 ms', bitsPerSecond: 10e6, rtt: 200, seconds: 20 * scale },
  { name: '1 Gbit/s, 10 ms', bitsPerSecond: 1e9, rtt: 10, seconds: 8 * scale },
];

const mark = (ok: boolean) => (ok ? 'ok  ' : 'MISS');
/**
 * NETCHAT_SIM_SEEDS=1,2,3: the two-peer share run again with each seed (the endpoints'
 * randomness: BBR's starting phase, so where the flows' probing cycles fall against each other).
 * One seed's ratio is one draw: with large datagrams (the default) 0.80 to 0.996 over ten seeds on
 * 100 Mbit/s, 0.805 to 0.954 on 1 Gbit/s; with 1200-byte ones (NETCHAT_SIM_SMALL=1) 0.827 and
 * 0.786 at worst. The goal is judged on seed 1 as before; the others are printed beside it.
 */
const extraSeeds = (process.env.NETCHAT_SIM_SEEDS ?? '')
  .split(',')
  .filter((s) => s !== '')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 1);
const mbit = (bps: number) => `${round(bps / 1e6, 1)} Mbit/s`;

function simulated() {
  console.log('Streams through the engine on simulated paths (virtual time, real crypto; buffer 1 BDP)');
  const results = [];
  for (const path of PATHS) {
    const started = performance.now();
    const single = singleFlow(path);
    const sessions = twoFlows(path, 1);
    const peers = twoFlows(path, 2);
    const lossy = lossyFlow(path, 0.01);
    const chatLimit = path.rtt + 25;
    console.log(`\n${path.name} (${path.seconds} s simulated, figures from 2 s on)`);
    console.log(
      `  one stream         ${mark(single.share >= 0.9)} ${round(single.share * 100, 1)} % of the bottleneck (goal ≥ 90 %; goodput ${mbit(single.goodputBps)}, ${round(single.goodputRatio * 100, 1)} % of the bit rate with headers not counted)`,
    );
    console.log(
      `  chat line, one way ${mark(single.chatP95Ms <= chatLimit)} p95 ${round(single.chatP95Ms, 1)} ms, max ${round(single.chatMaxMs, 1)} ms of ${single.chatLines} lines (goal ≤ RTT + 25 = ${chatLimit} ms)`,
    );
    console.log(
      `  two sessions       ${mark(sessions.ratio >= 0.8)} ${round(sessions.ratio, 2)} (${sessions.rates.map(mbit).join(' / ')}; goal ≥ 0.8)`,
    );
    console.log(
      `  two peers          ${mark(peers.ratio >= 0.8)} ${round(peers.ratio, 2)} (${peers.rates.map(mbit).join(' / ')}; goal ≥ 0.8)`,
    );
    if (extraSeeds.length > 0) {
      const ratios = extraSeeds.map((seed) => twoFlows(path, 2, seed).ratio);
      console.log(
        `  two peers, seeds   ${extraSeeds.map((seed, i) => `${seed}: ${round(ratios[i] as number, 2)}`).join(', ')} (seed 1: ${round(peers.ratio, 2)}; worst ${round(Math.min(peers.ratio, ...ratios), 2)})`,
      );
    }
    console.log(
      `  1 % random loss         ${mbit(lossy.goodputBps)} beside TCP's ${mbit(lossy.mathisBps)} (Mathis: MSS/RTT × 1.22/√p): ${round(lossy.ratio, 1)}×`,
    );
    console.log(`  [${round((performance.now() - started) / 1000, 1)} s]`);
    results.push({
      path: path.name,
      bitsPerSecond: path.bitsPerSecond,
      rttMs: path.rtt,
      seconds: path.seconds,
      share: round(single.share, 4),
      goodputMbit: round(single.goodputBps / 1e6, 2),
      chatP95Ms: round(single.chatP95Ms, 1),
      chatLimitMs: chatLimit,
      fairSessions: round(sessions.ratio, 3),
      fairPeers: round(peers.ratio, 3),
      lossMbit: round(lossy.goodputBps / 1e6, 2),
      mathisMbit: round(lossy.mathisBps / 1e6, 2),
    });
  }
  return results;
}

async function loopback() {
  const bytes = quick ? 256 * 1024 ** 2 : 1024 ** 3;
  console.log(`\nLoopback, two processes: ${bytes / 1024 ** 2} MiB on one stream, against raw node:dgram`);
  const raw = await rawBaseline();
  console.log(
    `  raw node:dgram     ${round(raw.bytesPerSecond / 1e6, 1)} MB/s (${raw.datagramsPerSecond} datagrams/s of 1200 bytes received without loss; steps ${raw.steps.map((s) => `${s.rate}:${s.lost}`).join(' ')})`,
  );
  const ours = await netchatTransfer(bytes);
  const ratio = ours.bytesPerSecond / raw.bytesPerSecond;
  console.log(
    `  netchat stream     ${mark(ratio >= 0.5)} ${round(ours.bytesPerSecond / 1e6, 1)} MB/s of stream bytes = ${round(ratio, 2)} of raw (goal ≥ 0.5; ${round(ours.seconds, 1)} s)`,
  );
  console.log(
    `  RSS                ${mark(Math.max(ours.senderRssMB, ours.receiverRssMB) <= 150)} sender ${round(ours.senderRssMB, 1)} MB, receiver ${round(ours.receiverRssMB, 1)} MB (goal ≤ 150 MB each)`,
  );
  console.log(
    `  chat line, one way ${mark(ours.chatP95Ms < 50)} p95 ${round(ours.chatP95Ms, 1)} ms, max ${round(ours.chatMaxMs, 1)} ms of ${ours.chatLines} lines (goal < 50 ms; the receiver's own timers ran ${round(ours.receiverLateP95Ms, 1)} ms late at p95)`,
  );
  console.log(
    `  CPU per datagram   netchat sender ${round(ours.senderCpuUs, 2)} µs, receiver ${round(ours.receiverCpuUs, 2)} µs (${ours.datagrams} datagrams of ${round(bytes / ours.datagrams, 0)} stream bytes); raw sender ${round(raw.senderCpuUs, 2)} µs (flat out), receiver ${round(raw.receiverCpuUs, 2)} µs (1200 bytes)`,
  );
  return {
    bytes,
    rawBytesPerSecond: raw.bytesPerSecond,
    rawDatagramsPerSecond: raw.datagramsPerSecond,
    rawSteps: raw.steps,
    bytesPerSecond: Math.round(ours.bytesPerSecond),
    // transport-loopback.ts: large datagrams (the default) unless NETCHAT_BENCH_SMALL=1.
    largeDatagrams: process.env.NETCHAT_BENCH_SMALL !== '1',
    ratio: round(ratio, 3),
    senderRssMB: round(ours.senderRssMB, 1),
    receiverRssMB: round(ours.receiverRssMB, 1),
    chatP95Ms: round(ours.chatP95Ms, 1),
    receiverLateP95Ms: round(ours.receiverLateP95Ms, 1),
    chatLines: ours.chatLines,
    senderCpuUs: round(ours.senderCpuUs, 2),
    receiverCpuUs: round(ours.receiverCpuUs, 2),
    datagrams: ours.datagrams,
    rawSenderCpuUs: round(raw.senderCpuUs, 2),
    rawReceiverCpuUs: round(raw.receiverCpuUs, 2),
  };
}

function engine() {
  engineCost(32 * 1024 ** 2); // warm-up
  const cost = engineCost(128 * 1024 ** 2);
  console.log(
    `\nThe engine alone (two Endpoints, one process, no sockets): sender ${round(cost.senderUs, 2)} µs, receiver ${round(cost.receiverUs, 2)} µs of CPU per data datagram (AEAD included)`,
  );
  return { senderUs: round(cost.senderUs, 2), receiverUs: round(cost.receiverUs, 2) };
}

const figures: Record<string, unknown> = {};
if (!only || only === 'sim') figures.simulated = simulated();
if (!only || only === 'engine') figures.engine = engine();
if (!only || only === 'loopback') figures.loopback = await loopback();
report('transport', figures);

/**
 * Round trip of a 64-byte message on 127.0.0.1, one at a time: netchat through the public API
 * (A sends, B's `message` handler replies, A's `message` handler measures; encrypted and
 * reliable) against raw node:dgram ping-pong, in the same process and the same run. The two
 * alternate in blocks of 200, so a burst of load from elsewhere on the machine hits both alike
 * (blocks of 1,000 let one stretch of a noisy machine land on one side).
 * Run: pnpm --filter @netchat/core bench (or pnpm bench at the root for every benchmark).
 */
import { netchatPair, PAYLOAD, PAYLOAD_BYTES, report, round, stats, udpPair } from './util.js';

const SAMPLES = Number(process.env.BENCH_RTT_SAMPLES ?? 20_000);
const WARMUP = 2_000;
const BLOCK = 200;

/** Something that does one round trip per call of `once`, measured from send to reply. */
interface PingPong {
  once(): Promise<number>;
  close(): Promise<void>;
}

async function raw(): Promise<PingPong> {
  const [a, b] = await udpPair();
  const port = b.address().port;
  b.on('message', (data, rinfo) => b.send(data, rinfo.port, rinfo.address));
  let done: ((at: number) => void) | undefined;
  a.on('message', () => done?.(performance.now()));
  return {
    once() {
      return new Promise((resolve) => {
        const start = performance.now();
        done = (at) => resolve(at - start);
        a.send(PAYLOAD_BYTES, port, '127.0.0.1');
      });
    },
    async close() {
      a.close();
      b.close();
    },
  };
}

async function netchat(): Promise<PingPong> {
  const { a, b, session } = await netchatPair();
  b.on('message', (e) => b.send(e.session, e.text));
  let done: ((at: number) => void) | undefined;
  a.on('message', () => done?.(performance.now()));
  return {
    once() {
      return new Promise((resolve) => {
        const start = performance.now();
        done = (at) => resolve(at - start);
        a.send(session, PAYLOAD);
      });
    },
    async close() {
      await Promise.all([a.close(200), b.close(200)]);
    },
  };
}

async function run(p: PingPong, n: number, into?: number[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t = await p.once();
    into?.push(t);
  }
}

export async function roundTrip() {
  const rawPing = await raw();
  const ours = await netchat();
  await run(rawPing, WARMUP);
  await run(ours, WARMUP);
  const rawSamples: number[] = [];
  const ourSamples: number[] = [];
  for (let done = 0; done < SAMPLES; done += BLOCK) {
    await run(rawPing, BLOCK, rawSamples);
    await run(ours, BLOCK, ourSamples);
  }
  await rawPing.close();
  await ours.close();
  const r = stats(rawSamples);
  const o = stats(ourSamples);
  return {
    raw: r,
    netchat: o,
    medianRatio: round(o.medianUs / r.medianUs),
    p99Ratio: round(o.p99Us / r.p99Us),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await roundTrip();
  console.log(
    `Loopback round trip, ${PAYLOAD.length}-byte messages, ${SAMPLES} samples each, node ${process.version}`,
  );
  for (const [name, s] of [
    ['raw dgram', result.raw],
    ['netchat', result.netchat],
  ] as const)
    console.log(`  ${name.padEnd(10)} median ${s.medianUs.toFixed(1)} µs   p99 ${s.p99Us.toFixed(1)} µs`);
  console.log(
    `  ratio      median ${result.medianRatio}x (goal ≤ 1.25x)   p99 ${result.p99Ratio}x (goal ≤ 3x)`,
  );
  report('roundtrip', { samples: SAMPLES, ...result });
}

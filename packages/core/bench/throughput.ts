/**
 * One-way throughput on 127.0.0.1 of 64-byte messages: netchat (reliable, in order, encrypted;
 * every message sent at once through the public API, counted by B's `message` handler) against
 * a fair raw node:dgram sender that loses nothing: bursts of 32, then it waits until the
 * receiver has them all. Raw's losses are counted and reported (they should be 0). Rounds
 * alternate, and the ratio is taken from the medians of the same run.
 */
import { median, netchatPair, report, round, tick, udpPair } from './util.js';

const MESSAGES = Number(process.env.BENCH_THROUGHPUT_MESSAGES ?? 50_000);
const ROUNDS = 5;
const WARMUP_ROUNDS = 2;
const BURST = 32;

/** 64 bytes that carry their index, so the receiver can check the order. */
function payload(i: number): string {
  return String(i).padStart(64, '.');
}

async function rawRound(): Promise<{ perSecond: number; lost: number; outOfOrder: number }> {
  const [a, b] = await udpPair();
  const port = b.address().port;
  const messages = Array.from({ length: MESSAGES }, (_, i) => Buffer.from(payload(i)));
  let received = 0;
  let expected = 0;
  let outOfOrder = 0;
  b.on('message', (data) => {
    received++;
    const index = Number(data.toString().replace(/^\.+/, ''));
    if (index !== expected) outOfOrder++;
    expected = index + 1;
  });
  let lost = 0;
  const start = performance.now();
  for (let i = 0; i < MESSAGES; i += BURST) {
    const end = Math.min(MESSAGES, i + BURST);
    for (let j = i; j < end; j++) a.send(messages[j] as Buffer, port, '127.0.0.1');
    // Wait for the receiver; a datagram that never comes counts as lost after 50 ms.
    const waitFrom = performance.now();
    while (received + lost < end) {
      await tick();
      if (performance.now() - waitFrom > 50) lost = end - received;
    }
  }
  const seconds = (performance.now() - start) / 1000;
  a.close();
  b.close();
  return { perSecond: received / seconds, lost, outOfOrder };
}

async function netchatRound(): Promise<{ perSecond: number; outOfOrder: number }> {
  const { a, b, session } = await netchatPair({ maxQueuedBytes: 256 * 1024 * 1024 });
  const texts = Array.from({ length: MESSAGES }, (_, i) => payload(i));
  let received = 0;
  let outOfOrder = 0;
  const done = new Promise<void>((resolve) => {
    b.on('message', (e) => {
      if (e.text !== texts[received]) outOfOrder++;
      if (++received === MESSAGES) resolve();
    });
  });
  const start = performance.now();
  for (const text of texts) a.send(session, text);
  await done;
  const perSecond = MESSAGES / ((performance.now() - start) / 1000);
  await Promise.all([a.close(200), b.close(200)]);
  return { perSecond, outOfOrder };
}

export async function throughput() {
  const raws: Awaited<ReturnType<typeof rawRound>>[] = [];
  const ours: Awaited<ReturnType<typeof netchatRound>>[] = [];
  // Warm-up rounds of each, not counted: netchat's first round after one warm-up still ran
  // 10-20 % below the rest (the JIT and the heap still settling), which made the median swing.
  for (let i = 0; i < WARMUP_ROUNDS; i++) {
    await rawRound();
    await netchatRound();
  }
  for (let i = 0; i < ROUNDS; i++) {
    raws.push(await rawRound());
    ours.push(await netchatRound());
  }
  const rawRate = median(raws.map((r) => r.perSecond));
  const ourRate = median(ours.map((r) => r.perSecond));
  return {
    messages: MESSAGES,
    rounds: ROUNDS,
    raw: {
      perSecond: Math.round(rawRate),
      rounds: raws.map((r) => Math.round(r.perSecond)),
      lost: raws.reduce((n, r) => n + r.lost, 0),
      outOfOrder: raws.reduce((n, r) => n + r.outOfOrder, 0),
    },
    netchat: {
      perSecond: Math.round(ourRate),
      rounds: ours.map((r) => Math.round(r.perSecond)),
      outOfOrder: ours.reduce((n, r) => n + r.outOfOrder, 0),
    },
    ratio: round(ourRate / rawRate),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await throughput();
  console.log(`One-way throughput, 64-byte messages, ${MESSAGES} a round, median of ${ROUNDS} rounds`);
  console.log(
    `  raw dgram  ${r.raw.perSecond} msg/s (bursts of ${BURST}, waits for the receiver; lost ${r.raw.lost})`,
  );
  console.log(
    `  netchat    ${r.netchat.perSecond} msg/s (reliable, in order; out of order ${r.netchat.outOfOrder})`,
  );
  console.log(`  ratio      ${r.ratio} of raw (goal ≥ 0.5)`);
  report('throughput', r);
}

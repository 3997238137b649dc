/**
 * netchat against raw node:dgram on 127.0.0.1: round-trip time (ping-pong, one at a time) and
 * one-way message throughput. Prints figures; asserts nothing. Run: pnpm --filter @netchat/core bench
 */
import dgram from 'node:dgram';
import { NetchatPeer } from '../src/index.js';

const ROUND_TRIPS = 5_000;
const MESSAGES = 50_000;
const PAYLOAD = 'x'.repeat(64);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

function summary(name: string, samples: number[]): { median: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = percentile(sorted, 0.5);
  console.log(
    `${name.padEnd(28)} median ${(median * 1000).toFixed(1)} µs   p99 ${(percentile(sorted, 0.99) * 1000).toFixed(1)} µs`,
  );
  return { median };
}

async function udpPair(): Promise<[dgram.Socket, dgram.Socket]> {
  const sockets = [dgram.createSocket('udp4'), dgram.createSocket('udp4')] as const;
  await Promise.all(sockets.map((s) => new Promise<void>((r) => s.bind(0, '127.0.0.1', r))));
  return [sockets[0], sockets[1]];
}

async function rawRoundTrip(): Promise<number[]> {
  const [a, b] = await udpPair();
  b.on('message', (data, rinfo) => b.send(data, rinfo.port, rinfo.address));
  const samples: number[] = [];
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const start = performance.now();
    await new Promise<void>((resolve) => {
      a.once('message', () => resolve());
      a.send(PAYLOAD, b.address().port, '127.0.0.1');
    });
    samples.push(performance.now() - start);
  }
  a.close();
  b.close();
  return samples;
}

async function rawThroughput(): Promise<{ perSecond: number; lost: number }> {
  const [a, b] = await udpPair();
  let received = 0;
  let lastAt = 0;
  const start = performance.now();
  const done = new Promise<void>((resolve) => {
    b.on('message', () => {
      lastAt = performance.now();
      if (++received === MESSAGES) resolve();
    });
  });
  // Sent in bursts that let the receiver keep up, as a sender without flow control must.
  for (let i = 0; i < MESSAGES; i += 64) {
    for (let j = 0; j < 64; j++) a.send(PAYLOAD, b.address().port, '127.0.0.1');
    await new Promise((r) => setImmediate(r));
  }
  // Datagrams the kernel dropped never come: stop waiting after a pause, and count the rate up
  // to the last one that did arrive.
  await Promise.race([done, new Promise((r) => setTimeout(r, 1_000))]);
  const seconds = (lastAt - start) / 1000;
  a.close();
  b.close();
  return { perSecond: received / seconds, lost: MESSAGES - received };
}

async function netchatPair() {
  const b = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', maxQueuedBytes: 64 * 1024 * 1024 });
  const a = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', maxQueuedBytes: 64 * 1024 * 1024 });
  b.on('request', (e) => b.accept(e.session));
  const accepted = new Promise<number>((resolve) => a.once('accepted', (e) => resolve(e.session)));
  await a.connect('127.0.0.1', b.address.port);
  return { a, b, session: await accepted };
}

async function netchatRoundTrip(): Promise<number[]> {
  const { a, b, session } = await netchatPair();
  b.on('message', (e) => b.send(e.session, e.text));
  const samples: number[] = [];
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const start = performance.now();
    await new Promise<void>((resolve) => {
      a.once('message', () => resolve());
      a.send(session, PAYLOAD);
    });
    samples.push(performance.now() - start);
  }
  await a.close(200);
  await b.close(200);
  return samples;
}

async function netchatThroughput(): Promise<number> {
  const { a, b, session } = await netchatPair();
  let received = 0;
  const start = performance.now();
  const done = new Promise<void>((resolve) => {
    b.on('message', () => {
      if (++received === MESSAGES) resolve();
    });
  });
  for (let i = 0; i < MESSAGES; i++) a.send(session, PAYLOAD);
  await done;
  const perSecond = received / ((performance.now() - start) / 1000);
  await a.close(200);
  await b.close(200);
  return perSecond;
}

console.log(`Loopback, ${PAYLOAD.length}-byte messages, node ${process.version}`);
const raw = summary('raw dgram round trip', await rawRoundTrip());
const ours = summary('netchat round trip', await netchatRoundTrip());
console.log(`round trip ratio: ${(ours.median / raw.median).toFixed(2)}x raw (goal: within 2x)`);
const rawRate = await rawThroughput();
const ourRate = await netchatThroughput();
console.log(`raw dgram throughput         ${Math.round(rawRate.perSecond)} msg/s (${rawRate.lost} lost)`);
console.log(`netchat throughput           ${Math.round(ourRate)} msg/s (reliable, in order)`);
console.log(`throughput ratio: ${(ourRate / rawRate.perSecond).toFixed(2)} of raw (goal: at least 0.5)`);
console.log('netchat figures are with encryption on (Noise XX handshake, ChaCha20-Poly1305 per packet).');

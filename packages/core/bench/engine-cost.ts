/** Per-datagram cost of a bulk stream through two Endpoints in one process, no sockets (µs of CPU per data datagram, each side). */
import { Endpoint, type NetchatEvent } from '../src/index.js';
const a = new Endpoint({ streams: true }),
  b = new Endpoint({ streams: true });
const A = { host: '127.0.0.1', port: 1 },
  B = { host: '127.0.0.1', port: 2 };
let now = 0;
let costA = 0,
  costB = 0;
const chunk = new Uint8Array(256 * 1024);
let sa = -1,
  sb = -1,
  stream = -1,
  written = 0,
  got = 0;
const total = Number(process.argv[2] ?? 256 * 1024 * 1024);
function handle(ep: Endpoint, e: NetchatEvent) {
  if (e.type === 'request') ep.accept(e.session, now);
  if (e.type === 'accepted') sa = e.session;
  if (e.type === 'stream_readable') {
    for (;;) {
      const c = ep.readStream(e.session, e.stream, 1 << 20, now);
      if (!c.length) break;
      got += c.length;
    }
  }
  if (e.type === 'stream_writable') write();
}
function write() {
  while (written < total) {
    const t = a.writeStream(sa, stream, chunk, now);
    written += t;
    if (t < chunk.length) return;
  }
}
const queue: { to: Endpoint; data: Uint8Array; from: typeof A }[] = [];
function drain(ep: Endpoint, from: typeof A, to: Endpoint) {
  for (let t = ep.pollTransmit(); t; t = ep.pollTransmit()) queue.push({ to, data: t.data, from });
  for (let e = ep.pollEvent(); e; e = ep.pollEvent()) handle(ep, e);
}
function step() {
  const t0 = performance.now();
  drain(a, A, b);
  const t1 = performance.now();
  drain(b, B, a);
  const t2 = performance.now();
  costA += t1 - t0;
  costB += t2 - t1;
  const batch = queue.splice(0, queue.length);
  for (const d of batch) {
    const s = performance.now();
    d.to.handleDatagram(d.data, d.from, now);
    const e = performance.now();
    if (d.to === a) costA += e - s;
    else costB += e - s;
  }
  now += 0.05;
  for (const ep of [a, b]) {
    const t = ep.nextTimeout();
    if (t !== undefined && t <= now) {
      const s = performance.now();
      ep.handleTimeout(now);
      const e = performance.now();
      if (ep === a) costA += e - s;
      else costB += e - s;
    }
  }
}
a.connect(B, now);
for (let i = 0; i < 1000 && sa < 0; i++) step();
for (let i = 0; i < 100; i++) step();
stream = a.openStream(sa, now);
costA = costB = 0;
const wall = performance.now();
write();
while (got < total) step();
const packets = a.pathInfo(B)!.dataPackets;
console.log(
  `${(total / 2 ** 20).toFixed(0)} MiB, ${packets} data datagrams: sender ${((costA * 1000) / packets).toFixed(2)} µs/datagram, receiver ${((costB * 1000) / packets).toFixed(2)} µs/datagram; wall ${((performance.now() - wall) / 1000).toFixed(2)} s; acks ${b.pathInfo(A)!.acksSent}`,
);

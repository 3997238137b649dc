/**
 * The engine's own cost of a bulk stream: two Endpoints in one process, datagrams handed from
 * one to the other without sockets, CPU time per data datagram on each side (AEAD included).
 * What is left on loopback beyond this is the socket's and the adapter's.
 *
 * Each side's work is timed on the wall clock, which on a loaded machine also counts the time
 * the process waited for a core. So the process's CPU time (user + system) over the run is
 * measured too, and each side's figure is its wall time × (CPU time / wall time of the run):
 * its share of the CPU the run really used (the harness's own work left out). On a quiet
 * machine the two agree; the wall figures are returned beside them.
 */
import { type Address, Endpoint, type NetchatEvent, type SessionId, type StreamId } from '../src/index.js';

export function engineCost(total: number): {
  senderUs: number;
  receiverUs: number;
  senderWallUs: number;
  receiverWallUs: number;
  datagrams: number;
} {
  const a = new Endpoint({ streams: true });
  const b = new Endpoint({ streams: true });
  const A: Address = { host: '127.0.0.1', port: 1 };
  const B: Address = { host: '127.0.0.1', port: 2 };
  const chunk = new Uint8Array(256 * 1024);
  let now = 0;
  let cost = [0, 0];
  let session: SessionId = -1;
  let stream: StreamId = -1;
  let written = 0;
  let got = 0;
  const write = () => {
    while (written < total) {
      const took = a.writeStream(session, stream, chunk, now);
      written += took;
      if (took < chunk.length) return;
    }
  };
  const handle = (endpoint: Endpoint, e: NetchatEvent) => {
    if (e.type === 'request') endpoint.accept(e.session, now);
    if (e.type === 'accepted') session = e.session;
    if (e.type === 'stream_writable') write();
    if (e.type === 'stream_readable')
      for (let bytes = endpoint.readStream(e.session, e.stream, 1 << 20, now); bytes.length > 0; ) {
        got += bytes.length;
        bytes = endpoint.readStream(e.session, e.stream, 1 << 20, now);
      }
  };
  /** Runs `work` on side `side` (0: sender, 1: receiver), counting its time. */
  const timed = (side: number, work: () => void) => {
    const start = performance.now();
    work();
    cost[side] = (cost[side] as number) + performance.now() - start;
  };
  const step = () => {
    const wire: { to: Endpoint; side: number; from: Address; data: Uint8Array }[] = [];
    for (const [side, endpoint, from, to] of [
      [0, a, A, b],
      [1, b, B, a],
    ] as const)
      timed(side, () => {
        for (let t = endpoint.pollTransmit(); t; t = endpoint.pollTransmit())
          wire.push({ to, side: 1 - side, from, data: t.data });
        for (let e = endpoint.pollEvent(); e; e = endpoint.pollEvent()) handle(endpoint, e);
      });
    for (const d of wire) timed(d.side, () => d.to.handleDatagram(d.data, d.from, now));
    now += 0.05;
    for (const [side, endpoint] of [
      [0, a],
      [1, b],
    ] as const) {
      const at = endpoint.nextTimeout();
      if (at !== undefined && at <= now) timed(side, () => endpoint.handleTimeout(now));
    }
  };
  a.connect(B, now);
  for (let i = 0; i < 1_000 && session < 0; i++) step();
  for (let i = 0; i < 100; i++) step();
  stream = a.openStream(session, now);
  cost = [0, 0];
  const wallStart = performance.now();
  const cpuStart = process.cpuUsage();
  write();
  for (let i = 0; i < 10_000_000 && got < total; i++) step();
  const cpu = process.cpuUsage(cpuStart);
  const running = (cpu.user + cpu.system) / 1000 / (performance.now() - wallStart);
  const datagrams = a.pathInfo(B)?.dataPackets ?? 1;
  const wallUs = (side: number) => ((cost[side] as number) * 1000) / datagrams;
  return {
    senderUs: wallUs(0) * running,
    receiverUs: wallUs(1) * running,
    senderWallUs: wallUs(0),
    receiverWallUs: wallUs(1),
    datagrams,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const total = Number(process.argv[2] ?? 256 * 1024 ** 2);
  const r = engineCost(total);
  console.log(
    `${total / 1024 ** 2} MiB, ${r.datagrams} data datagrams: sender ${r.senderUs.toFixed(2)} µs, receiver ${r.receiverUs.toFixed(2)} µs of CPU per datagram (wall ${r.senderWallUs.toFixed(2)} / ${r.receiverWallUs.toFixed(2)} µs)`,
  );
}

/**
 * One process of the loopback benchmark (transport-loopback.ts forks it with a role): a raw
 * node:dgram sender or receiver, or a netchat sender or receiver over the built package (dist/).
 * Plain JavaScript, so the process's RSS is its own and netchat's, without a TypeScript loader.
 * It takes orders and reports over IPC.
 */
import dgram from 'node:dgram';
import { NetchatPeer } from '../dist/index.js';
import { numericLookup, RECEIVE_BUFFER_BYTES } from '../dist/node/udp-socket.js';
import { rssSampler, wallClock } from './peer-process.mjs';

const DATAGRAM = 1200;
const CHUNK = 256 * 1024;

const send = (message) => process.send?.(message);

/**
 * Any failure of this child (a throw, a rejection, the session lost mid-transfer at extreme load)
 * goes to the parent as `failed`, which then ends both children; this one ends at once. A child
 * whose parent went away (killed, crashed) ends too: nothing is left to report to.
 */
function fail(error) {
  const text = error instanceof Error ? `${error.code ?? error.name}: ${error.message}` : String(error);
  if (!process.connected) process.exit(1);
  process.send({ type: 'failed', role: process.argv[2], error: text }, () => process.exit(1));
}
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);
process.on('disconnect', () => process.exit(1));

/**
 * How late this process's own timers run (a 10 ms interval, its lateness each time): what any
 * event it waits for (a chat line's datagram among them) waits on top of the work queued before
 * it. On a loaded machine it is mostly the scheduler's doing (a woken process waits for a core);
 * beside the chat line's delay it tells how much of that delay is ours.
 */
function lateness(everyMs = 10) {
  const lates = [];
  let expected = performance.now() + everyMs;
  const timer = setInterval(() => {
    const now = performance.now();
    if (lates.length < 100_000) lates.push(Math.max(0, now - expected));
    expected = now + everyMs;
  }, everyMs);
  return {
    reset() {
      lates.length = 0;
      expected = performance.now() + everyMs;
    },
    p95() {
      const sorted = [...lates].sort((a, b) => a - b);
      return sorted[Math.floor(0.95 * (sorted.length - 1))] ?? Number.NaN;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
/** CPU time this process used (user + system), in microseconds. */
const cpuMicros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

async function rawReceiver() {
  const socket = dgram.createSocket('udp4');
  await new Promise((r) => socket.bind(0, '127.0.0.1', r));
  // The receive buffer netchat's adapter asks for (udp-socket.ts): the same room for bursts.
  socket.setRecvBufferSize(RECEIVE_BUFFER_BYTES);
  let received = 0;
  socket.on('message', () => {
    received++;
  });
  process.on('message', (m) => {
    if (m.type === 'count') send({ type: 'count', received, cpu: cpuMicros() });
    if (m.type === 'quit') socket.close(() => process.exit(0));
  });
  send({ type: 'ready', port: socket.address().port });
}

async function rawSender() {
  // The lookup netchat's socket has (udp-socket.ts): Node's default sends even a numeric address
  // through dns.lookup and a process.nextTick per datagram; the baseline must not pay what
  // netchat does not.
  const socket = dgram.createSocket({ type: 'udp4', lookup: numericLookup });
  await new Promise((r) => socket.bind(0, '127.0.0.1', r));
  const payload = Buffer.alloc(DATAGRAM, 0x61);
  process.on('message', async (m) => {
    if (m.type === 'quit') socket.close(() => process.exit(0));
    if (m.type !== 'send') return;
    const { port, rate, seconds } = m;
    // Paced: whatever the clock says is due, in batches of at most 64, yielding between them.
    const start = performance.now();
    const cpuBefore = cpuMicros();
    let sent = 0;
    for (;;) {
      const elapsed = (performance.now() - start) / 1000;
      if (elapsed >= seconds) break;
      const due = Math.floor(rate * elapsed);
      for (let i = 0; sent < due && i < 64; i++, sent++) socket.send(payload, port, '127.0.0.1');
      await new Promise((r) => setImmediate(r));
    }
    send({ type: 'sent', sent, seconds: (performance.now() - start) / 1000, cpu: cpuMicros() - cpuBefore });
  });
  send({ type: 'ready' });
}

/** NETCHAT_BENCH_SMALL=1: every datagram within 1200 bytes (no PMTU search), for A/B runs. */
const LARGE = process.env.NETCHAT_BENCH_SMALL !== '1';

async function netchatReceiver() {
  const peer = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', streams: true, largeDatagrams: LARGE });
  const rss = rssSampler();
  const late = lateness();
  let bytes = 0;
  let firstAt = 0;
  let lastAt = 0;
  let cpuAtFirst = 0;
  let cpuAtLast = 0;
  let target = Number.POSITIVE_INFINITY;
  const delays = [];
  peer.on('request', (e) => peer.accept(e.session));
  peer.on('stream_readable', (e) => {
    for (;;) {
      const chunk = peer.readStream(e.session, e.stream, 1 << 20);
      if (chunk.length === 0) break;
      if (bytes === 0) {
        firstAt = performance.now();
        cpuAtFirst = cpuMicros();
      }
      bytes += chunk.length;
      lastAt = performance.now();
    }
  });
  peer.on('stream_finished', (e) => {
    if (e.direction !== 'receive') return;
    // Read once here, not per chunk: process.cpuUsage is a system call.
    cpuAtLast = cpuMicros();
    if (bytes >= target)
      send({
        type: 'received',
        bytes,
        seconds: (lastAt - firstAt) / 1000,
        cpu: cpuAtLast - cpuAtFirst,
        delays: [...delays],
        rss: rss.peak(),
        lateP95: late.p95(),
        stats: { ...peer.stats },
        path: peer.endpoint.pathInfo(e.peer),
      });
    bytes = 0;
    delays.length = 0;
  });
  peer.on('message', (e) => {
    delays.push(wallClock() - Number(e.text.split(' ')[1]));
  });
  process.on('message', async (m) => {
    if (m.type === 'expect') {
      target = m.bytes;
      rss.reset();
      late.reset();
    }
    if (m.type === 'quit') {
      rss.stop();
      late.stop();
      await peer.close(200);
      process.exit(0);
    }
  });
  send({ type: 'ready', port: peer.address.port });
}

async function netchatSender() {
  const peer = await NetchatPeer.listen({ port: 0, host: '127.0.0.1', streams: true, largeDatagrams: LARGE });
  const rss = rssSampler();
  const chunk = new Uint8Array(CHUNK).fill(0x5a);
  process.on('message', async (m) => {
    if (m.type === 'quit') {
      rss.stop();
      await peer.close(200);
      process.exit(0);
    }
    if (m.type !== 'transfer') return;
    rss.reset();
    const { port, bytes: total } = m;
    const accepted = new Promise((resolve) => peer.once('accepted', (e) => resolve(e.session)));
    peer.connectTo({ host: '127.0.0.1', port });
    const session = await accepted;
    await new Promise((r) => setTimeout(r, 50));
    const stream = peer.openStream(session);
    const cpuBefore = cpuMicros();
    let written = 0;
    // Pull-driven: as much as the stream takes, the rest when it says it has room.
    const write = () => {
      while (written < total) {
        const want = Math.min(CHUNK, total - written);
        const took = peer.writeStream(session, stream, want === CHUNK ? chunk : chunk.subarray(0, want));
        written += took;
        if (took < want) return;
      }
      peer.finishStream(session, stream);
    };
    let finished;
    const done = new Promise((resolve) => {
      finished = resolve;
    });
    const onFinished = (e) => {
      if (e.session === session && e.stream === stream && e.direction === 'send') finished();
    };
    const onWritable = (e) => {
      if (e.session === session && e.stream === stream) write();
    };
    // The session ended before the stream was delivered: the transfer failed (the parent ends both children).
    const onEnded = (e) => {
      if (e.session === session) fail(new Error(`the session ended (${e.type}) before the stream was delivered`));
    };
    peer.on('stream_finished', onFinished);
    peer.on('stream_writable', onWritable);
    for (const type of ['lost', 'closed', 'stream_cancelled']) peer.on(type, onEnded);
    const chat = setInterval(() => peer.send(session, `at ${wallClock()}`), 100);
    // NETCHAT_BENCH_TRACE=1: the path's state every 50 ms on stderr (for tuning).
    const trace = process.env.NETCHAT_BENCH_TRACE
      ? setInterval(() => {
          const p = peer.endpoint.pathInfo({ host: '127.0.0.1', port });
          const s = peer.streamInfo(session, stream);
          console.error(
            JSON.stringify({
              t: Math.round(performance.now()),
              w: Math.round(p.window),
              inf: p.bytesInFlight,
              rtt: p.rtt?.toFixed(2),
              pace: Math.round((p.pacingRate ?? 0) / 1e6),
              pk: p.dataPackets,
              lost: p.lostPackets,
              ws: p.windowStops,
              ps: p.pacerStops,
              buf: s?.buffered,
              room: s?.available,
              ...(() => {
                const path = [...peer.endpoint.transport.paths][0];
                const c = path?.controller;
                return c
                  ? {
                      st: c.mode,
                      bw: Math.round(c.bandwidth / 1e6),
                      rtprop: c.minRtt?.toFixed(3),
                      hi: Math.round(c.inflightBound),
                    }
                  : {};
              })(),
            }),
          );
        }, 50)
      : undefined;
    write();
    await done;
    const cpu = cpuMicros() - cpuBefore;
    clearInterval(chat);
    clearInterval(trace);
    peer.off('stream_finished', onFinished);
    peer.off('stream_writable', onWritable);
    for (const type of ['lost', 'closed', 'stream_cancelled']) peer.off(type, onEnded);
    const path = peer.endpoint.pathInfo({ host: '127.0.0.1', port });
    peer.closeSession(session, { linger: false });
    send({ type: 'sent', rss: rss.peak(), cpu, path, stats: { ...peer.stats } });
  });
  send({ type: 'ready' });
}

const roles = {
  'raw-receiver': rawReceiver,
  'raw-sender': rawSender,
  'netchat-receiver': netchatReceiver,
  'netchat-sender': netchatSender,
};
await roles[process.argv[2]]();

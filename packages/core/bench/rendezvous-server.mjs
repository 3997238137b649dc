/**
 * The rendezvous the scale benchmark measures (bench/rendezvous-scale.ts), in a process of its
 * own: a NetchatPeer on 127.0.0.1 serving the rendezvous role and accepting every session, as
 * `netchat-bot --rendezvous` does (its answered heartbeats left out; BENCH_RV_KEEP_GRID=1 keeps
 * them, to compare), without the bot's log line per request. Run from the built
 * package (dist), with --expose-gc. It answers the benchmark over IPC with its own view of
 * itself: CPU time, RSS (after a full GC when asked), and the rendezvous's table sizes.
 *
 * argv: maxRegistrations maxSessionsPerPeer
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { NetchatPeer, serveRendezvous } from '../dist/index.js';

const [maxRegistrations = '100000', perPeer = '16'] = process.argv.slice(2);
const max = Number(maxRegistrations);
const peer = await NetchatPeer.listen({
  port: 0,
  host: '127.0.0.1',
  nick: 'rendezvous',
  maxSessions: max + 64,
  maxSessionsPerPeer: Number(perPeer),
  // As netchat-bot --rendezvous runs: its heartbeats left out in intervals it answered one.
  skipAnsweredHeartbeats: process.env.BENCH_RV_KEEP_GRID !== '1',
});
const server = serveRendezvous(peer, { maxRegistrations: max });
peer.on('request', (e) => peer.accept(e.session));

process.on('message', (message) => {
  // A normal exit (so that --cpu-prof, when given, writes its profile).
  if (message?.type === 'exit') process.exit(0);
  // A CPU profile of a window (BENCH_PROFILE_DIR): start, then stop and write it to `path`.
  if (message?.type === 'profile') {
    void profile(message).then(() => process.send({ type: 'profiled', id: message.id }));
    return;
  }
  if (message?.type !== 'sample') return;
  if (message.gc) {
    // Twice: the first may only move survivors; RSS is read after the heap has shrunk.
    globalThis.gc?.();
    globalThis.gc?.();
  }
  process.send({
    type: 'sample',
    id: message.id,
    at: performance.now(),
    cpu: process.cpuUsage(),
    ...memory(),
    registrations: server.size,
    // Listing builds a record per session: only when asked (not inside a CPU window).
    sessions: message.sessions ? peer.listSessions().length : undefined,
    sizes: server.sizes,
    secure: peer.endpoint.secureSizes,
    stats: server.stats,
    datagrams: { in: peer.stats.datagramsIn, out: peer.stats.datagramsOut },
  });
});
process.send({ type: 'listening', port: peer.address.port });

function memory() {
  const m = process.memoryUsage();
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    mallocHeap: mallocHeapRss(),
  };
}

/**
 * The resident bytes of the process's `[heap]` mapping (Linux): memory the C allocator took with
 * brk for the main thread (libuv's receive buffers, sodium's and node's own allocations), as
 * against V8's heap pages, which are mappings of their own. What of RSS neither V8 nor this
 * explains is other threads' allocator arenas and code. 0 where /proc is not there.
 */
function mallocHeapRss() {
  try {
    const smaps = readFileSync('/proc/self/smaps', 'utf8');
    const at = smaps.indexOf('[heap]');
    if (at < 0) return 0;
    const rss = /\nRss:\s+(\d+) kB/.exec(smaps.slice(at));
    return rss ? Number(rss[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

let inspector;
function post(method, params = {}) {
  return new Promise((resolve, reject) =>
    inspector.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
  );
}
async function profile(message) {
  if (message.action === 'start') {
    inspector = new Session();
    inspector.connect();
    await post('Profiler.enable');
    await post('Profiler.start');
    return;
  }
  const { profile: taken } = await post('Profiler.stop');
  writeFileSync(message.path, JSON.stringify(taken));
  inspector.disconnect();
}

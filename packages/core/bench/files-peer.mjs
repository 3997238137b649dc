/**
 * One process of `pnpm bench files` on loopback (files-loopback.ts forks it with a role): a
 * netchat peer with a FileLink, over the built package (dist/), that sends a file from the disk or
 * receives one into a download folder. Plain JavaScript, so the RSS is the process's own and
 * netchat's. It takes orders and reports over IPC; the raw baseline's processes are
 * transport-peer.mjs's.
 */
import { readFileSync } from 'node:fs';
import { FileLink, NetchatPeer } from '../dist/index.js';
import { diskBaseline, storageTimer } from './files-folder-peer.mjs';
import { rssSampler, wallClock } from './peer-process.mjs';

const send = (message) => process.send?.(message);
/** CPU time this process used (user + system), in microseconds. */
const cpuMicros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};
/** Linux's clock ticks a second in /proc (USER_HZ; 100 on every architecture node runs on there). */
const TICKS_PER_SECOND = 100;

/**
 * CPU (user + system) of this process's main thread, in microseconds, to 10 ms (Linux
 * /proc/self/task/PID/stat; -1 elsewhere). The rest of `cpuMicros` is the other threads': libuv's
 * pool (the disk's reads, writes and fsyncs) and V8's (the collector, the compiler).
 */
function mainThreadCpuMicros() {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_SECOND;
  } catch {
    return -1;
  }
}

/** NETCHAT_BENCH_SMALL=1: every datagram within 1200 bytes, as transport-peer.mjs (the bare stream beside it). */
const LARGE = process.env.NETCHAT_BENCH_SMALL !== '1';

/**
 * Bytes this process has read through read-like system calls (Linux /proc/self/io `rchar`; -1
 * elsewhere). UDP datagrams arrive by recvmsg, which it does not count: what is left is files.
 */
function bytesReadFromFiles() {
  try {
    return Number(/rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? -1);
  } catch {
    return -1;
  }
}

/**
 * What the memory is made of, sampled every 250 ms: the highest JavaScript heap and the highest
 * bytes held in ArrayBuffers (Buffers; garbage ones too, until a collection frees them), in bytes.
 */
function makeupSampler() {
  let heap = 0;
  let arrayBuffers = 0;
  const sample = () => {
    const m = process.memoryUsage();
    heap = Math.max(heap, m.heapTotal);
    arrayBuffers = Math.max(arrayBuffers, m.arrayBuffers);
  };
  const timer = setInterval(sample, 250);
  return {
    reset() {
      heap = 0;
      arrayBuffers = 0;
      sample();
    },
    peak() {
      sample();
      return { heap, arrayBuffers };
    },
    stop() {
      clearInterval(timer);
    },
  };
}

async function listen() {
  return NetchatPeer.listen({ port: 0, host: '127.0.0.1', streams: true, files: true, largeDatagrams: LARGE });
}

async function receiver(folder) {
  const peer = await listen();
  const link = new FileLink(peer, { downloadFolder: folder, engine: JSON.parse(process.env.BENCH_ENGINE ?? '{}') });
  const rss = rssSampler(50);
  const makeup = makeupSampler();
  const delays = [];
  let acceptedAt = 0;
  let cpuAtAccept = 0;
  let mainCpuAtAccept = 0;
  let datagramsAtAccept = { in: 0, out: 0 };
  let readBefore = 0;
  let lentBefore = 0;
  let receiving = false;
  /** Files of the offer being received: a folder's (more than one) is reported at its end, not per file. */
  let offerFiles = 1;
  const timer = storageTimer(link);
  peer.on('request', (e) => peer.accept(e.session));
  // The lines that cross while a file does (not those of the sender's hashing pass).
  peer.on('message', (e) => {
    if (receiving) delays.push(wallClock() - Number(e.text.split(' ')[1]));
  });
  link.on('file_offer', (e) => {
    offerFiles = e.files.length;
    timer.reset();
    acceptedAt = performance.now();
    cpuAtAccept = cpuMicros();
    mainCpuAtAccept = mainThreadCpuMicros();
    datagramsAtAccept = { in: peer.stats.datagramsIn, out: peer.stats.datagramsOut };
    readBefore = bytesReadFromFiles();
    lentBefore = link.stats.bytesWrittenLent ?? 0;
    receiving = true;
    void link.accept(e.transfer);
  });
  link.on('file_done', (e) => {
    if (e.direction !== 'receive' || offerFiles === 1) return;
    receiving = false;
    send({
      type: 'folder_received',
      files: e.files,
      verified: e.verified,
      // From our accept to the last file verified, fsynced and in place.
      seconds: (performance.now() - acceptedAt) / 1000,
      cpu: cpuMicros() - cpuAtAccept,
      datagramsIn: peer.stats.datagramsIn - datagramsAtAccept.in,
      datagramsOut: peer.stats.datagramsOut - datagramsAtAccept.out,
      storage: timer.summary(),
      rss: rss.peak(),
      makeup: makeup.peak(),
    });
  });
  link.on('file_received', (e) => {
    if (offerFiles !== 1) return;
    receiving = false;
    const cpu = cpuMicros() - cpuAtAccept;
    const mainCpu = mainCpuAtAccept < 0 ? -1 : mainThreadCpuMicros() - mainCpuAtAccept;
    const readAfter = bytesReadFromFiles();
    send({
      // What this side read while receiving (its files; -1: not known here).
      bytesRead: readBefore >= 0 && readAfter >= 0 ? readAfter - readBefore : -1,
      type: 'received',
      path: e.path,
      size: e.size,
      hash: e.hash,
      // From our accept to the file verified, fsynced and in place.
      seconds: (performance.now() - acceptedAt) / 1000,
      // CPU (user + system) from the accept to the file in place: the process's, its main thread's.
      cpu,
      mainCpu,
      // Datagrams this side took in and sent (acknowledgments, credits) while receiving.
      datagramsIn: peer.stats.datagramsIn - datagramsAtAccept.in,
      datagramsOut: peer.stats.datagramsOut - datagramsAtAccept.out,
      delays: [...delays],
      // Bytes read from the stream straight into the partial file's write buffer (copied once).
      lent: (link.stats.bytesWrittenLent ?? 0) - lentBefore,
      rss: rss.peak(),
      makeup: makeup.peak(),
      stats: { ...link.stats },
    });
    delays.length = 0;
  });
  link.on('file_failed', (e) => send({ type: 'failed', message: e.message }));
  process.on('message', async (m) => {
    if (m.type === 'reset') {
      rss.reset();
      makeup.reset();
      send({ type: 'reset' });
    }
    if (m.type === 'disk-baseline') send({ type: 'disk-baseline', ...(await diskBaseline(m)) });
    if (m.type === 'quit') {
      rss.stop();
      makeup.stop();
      await link.close();
      await peer.close(200);
      process.exit(0);
    }
  });
  send({ type: 'ready', port: peer.address.port });
}

async function sender() {
  const peer = await listen();
  const link = new FileLink(peer, { engine: JSON.parse(process.env.BENCH_ENGINE ?? '{}') });
  const timer = storageTimer(link);
  const rss = rssSampler(50);
  const makeup = makeupSampler();
  let session;
  process.on('message', async (m) => {
    if (m.type === 'quit') {
      rss.stop();
      makeup.stop();
      await link.close();
      await peer.close(200);
      process.exit(0);
    }
    if (m.type !== 'send') return;
    rss.reset();
    makeup.reset();
    timer.reset();
    if (session === undefined) {
      const features = new Promise((resolve) => peer.once('features', (e) => resolve(e.session)));
      peer.connectTo({ host: '127.0.0.1', port: m.port });
      session = await features;
    }
    const before = { ...link.stats };
    let hashed = 0;
    const done = new Promise((resolve) => {
      const onDone = (e) => {
        if (e.direction !== 'send') return;
        link.off('file_done', onDone);
        resolve(e);
      };
      link.on('file_done', onDone);
    });
    const chat = setInterval(() => peer.send(session, `at ${wallClock()}`), 50);
    const started = performance.now();
    await link.offer(session, [m.path], (bytes) => {
      hashed = bytes;
    });
    const hashSeconds = (performance.now() - started) / 1000;
    const cpuAfterHash = cpuMicros();
    const mainCpuAfterHash = mainThreadCpuMicros();
    const end = await done;
    // CPU (user + system) from the offer made (the hashing pass done) to the verdict.
    const cpu = cpuMicros() - cpuAfterHash;
    const mainCpu = mainCpuAfterHash < 0 ? -1 : mainThreadCpuMicros() - mainCpuAfterHash;
    clearInterval(chat);
    const after = link.stats;
    send({
      type: 'sent',
      verified: end.verified,
      hashed,
      hashSeconds,
      seconds: (performance.now() - started) / 1000,
      bytesRead: after.bytesRead - before.bytesRead,
      sourcesOpened: after.sourcesOpened - before.sourcesOpened,
      // Chunks read into a buffer the stream had taken (the rest allocated one).
      readsIntoSpare: (after.readsIntoSpare ?? 0) - (before.readsIntoSpare ?? 0),
      storage: timer.summary(),
      rss: rss.peak(),
      makeup: makeup.peak(),
      cpu,
      mainCpu,
      path: peer.endpoint.pathInfo({ host: '127.0.0.1', port: m.port }),
    });
  });
  send({ type: 'ready' });
}

const roles = { 'file-sender': sender, 'file-receiver': receiver };
await roles[process.argv[2]](process.argv[3]);

/**
 * `pnpm bench files` (issue 20): file transfer, measured.
 *
 * 1. Loopback, two processes (files-loopback.ts): a file (1 GiB unless `--size=MiB`) through
 *    FileLink, read from the disk, written, fsynced, verified and placed, against the rate raw
 *    node:dgram moves 1200-byte datagrams one way without loss (transport-loopback.ts's
 *    baseline, the same run; goal ≥ 0.5); each side's peak RSS (goal ≤ 150 MB); a chat line's
 *    one-way delay during it (p95, goal < 50 ms); the bytes the sender read (goal: the file once
 *    to hash it and once to send it) and the receiver read (goal: none of the file). Beside it, in
 *    the same run, a bare stream of the same size between two netchat processes with the same
 *    datagram size (transport-loopback.ts's): what the file path adds over the transport, as the
 *    ratio of the rates and each side's CPU (user + system) per byte.
 * 2. A folder of many small files on loopback (files-folder.ts): 2,000 of 4 KiB and 500 of
 *    64 KiB, files a second and MB/s beside what the receiver's process does alone writing,
 *    fsyncing and placing the same files (one at a time and 8 at a time: the disk's own limit),
 *    with the receiver's disk requests timed by kind.
 * 3. Simulated paths (files-sim.ts): 100 Mbit/s at 50 ms and 10 Mbit/s at 200 ms, a file beside
 *    one bulk stream on the same path (goal: the file gets what the stream gets, ≥ 0.9 of it),
 *    chat lines during it (goal ≤ RTT + 25 ms).
 *
 *   node --import tsx bench/files.ts [--quick] [--size=MiB] [--only=loopback|folder|sim] [--dir=DIR]
 *
 * `--dir=DIR`: the loopback file's source and download folder go there (the system's temporary
 * folder by default): a tmpfs (`--dir=/dev/shm`) against a disk shows what the disk's writes,
 * page cache and fsyncs cost, apart from the file path's own work.
 *
 * BENCH_ENGINE='{"wantAhead":4,"filesAtOnce":1}' (JSON, FileTransferOptions) sets both children's
 * file engine: an A/B against other settings in the same build.
 *
 * The loopback children run the built package: `pnpm build` first (scripts/bench.mjs does).
 * Figures are printed as measured; nothing here fails on a missed goal.
 */
import { folderTransfers } from './files-folder.js';
import { fileTransferLoopback } from './files-loopback.js';
import { fileOnPath } from './files-sim.js';
import { netchatTransfer, rawBaseline } from './transport-loopback.js';
import { type PathCase, singleFlow } from './transport-sim.js';
import { report, round } from './util.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.find((a) => a.startsWith('--only='))?.slice(7);
const sizeArg = args.find((a) => a.startsWith('--size='))?.slice(7);
const dir = args.find((a) => a.startsWith('--dir='))?.slice(6);
const sizeMiB = sizeArg ? Number(sizeArg) : quick ? 256 : 1024;
if (!Number.isFinite(sizeMiB) || sizeMiB <= 0) throw new Error(`--size=${sizeArg}: a number of MiB`);
const scale = quick ? 0.5 : 1;

const PATHS: PathCase[] = [
  { name: '100 Mbit/s, 50 ms', bitsPerSecond: 100e6, rtt: 50, seconds: 10 * scale },
  { name: '10 Mbit/s, 200 ms', bitsPerSecond: 10e6, rtt: 200, seconds: 20 * scale },
];

const mark = (ok: boolean) => (ok ? 'ok  ' : 'MISS');
const mbit = (bps: number) => `${round(bps / 1e6, 1)} Mbit/s`;

/**
 * A bare stream of `bytes` between two netchat processes (transport-loopback.ts's, the same
 * datagram size as the file's), for the file's A/B.
 */
async function bareStream(bytes: number, rawBytesPerSecond: number) {
  const warmUp = Math.max(16 * 1024 ** 2, Math.floor(bytes / 16));
  const stream = await netchatTransfer(bytes, warmUp);
  const senderNsPerByte = (stream.senderCpuUs * stream.datagrams * 1000) / bytes;
  const receiverNsPerByte = (stream.receiverCpuUs * stream.datagrams * 1000) / bytes;
  // The receiver's counts are of its whole life: per MiB of the warm-up and the stream.
  const counts = (stream.detail as { receiver: { stats: { datagramsIn: number; datagramsOut: number } } })
    .receiver.stats;
  const mib = (bytes + warmUp) / 1024 ** 2;
  console.log(
    `  bare stream        ${round(stream.bytesPerSecond / 1e6, 1)} MB/s = ${round(stream.bytesPerSecond / rawBytesPerSecond, 2)} of raw (${process.env.NETCHAT_BENCH_SMALL === '1' ? '1200-byte' : 'large'} datagrams; CPU per byte: sender ${round(senderNsPerByte, 2)} ns, receiver ${round(receiverNsPerByte, 2)} ns; RSS sender ${round(stream.senderRssMB, 1)} MB, receiver ${round(stream.receiverRssMB, 1)} MB)`,
  );
  return {
    bytesPerSecond: stream.bytesPerSecond,
    senderNsPerByte,
    receiverNsPerByte,
    datagramsInPerMiB: counts.datagramsIn / mib,
    datagramsOutPerMiB: counts.datagramsOut / mib,
  };
}

async function loopback() {
  const bytes = Math.round(sizeMiB * 1024 ** 2);
  console.log(`Loopback, two processes: a ${sizeMiB} MiB file through FileLink, against raw node:dgram`);
  const raw = await rawBaseline();
  console.log(
    `  raw node:dgram     ${round(raw.bytesPerSecond / 1e6, 1)} MB/s (${raw.datagramsPerSecond} datagrams/s of 1200 bytes received without loss)`,
  );
  const stream = await bareStream(bytes, raw.bytesPerSecond);
  const file = await fileTransferLoopback(bytes, dir);
  const ratio = file.bytesPerSecond / raw.bytesPerSecond;
  const rss = Math.max(file.senderRssMB, file.receiverRssMB);
  const reads = (file.hashedBytes + file.sentBytesRead) / bytes;
  console.log(
    `  file               ${mark(ratio >= 0.5 && file.verified)} ${round(file.bytesPerSecond / 1e6, 1)} MB/s = ${round(ratio, 2)} of raw (goal ≥ 0.5; ${round(file.seconds, 1)} s from accept to verified, fsynced and in place; ${file.verified ? 'verified' : 'NOT verified'})`,
  );
  console.log(
    `  file over stream   ${round(file.bytesPerSecond / stream.bytesPerSecond, 2)} of the bare stream's rate; CPU per byte: sender ${round(file.senderCpuNsPerByte, 2)} ns (hashing pass apart), receiver ${round(file.receiverCpuNsPerByte, 2)} ns`,
  );
  if (file.senderMainCpuNsPerByte >= 0 && file.receiverMainCpuNsPerByte >= 0)
    console.log(
      `  of which           main thread: sender ${round(file.senderMainCpuNsPerByte, 2)} ns, receiver ${round(file.receiverMainCpuNsPerByte, 2)} ns; the rest is libuv's pool (the disk's reads, writes, fsyncs) and V8's threads (to 10 ms; ${dir ? `files in ${dir}` : 'files in the temporary folder'})`,
    );
  console.log(
    `  receiver datagrams per MiB in, out: bare stream ${round(stream.datagramsInPerMiB, 1)}, ${round(stream.datagramsOutPerMiB, 1)}; file ${round(file.receiverDatagramsIn / (bytes / 1024 ** 2), 1)}, ${round(file.receiverDatagramsOut / (bytes / 1024 ** 2), 1)}`,
  );
  console.log(
    `  end to end         ${round(file.endToEndSeconds, 1)} s from offer to verdict, of which ${round(file.hashSeconds, 1)} s hashing before the offer`,
  );
  console.log(
    `  RSS                ${mark(rss <= 150)} sender ${round(file.senderRssMB, 1)} MB, receiver ${round(file.receiverRssMB, 1)} MB (goal ≤ 150 MB each)`,
  );
  console.log(
    `  of which, at most  JS heap: sender ${round(file.senderHeapMB, 1)} MB, receiver ${round(file.receiverHeapMB, 1)} MB; ArrayBuffers (live or awaiting collection): sender ${round(file.senderArrayBuffersMB, 1)} MB, receiver ${round(file.receiverArrayBuffersMB, 1)} MB`,
  );
  console.log(
    `  chat line, one way ${mark(file.chatP95Ms < 50)} p95 ${round(file.chatP95Ms, 1)} ms, max ${round(file.chatMaxMs, 1)} ms of ${file.chatLines} lines (goal < 50 ms)`,
  );
  console.log(
    `  sender's reads     ${mark(reads <= 2)} ${round(reads, 2)} × the file (hashed ${file.hashedBytes}, read to send ${file.sentBytesRead}; goal: once each; ${file.readsIntoSpare} chunks read into a reused buffer)`,
  );
  console.log(
    `  receiver's copies  ${round(file.receiverBytesLent / bytes, 3)} of the file read from the stream straight into the partial file's write buffer (copied once; the rest copied twice)`,
  );
  if (file.receiverBytesRead >= 0)
    console.log(
      `  receiver's reads   ${mark(file.receiverBytesRead < bytes / 100)} ${file.receiverBytesRead} bytes while receiving (goal: none of the file; it hashes as it writes)`,
    );
  return {
    bytes,
    rawBytesPerSecond: raw.bytesPerSecond,
    streamBytesPerSecond: Math.round(stream.bytesPerSecond),
    streamSenderCpuNsPerByte: round(stream.senderNsPerByte, 2),
    streamReceiverCpuNsPerByte: round(stream.receiverNsPerByte, 2),
    bytesPerSecond: Math.round(file.bytesPerSecond),
    fileOverStream: round(file.bytesPerSecond / stream.bytesPerSecond, 3),
    senderCpuNsPerByte: round(file.senderCpuNsPerByte, 2),
    receiverCpuNsPerByte: round(file.receiverCpuNsPerByte, 2),
    senderMainCpuNsPerByte: round(file.senderMainCpuNsPerByte, 2),
    receiverMainCpuNsPerByte: round(file.receiverMainCpuNsPerByte, 2),
    ...(dir ? { dir } : {}),
    ratio: round(ratio, 3),
    verified: file.verified,
    seconds: round(file.seconds, 2),
    endToEndSeconds: round(file.endToEndSeconds, 2),
    hashSeconds: round(file.hashSeconds, 2),
    senderRssMB: round(file.senderRssMB, 1),
    receiverRssMB: round(file.receiverRssMB, 1),
    senderHeapMB: round(file.senderHeapMB, 1),
    senderArrayBuffersMB: round(file.senderArrayBuffersMB, 1),
    receiverHeapMB: round(file.receiverHeapMB, 1),
    receiverArrayBuffersMB: round(file.receiverArrayBuffersMB, 1),
    chatP95Ms: round(file.chatP95Ms, 1),
    chatLines: file.chatLines,
    readsPerByte: round(reads, 3),
    receiverBytesRead: file.receiverBytesRead,
    receiverBytesLent: file.receiverBytesLent,
  };
}

async function folder() {
  const cases = quick
    ? [
        { files: 1000, size: 4096 },
        { files: 250, size: 65536 },
      ]
    : [
        { files: 2000, size: 4096 },
        { files: 500, size: 65536 },
      ];
  console.log(
    `\nLoopback, two processes: a folder of small files through FileLink (100 to a subfolder), against the disk's own limit${dir ? ` (files in ${dir})` : ''}`,
  );
  const results = await folderTransfers(cases, dir);
  const timed = (storage: Record<string, unknown>, names: string[]) =>
    names
      .map((kind) => {
        const k = storage[kind] as { count: number; meanMs: number; most: number } | undefined;
        return k ? `${kind} ${k.count} × ${round(k.meanMs, 2)} ms (≤ ${k.most} at once)` : undefined;
      })
      .filter(Boolean)
      .join(', ');
  for (const r of results) {
    const kinds = timed(r.storage, ['open', 'write', 'finish']);
    console.log(`\n${r.files} files of ${r.size / 1024} KiB`);
    console.log(
      `  folder             ${round(r.filesPerSecond, 0)} files/s, ${round(r.bytesPerSecond / 1e6, 2)} MB/s (${round(r.seconds, 2)} s from accept to the last in place; ${r.verified} of ${r.files} verified; hashing before the offer ${round(r.hashSeconds, 2)} s)`,
    );
    console.log(
      `  the disk alone     ${round(r.diskSequential, 0)} files/s one at a time, ${round(r.diskParallel, 0)} files/s 8 at a time (write, fdatasync, link, folder fsync); the folder = ${round(r.filesPerSecond / r.diskParallel, 2)} of the latter`,
    );
    console.log(`  receiver's disk    ${kinds} (from asked to answered)`);
    console.log(`  sender's disk      ${timed(r.senderStorage, ['read'])}`);
    console.log(
      `  RSS                sender ${round(r.senderRssMB, 1)} MB, receiver ${round(r.receiverRssMB, 1)} MB`,
    );
  }
  return results.map((r) => ({
    files: r.files,
    size: r.size,
    filesPerSecond: round(r.filesPerSecond, 1),
    bytesPerSecond: Math.round(r.bytesPerSecond),
    diskSequentialFilesPerSecond: round(r.diskSequential, 1),
    diskParallelFilesPerSecond: round(r.diskParallel, 1),
    verified: r.verified,
    hashSeconds: round(r.hashSeconds, 2),
    senderRssMB: round(r.senderRssMB, 1),
    receiverRssMB: round(r.receiverRssMB, 1),
  }));
}

function simulated() {
  console.log(
    '\nA file on simulated paths (virtual time, real crypto; buffer 1 BDP), beside a bulk stream there',
  );
  const results = [];
  for (const path of PATHS) {
    const started = performance.now();
    const stream = singleFlow(path);
    const file = fileOnPath(path);
    const ratio = file.goodputBps / stream.goodputBps;
    const chatLimit = path.rtt + 25;
    console.log(`\n${path.name}`);
    console.log(`  bulk stream        ${mbit(stream.goodputBps)} from 2 s on`);
    console.log(
      `  file               ${mark(ratio >= 0.9 && file.verified)} ${mbit(file.goodputBps)} from 2 s on = ${round(ratio, 2)} of the stream (goal ≥ 0.9; ${round(file.bytes / 1e6, 1)} MB in ${round(file.seconds, 1)} s, ${file.verified ? 'verified' : 'NOT verified'})`,
    );
    console.log(
      `  chat line, one way ${mark(file.chatP95Ms <= chatLimit)} p95 ${round(file.chatP95Ms, 1)} ms, max ${round(file.chatMaxMs, 1)} ms of ${file.chatLines} lines from 2 s on (goal ≤ RTT + 25 = ${chatLimit} ms; the first 2 s: max ${round(file.startUpChatMaxMs, 1)} ms)`,
    );
    console.log(`  [${round((performance.now() - started) / 1000, 1)} s]`);
    results.push({
      path: path.name,
      rttMs: path.rtt,
      streamMbit: round(stream.goodputBps / 1e6, 2),
      fileMbit: round(file.goodputBps / 1e6, 2),
      ratio: round(ratio, 3),
      verified: file.verified,
      chatP95Ms: round(file.chatP95Ms, 1),
      chatLimitMs: chatLimit,
    });
  }
  return results;
}

const figures: Record<string, unknown> = {};
if (!only || only === 'loopback') figures.loopback = await loopback();
if (!only || only === 'folder') figures.folder = await folder();
if (!only || only === 'sim') figures.simulated = simulated();
report('files', figures);

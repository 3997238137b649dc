/**
 * `pnpm bench files` on loopback: a file from one process to another through FileLink, read from
 * the disk, written, fsynced, verified and moved into place, beside the raw node:dgram rate of
 * transport-loopback.ts (1200-byte datagrams one way between two processes without loss),
 * measured in the same run. The two processes (files-peer.mjs) run the built package (dist/).
 *
 * A warm-up transfer (a sixteenth of the size, at least 16 MiB) goes first, not counted. The rate
 * is the file's size over the time from the receiver's accept to the file verified, fsynced and
 * in place; the sender's hashing pass before the offer is reported apart (and in the end-to-end
 * time). The source is written just before, so it is read from the page cache: the disk's read
 * rate is not what is measured, its write rate and fsync are.
 */
import { fork } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nextMessage, quit } from './transport-loopback.js';

const MiB = 1024 ** 2;

function child(role: string, folder?: string): ReturnType<typeof fork> {
  const script = fileURLToPath(new URL('./files-peer.mjs', import.meta.url));
  return fork(script, folder ? [role, folder] : [role], {
    execArgv: [
      // BENCH_CPU_PROF=DIR profiles the children; BENCH_CPU_PROF_ROLE=file-receiver only that one
      // (a profiled process runs slower, and its peer then idles: profile one side at a time).
      ...(process.env.BENCH_CPU_PROF && (process.env.BENCH_CPU_PROF_ROLE ?? role) === role
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
        : []),
      // BENCH_NODE_ARGS: more flags for both children (`--trace-gc`, say), split at spaces.
      ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** A file of `bytes` random bytes (written 1 MiB at a time). */
function writeRandomFile(path: string, bytes: number): void {
  const block = randomFillSync(Buffer.allocUnsafe(MiB));
  const fd = openSync(path, 'w');
  try {
    for (let at = 0; at < bytes; at += MiB) {
      randomFillSync(block, 0, 64); // no two blocks alike
      writeSync(fd, block, 0, Math.min(MiB, bytes - at));
    }
  } finally {
    closeSync(fd);
  }
}

interface Makeup {
  heap: number;
  arrayBuffers: number;
}

export interface FileLoopbackResult {
  bytes: number;
  /** Receiver: accept to verified, fsynced and in place. */
  seconds: number;
  bytesPerSecond: number;
  /** Sender: from `offer` (hashing included) to the peer's verdict. */
  endToEndSeconds: number;
  hashSeconds: number;
  /** Bytes the sender read: hashing, and sending (each should be the file's size once). */
  hashedBytes: number;
  sentBytesRead: number;
  /** Chunks the sender read into a buffer it reused (of sentBytesRead / 256 KiB). */
  readsIntoSpare: number;
  /** Bytes the receiver read from files while receiving (/proc/self/io; -1 where unknown). */
  receiverBytesRead: number;
  /** Bytes the receiver read from the stream straight into its partial file's write buffer (copied once). */
  receiverBytesLent: number;
  senderRssMB: number;
  receiverRssMB: number;
  /** The highest JavaScript heap and bytes in ArrayBuffers (live or not yet collected), MB, per side. */
  senderHeapMB: number;
  senderArrayBuffersMB: number;
  receiverHeapMB: number;
  receiverArrayBuffersMB: number;
  /** CPU (user + system) per byte of the file, in nanoseconds: the sender's after hashing, the receiver's from accept. */
  senderCpuNsPerByte: number;
  receiverCpuNsPerByte: number;
  /** Of those, each side's main thread (the rest is libuv's pool: the disk; and V8's threads); -1 where unknown. */
  senderMainCpuNsPerByte: number;
  receiverMainCpuNsPerByte: number;
  /** Datagrams the receiver took in and sent while receiving. */
  receiverDatagramsIn: number;
  receiverDatagramsOut: number;
  chatLines: number;
  chatP95Ms: number;
  chatMaxMs: number;
  verified: boolean;
  path: unknown;
}

/** `within`: where the source and the download folder go (the system's temporary folder unless given). */
export async function fileTransferLoopback(bytes: number, within = tmpdir()): Promise<FileLoopbackResult> {
  const folder = mkdtempSync(join(within, 'netchat-bench-files-'));
  const downloads = join(folder, 'downloads');
  const receiver = child('file-receiver', downloads);
  const sender = child('file-sender');
  try {
    const [ready] = await Promise.all([nextMessage(receiver, 'ready'), nextMessage(sender, 'ready')]);
    const port = ready.port as number;
    const run = async (name: string, size: number) => {
      const source = join(folder, name);
      writeRandomFile(source, size);
      receiver.send({ type: 'reset' });
      await nextMessage(receiver, 'reset');
      const received = nextMessage(receiver, 'received');
      sender.send({ type: 'send', port, path: source });
      const [r, s] = await Promise.all([received, nextMessage(sender, 'sent')]);
      rmSync(source);
      rmSync(r.path as string);
      return { r, s };
    };
    await run('warm-up.bin', Math.max(16 * MiB, Math.floor(bytes / 16)));
    const { r, s } = await run('measured.bin', bytes);
    const delays = (r.delays as number[]).sort((a, b) => a - b);
    const seconds = r.seconds as number;
    return {
      bytes,
      seconds,
      bytesPerSecond: bytes / seconds,
      endToEndSeconds: s.seconds as number,
      hashSeconds: s.hashSeconds as number,
      hashedBytes: s.hashed as number,
      sentBytesRead: s.bytesRead as number,
      readsIntoSpare: s.readsIntoSpare as number,
      receiverBytesRead: r.bytesRead as number,
      receiverBytesLent: (r.lent as number | undefined) ?? 0,
      senderRssMB: (s.rss as number) / MiB,
      receiverRssMB: (r.rss as number) / MiB,
      senderHeapMB: (s.makeup as Makeup).heap / MiB,
      senderArrayBuffersMB: (s.makeup as Makeup).arrayBuffers / MiB,
      receiverHeapMB: (r.makeup as Makeup).heap / MiB,
      receiverArrayBuffersMB: (r.makeup as Makeup).arrayBuffers / MiB,
      senderCpuNsPerByte: ((s.cpu as number) * 1000) / bytes,
      receiverCpuNsPerByte: ((r.cpu as number) * 1000) / bytes,
      senderMainCpuNsPerByte: (s.mainCpu as number) < 0 ? -1 : ((s.mainCpu as number) * 1000) / bytes,
      receiverMainCpuNsPerByte: (r.mainCpu as number) < 0 ? -1 : ((r.mainCpu as number) * 1000) / bytes,
      receiverDatagramsIn: r.datagramsIn as number,
      receiverDatagramsOut: r.datagramsOut as number,
      chatLines: delays.length,
      chatP95Ms: delays[Math.floor(0.95 * (delays.length - 1))] ?? Number.NaN,
      chatMaxMs: delays.at(-1) ?? Number.NaN,
      verified: s.verified === 1 && r.size === bytes,
      path: s.path,
    };
  } finally {
    await quit(sender, receiver);
    rmSync(folder, { recursive: true, force: true });
  }
}

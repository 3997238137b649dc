/**
 * The receiver's file path alone, in one process (not part of `pnpm bench`): what receiving a file
 * costs beyond the transport, which the loopback bench can only see as the difference of two
 * noisy figures. The file engine (FileTransfers) and the disk (DiskStorage, PartialStore) of the
 * built package (dist/: `pnpm build` first) take a file's bytes from an in-memory stream that
 * hands them over as datagrams bring them (`--datagram=1400` bytes, `--batch=4` of them between
 * two turns of the event loop; `stream_readable` when a read had taken all there was, as
 * NetchatPeer says it), then verify, fsync and place it. It prints
 * CPU (user + system) per byte, the wall time, the writes the storage was asked for and the
 * bytes read straight into the partial's buffer, and how often the download folder's identity was
 * checked (node/folder-identity.ts) and what one check costs; with `--trace-gc` on node, the
 * collections.
 *
 *   node --import tsx bench/files-receive-path.ts [--size=MiB] [--datagram=bytes] [--batch=N] [--runs=N] [--buffer=KiB]
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sodium from 'sodium-native';
import {
  ContentHasher,
  DiskStorage,
  type FileRecord,
  FileTransfers,
  frameRecord,
  type NetchatEvent,
  PartialStore,
  type StreamPort,
} from '../dist/index.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) =>
  Number(args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
const MiB = 1024 * 1024;
const size = Math.round(arg('size', 256) * MiB);
const datagram = arg('datagram', 1400);
const runs = arg('runs', 3);
/** Datagrams that arrive together, between two turns of the event loop (a socket's batch). */
const batch = arg('batch', 4);
/** The partial file's write buffers (KiB; the store's default unless given). */
const bufferKiB = arg('buffer', 0);
/** What the stream holds unread at most (its window): the sender waits beyond. */
const WINDOW = 16 * MiB;
const SESSION = 1;
const CONTROL = 1;
const DATA = 3;
const PEER = { host: '127.0.0.1', port: 1 };
const SENDER_KEY = 'a1'.repeat(32);

/** The file's bytes: one random MiB, its first bytes changed per MiB (no two alike). */
const block = Buffer.allocUnsafe(MiB);
sodium.randombytes_buf(block);
function fileBytes(at: number, length: number, into: Uint8Array, offset: number): void {
  let done = 0;
  while (done < length) {
    const inBlock = (at + done) % MiB;
    const n = Math.min(length - done, MiB - inBlock);
    into.set(block.subarray(inBlock, inBlock + n), offset + done);
    if (inBlock === 0) into[offset + done] = ((at + done) / MiB) & 0xff;
    done += n;
  }
}
const hash = (() => {
  const hasher = ContentHasher.start();
  const piece = Buffer.allocUnsafe(MiB);
  for (let at = 0; at < size; at += MiB) {
    const n = Math.min(MiB, size - at);
    fileBytes(at, n, piece, 0);
    hasher.update(piece.subarray(0, n));
  }
  return hasher.digestHex();
})();

/** A peer's two streams in memory: its control stream's records, then the file's data stream. */
class MemoryStreams implements StreamPort {
  control: Uint8Array = new Uint8Array(0);
  /** The data stream: its `data` record, then the file's bytes as they arrive. */
  header: Uint8Array = new Uint8Array(0);
  arrived = 0;
  read = 0;
  readable = false;
  finished = false;
  openStream(): number {
    return 0;
  }
  writeStream(_s: number, _stream: number, bytes: Uint8Array): number {
    return bytes.length;
  }
  finishStream(): void {}
  readStream(_s: number, stream: number, max: number): Uint8Array {
    if (stream === CONTROL) {
      const out = this.control.subarray(0, max);
      this.control = this.control.subarray(out.length);
      return out;
    }
    const out = this.header.subarray(0, max);
    this.header = this.header.subarray(out.length);
    return out;
  }
  readStreamInto(_s: number, stream: number, into: Uint8Array, at: number, max: number): number {
    if (stream !== DATA) return 0;
    if (this.header.length > 0) throw new Error('the data record is read first');
    const n = Math.min(max, into.length - at, this.arrived - this.read);
    if (n > 0) fileBytes(this.read, n, into, at);
    this.read += n;
    if (this.read === this.arrived) this.readable = false;
    return n;
  }
  cancelStream(): void {
    throw new Error('a stream was cancelled');
  }
  streamInfo(): undefined {
    return undefined;
  }
  session() {
    return {
      state: 'open' as const,
      publicKey: SENDER_KEY,
      peerFeatures: {
        streams: true,
        files: true,
        maxStreams: 100,
        streamWindow: WINDOW,
        largeDatagrams: false,
      },
    };
  }
}

async function receiveOnce(folder: string) {
  const port = new MemoryStreams();
  const engine = new FileTransfers(port);
  const storage = new DiskStorage();
  let writes = 0;
  // The engine's clock is the real one (progress is due four times a second, as in a program).
  let now = performance.now();
  const offer = new Uint8Array(8).fill(7);
  const records: FileRecord[] = [
    { type: 'offer', offer, files: 1, totalSize: size },
    { type: 'offer_file', offer, index: 0, size, hash: Buffer.from(hash, 'hex'), path: 'bench.bin' },
  ];
  port.control = Buffer.concat(records.map((r) => frameRecord(r)));
  port.header = frameRecord({ type: 'data', offer, index: 0, offset: 0 });
  let received: string | undefined;
  let failed: string | undefined;
  let answered: () => void = () => {};
  const pump = () => {
    for (let r = engine.pollRequest(); r; r = engine.pollRequest()) {
      if (r.kind === 'write') writes++;
      storage.perform(r, (id, outcome) => {
        now = performance.now();
        engine.complete(id, outcome, now);
        pump();
        answered();
      });
    }
    for (let e = engine.pollEvent(); e; e = engine.pollEvent()) {
      if (e.type === 'file_received') received = join(folder, e.path);
      if (e.type === 'file_failed') failed = e.message;
    }
  };
  const event = (e: Record<string, unknown>) => {
    engine.handle({ session: SESSION, peer: PEER, ...e } as NetchatEvent, now);
    pump();
  };
  event({ type: 'stream_opened', stream: CONTROL });
  const transfer = engine.list()[0]?.id ?? -1;
  const store = new PartialStore(folder, bufferKiB > 0 ? { bufferBytes: bufferKiB * 1024 } : {});
  storage.setStore(transfer, store);
  const cpu = process.cpuUsage();
  const started = performance.now();
  engine.accept(transfer, now, [0]);
  pump();
  // The `open` is answered later (the disk): the data stream comes after it.
  while (engine.transfer(transfer)?.files[0]?.state !== 'wanted') await wait(() => {});
  event({ type: 'stream_opened', stream: DATA });
  let arrivals = 0;
  while (port.arrived < size && !failed) {
    // Datagrams arrive while the window has room; a read that took all there was waits for the next.
    const room = Math.min(size - port.arrived, WINDOW - (port.arrived - port.read));
    if (room <= 0) {
      await wait((resolve) => {
        answered = resolve;
      });
      continue;
    }
    const n = Math.min(datagram, room);
    port.arrived += n;
    now = performance.now();
    if (!port.readable) {
      port.readable = true;
      event({ type: 'stream_readable', stream: DATA });
    }
    // The disk's answers come between the socket's batches, as they would in a program.
    if (++arrivals % batch === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  while (port.read < size && !failed) await wait((resolve) => (answered = resolve));
  event({ type: 'stream_finished', stream: DATA, direction: 'receive' });
  while (received === undefined && !failed) await wait((resolve) => (answered = resolve));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  await storage.idle();
  if (failed) throw new Error(failed);
  return {
    seconds,
    cpuNsPerByte: ((used.user + used.system) * 1000) / size,
    userNsPerByte: (used.user * 1000) / size,
    writes,
    lent: storage.stats.bytesWrittenLent ?? 0,
    folderChecks: store.identity.checks,
    path: received ?? '',
    store,
  };
}

/** Until the storage answers (or the next turn of the loop, whichever first). */
function wait(arm: (resolve: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    arm(resolve);
    setImmediate(resolve);
  });
}

const round = (n: number, places = 2) => Math.round(n * 10 ** places) / 10 ** places;
console.log(
  `The receiver's file path alone: ${size / MiB} MiB in ${datagram}-byte datagrams, ${batch} a turn, engine and disk of dist/, ${runs} runs (one warm-up first)`,
);
const folder = mkdtempSync(join(tmpdir(), 'netchat-bench-receive-'));
try {
  const results = [];
  for (let run = 0; run <= runs; run++) {
    const result = await receiveOnce(folder);
    rmSync(result.path);
    if (run === 0) continue;
    results.push(result);
    console.log(
      `  run ${run}: CPU ${round(result.cpuNsPerByte)} ns a byte (user ${round(result.userNsPerByte)}), ${round(size / 1e6 / result.seconds, 1)} MB/s, ${result.writes} writes asked, ${round(result.lent / size, 3)} of the bytes read straight into the partial's buffer, ${result.folderChecks} checks of the download folder`,
    );
  }
  const cpu = results.map((r) => r.cpuNsPerByte).sort((a, b) => a - b);
  console.log(`  median CPU ${round(cpu[Math.floor(cpu.length / 2)] ?? Number.NaN)} ns a byte`);
  console.log(
    `@@bench ${JSON.stringify({ name: 'files-receive-path', size, datagram, cpuNsPerByte: cpu.map((c) => round(c)) })}`,
  );
  // A check of the folder timed alone, warmed up: the top only (a stat: before a partial is made
  // and at each state save), and with two folders below (a stat and two lstats: at the placing).
  const store = results[0]?.store;
  if (store) {
    mkdirSync(join(folder, 'a', 'b'), { recursive: true });
    const timeChecks = async (below: string[]) => {
      for (let i = 0; i < 500; i++) await store.identity.check(below);
      const checks = 4000;
      const cpuBefore = process.cpuUsage();
      const wallBefore = performance.now();
      for (let i = 0; i < checks; i++) await store.identity.check(below);
      const used = process.cpuUsage(cpuBefore);
      return {
        cpuUs: (used.user + used.system) / checks,
        wallUs: ((performance.now() - wallBefore) * 1000) / checks,
      };
    };
    const top = await timeChecks([]);
    const deep = await timeChecks(['a', 'b']);
    const checks = results[0]?.folderChecks ?? 0;
    // At most: every check of the file priced as the dearer kind.
    const share = (checks * deep.cpuUs * 1000) / (size * (cpu[0] ?? 1));
    console.log(
      `  a folder check: ${round(top.cpuUs, 1)} µs CPU (${round(top.wallUs, 1)} µs wall) the top alone, ${round(deep.cpuUs, 1)} µs (${round(deep.wallUs, 1)} µs) with two folders below; ${checks} a file of ${size / MiB} MiB (per file and per 16 MiB state save, never per write): at most ${round(share * 100, 3)} % of its CPU`,
    );
  }
} finally {
  rmSync(folder, { recursive: true, force: true });
}

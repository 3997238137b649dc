/**
 * Loopback, two processes (issue 19): one bulk stream of 1 GiB from one process to another,
 * beside the rate at which raw node:dgram moves 1200-byte datagrams one way between two
 * processes without loss, measured in the same run, both warmed up. Each process is a child of
 * this one (`role` below); they talk to this one over IPC and to each other over UDP on 127.0.0.1.
 *
 * The raw baseline is fair: a sender paced at a given rate, a receiver that counts; the rate
 * steps up (×1.2) until the receiver misses datagrams twice in a row at one rate (a step that lost
 * is run once more: one stall of the receiver's process is the scheduler's, not its capacity), and
 * the figure is the highest rate it took without loss (≤ 0.1 %), as received. Its sockets do what netchat's do and nothing more: an
 * unconnected socket sending to one address with the same numeric lookup (Node's default would
 * cost it a dns.lookup and a process.nextTick per datagram that netchat does not pay), no send
 * callback (netchat asks for none unless someone listens for send errors), the same 4 MiB
 * receive buffer, a 'message' listener per datagram.
 *
 * Each side's CPU time (user + system) per datagram is reported too: the throughput of two
 * processes on a shared machine depends on what else runs, the work per datagram much less.
 *
 * netchat runs with `largeDatagrams` (the default): after one probe, its stream data goes in
 * datagrams of 1452 bytes (1391 stream bytes), as loopback carries them; the raw baseline stays
 * the (1200-byte datagrams). NETCHAT_BENCH_SMALL=1 keeps netchat's within 1200 too (A/B).
 *
 * netchat: the receiver accepts, reads the stream as it arrives and answers nothing else; the
 * sender writes 1 GiB pull-driven (a 256 KiB buffer written again and again, more when the
 * stream says it has room) and sends a chat line every 100 ms; the receiver measures each line's
 * one-way delay on the shared wall clock (performance.timeOrigin + now: one machine). Both
 * sample their RSS every 100 ms. The children (transport-peer.mjs) run the built package
 * (dist/: `pnpm build` first; scripts/bench.mjs does it).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const GIB = 1024 ** 3;
const DATAGRAM = 1200;

type Message = Record<string, unknown> & { type: string };

/** The child's next message of `type`; rejects if the child reports a failure or exits first. */
export function nextMessage(child: ReturnType<typeof fork>, type: string): Promise<Message> {
  return new Promise((resolve, reject) => {
    const done = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (m: Message) => {
      if (m.type === 'failed') {
        done();
        reject(new Error(`${String(m.role)} failed before ${type}: ${String(m.error)}`));
        return;
      }
      if (m.type !== type) return;
      done();
      resolve(m);
    };
    const onExit = (code: number) => {
      done();
      reject(new Error(`child exited (${code}) before ${type}`));
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/**
 * Runs `work` with two children, and ends both when it is done (`quitAfter`) and on a failure (one child reported
 * it, crashed, or the work threw) both are killed, so none is left running.
 */
async function withChildren<T>(
  children: [ReturnType<typeof fork>, ReturnType<typeof fork>],
  quitAfter: boolean,
  work: () => Promise<T>,
): Promise<T> {
  try {
    const result = await work();
    if (quitAfter) await quit(...children);
    return result;
  } catch (error) {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    throw error;
  }
}

// ---- the orchestra --------------------------------------------------------------------------

/** A child process playing `role`: compiled JavaScript (dist/), so its RSS is netchat's, not the TypeScript loader's. */
function child(role: string): ReturnType<typeof fork> {
  const script = fileURLToPath(new URL('./transport-peer.mjs', import.meta.url));
  return fork(script, [role], {
    // BENCH_CPU_PROF=DIR profiles the children; BENCH_CPU_PROF_ROLE=netchat-receiver only that one
    // (a profiled process runs slower, and its peer then idles: profile one side at a time).
    execArgv:
      process.env.BENCH_CPU_PROF && (process.env.BENCH_CPU_PROF_ROLE ?? role) === role
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
        : [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

async function both(roles: [string, string]) {
  const [a, b] = roles.map(child) as [ReturnType<typeof fork>, ReturnType<typeof fork>];
  const [readyA, readyB] = await withChildren([a, b], false, () =>
    Promise.all([nextMessage(a, 'ready'), nextMessage(b, 'ready')]),
  );
  return { a, b, readyA, readyB };
}

export async function quit(...children: ReturnType<typeof fork>[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.send({ type: 'quit' });
          setTimeout(() => c.kill(), 5_000).unref();
        }),
    ),
  );
}

export interface RawResult {
  /** Datagrams per second the receiver took without loss, the highest rate tried. */
  datagramsPerSecond: number;
  bytesPerSecond: number;
  /** Every step: rate offered, share lost. */
  steps: { rate: number; received: number; lost: number }[];
  /** CPU (user + system) per datagram: the receiver's at the best lossless step, the sender's flat out. */
  receiverCpuUs: number;
  senderCpuUs: number;
}

/** Steps the raw rate up until the receiver loses more than 0.1 %; the best lossless rate received. */
export async function rawBaseline(seconds = 1): Promise<RawResult> {
  const { a: sender, b: receiver, readyB } = await both(['raw-sender', 'raw-receiver']);
  return withChildren([sender, receiver], true, async () => {
    const port = readyB.port as number;
    const steps: RawResult['steps'] = [];
    const step = async (rate: number) => {
      receiver.send({ type: 'count' });
      const before = (await nextMessage(receiver, 'count')) as unknown as { received: number; cpu: number };
      sender.send({ type: 'send', port, rate, seconds });
      const {
        sent,
        seconds: took,
        cpu,
      } = (await nextMessage(sender, 'sent')) as unknown as {
        sent: number;
        seconds: number;
        cpu: number;
      };
      await new Promise((r) => setTimeout(r, 100));
      receiver.send({ type: 'count' });
      const after = (await nextMessage(receiver, 'count')) as unknown as { received: number; cpu: number };
      const received = after.received - before.received;
      return {
        rate: sent / took,
        received: received / took,
        lost: Math.max(0, sent - received) / sent,
        receiverCpuUs: (after.cpu - before.cpu) / Math.max(1, received),
        senderCpuUs: cpu / Math.max(1, sent),
      };
    };
    // Warm-up, not counted.
    await step(20_000);
    await step(50_000);
    let best = 0;
    let receiverCpuUs = Number.NaN;
    for (let rate = 25_000; rate < 2_000_000; rate *= 1.2) {
      let s = await step(rate);
      // A step that lost is run once more before it counts: a stall of the receiver's process for
      // a few milliseconds (the machine's scheduler, not the receiver's capacity) overflows its
      // buffer once, and stopping there halved the baseline in some runs (107,000 against
      // 222,000 datagrams a second between two runs on the same quiet machine).
      if (s.lost > 0.001) {
        steps.push({
          rate: Math.round(s.rate),
          received: Math.round(s.received),
          lost: Math.round(s.lost * 1e4) / 1e4,
        });
        s = await step(rate);
      }
      steps.push({
        rate: Math.round(s.rate),
        received: Math.round(s.received),
        lost: Math.round(s.lost * 1e4) / 1e4,
      });
      if (s.lost <= 0.001 && s.received > best) {
        best = s.received;
        receiverCpuUs = s.receiverCpuUs;
      }
      // Two steps in a row with loss: the receiver is past what it can take.
      if (steps.length >= 2 && steps.slice(-2).every((x) => x.lost > 0.001)) break;
    }
    // The sender flat out (the receiver loses what it cannot take): its CPU per datagram.
    const flatOut = await step(10_000_000);
    return {
      datagramsPerSecond: Math.round(best),
      bytesPerSecond: Math.round(best * DATAGRAM),
      steps,
      receiverCpuUs,
      senderCpuUs: flatOut.senderCpuUs,
    };
  });
}

export interface NetchatResult {
  bytes: number;
  seconds: number;
  bytesPerSecond: number;
  chatLines: number;
  chatP95Ms: number;
  chatMaxMs: number;
  senderRssMB: number;
  receiverRssMB: number;
  /** How late the receiver's own 10 ms timer ran (p95, ms): the wait any event has there, chat lines included. */
  receiverLateP95Ms: number;
  /** CPU (user + system) per data datagram on each side. */
  senderCpuUs: number;
  receiverCpuUs: number;
  datagrams: number;
  warmUpBytesPerSecond: number;
  detail: unknown;
}

/** A warm-up transfer, then one of `bytes` (1 GiB), each over a fresh session between the same two processes. */
export async function netchatTransfer(bytes = GIB, warmUp = 64 * 1024 ** 2): Promise<NetchatResult> {
  const { a: sender, b: receiver, readyB } = await both(['netchat-sender', 'netchat-receiver']);
  return withChildren([sender, receiver], true, async () => {
    const port = readyB.port as number;
    const run = async (size: number) => {
      receiver.send({ type: 'expect', bytes: size });
      const received = nextMessage(receiver, 'received');
      sender.send({ type: 'transfer', port, bytes: size });
      const [r, s] = await Promise.all([received, nextMessage(sender, 'sent')]);
      return { r, s };
    };
    const warm = await run(warmUp);
    const { r, s } = await run(bytes);
    const delays = [...(r.delays as number[])].sort((x, y) => x - y);
    const seconds = r.seconds as number;
    const datagrams = (s.path as { dataPackets: number }).dataPackets;
    return {
      bytes,
      seconds,
      bytesPerSecond: bytes / seconds,
      chatLines: delays.length,
      chatP95Ms: delays[Math.floor(0.95 * (delays.length - 1))] ?? Number.NaN,
      chatMaxMs: delays.at(-1) ?? Number.NaN,
      senderRssMB: (s.rss as number) / 1024 ** 2,
      receiverRssMB: (r.rss as number) / 1024 ** 2,
      receiverLateP95Ms: r.lateP95 as number,
      senderCpuUs: (s.cpu as number) / datagrams,
      receiverCpuUs: (r.cpu as number) / datagrams,
      datagrams,
      warmUpBytesPerSecond: warmUp / (warm.r.seconds as number),
      detail: { sender: { path: s.path, stats: s.stats }, receiver: { path: r.path, stats: r.stats } },
    };
  });
}

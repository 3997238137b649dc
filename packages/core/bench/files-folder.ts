/**
 * `pnpm bench files` (issue 20), a folder of many small files on loopback: N files of one size
 * (2,000 of 4 KiB and 500 of 64 KiB), 100 to a subfolder, offered as one folder by one process
 * and received by another through FileLink (files-peer.mjs, the built package), each file
 * written, fsynced, verified and placed (its folder fsynced); files a second and MB/s from the
 * receiver's accept to the last file in place. Beside it, in the receiver's process in the same
 * run, the disk's own limit for the same files: each written to a hidden name, fdatasynced,
 * linked into place and its folder fsynced, one at a time and 8 at a time
 * (files-folder-peer.mjs). The receiver's disk requests are timed by kind (open, write, finish:
 * how long each took from asked to answered, and how many were in progress at once): where the
 * time goes. The sender's hashing pass before the offer is reported apart.
 *
 * A warm-up folder (a tenth of the files) goes first, not counted.
 */
import { fork } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nextMessage, quit } from './transport-loopback.js';

const PER_FOLDER = 100;

export interface FolderCase {
  readonly files: number;
  readonly size: number;
}

export interface FolderResult extends FolderCase {
  /** Receiver: accept to the last file verified, fsynced and in place. */
  seconds: number;
  filesPerSecond: number;
  bytesPerSecond: number;
  verified: number;
  /** Sender: the hashing pass before the offer. */
  hashSeconds: number;
  /** The disk's own limit in the receiver's process, one file at a time and 8 at a time. */
  diskSequential: number;
  diskParallel: number;
  storage: Record<string, unknown>;
  senderStorage: Record<string, unknown>;
  senderRssMB: number;
  receiverRssMB: number;
}

function child(role: string, folder?: string): ReturnType<typeof fork> {
  const script = fileURLToPath(new URL('./files-peer.mjs', import.meta.url));
  return fork(script, folder ? [role, folder] : [role], {
    execArgv: [
      ...(process.env.BENCH_CPU_PROF && (process.env.BENCH_CPU_PROF_ROLE ?? role) === role
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
        : []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** `files` files of `size` random bytes under `root/<name>/dN/`, 100 to a subfolder. */
function writeTree(root: string, name: string, { files, size }: FolderCase): string {
  const top = join(root, name);
  const data = randomFillSync(Buffer.allocUnsafe(size));
  for (let i = 0; i < files; i++) {
    const sub = join(top, `d${Math.floor(i / PER_FOLDER)}`);
    if (i % PER_FOLDER === 0) mkdirSync(sub, { recursive: true });
    randomFillSync(data, 0, Math.min(size, 64)); // no two files alike
    writeFileSync(join(sub, `f${i}.bin`), data);
  }
  return top;
}

/** Each case in turn between the same two processes; the files in `within` (the temporary folder by default). */
export async function folderTransfers(
  cases: readonly FolderCase[],
  within = tmpdir(),
): Promise<FolderResult[]> {
  const folder = mkdtempSync(join(within, 'netchat-bench-folder-'));
  const downloads = join(folder, 'downloads');
  const receiver = child('file-receiver', downloads);
  const sender = child('file-sender');
  try {
    const [ready] = await Promise.all([nextMessage(receiver, 'ready'), nextMessage(sender, 'ready')]);
    const port = ready.port as number;
    const run = async (name: string, c: FolderCase) => {
      const source = writeTree(folder, name, c);
      receiver.send({ type: 'reset' });
      await nextMessage(receiver, 'reset');
      const received = nextMessage(receiver, 'folder_received');
      sender.send({ type: 'send', port, path: source });
      const [r, s] = await Promise.all([received, nextMessage(sender, 'sent')]);
      rmSync(source, { recursive: true, force: true });
      rmSync(join(downloads, name), { recursive: true, force: true });
      return { r, s };
    };
    const baseline = async (parallel: number, c: FolderCase) => {
      receiver.send({
        type: 'disk-baseline',
        folder: join(downloads, `baseline-${parallel}`),
        files: c.files,
        size: c.size,
        perFolder: PER_FOLDER,
        parallel,
      });
      return (await nextMessage(receiver, 'disk-baseline')).filesPerSecond as number;
    };
    await run('warm-up', { files: Math.ceil((cases[0]?.files ?? 1000) / 10), size: cases[0]?.size ?? 4096 });
    const results: FolderResult[] = [];
    for (const [i, c] of cases.entries()) {
      const diskSequential = await baseline(1, c);
      const { r, s } = await run(`tree${i}`, c);
      const diskParallel = await baseline(8, c);
      const seconds = r.seconds as number;
      results.push({
        ...c,
        seconds,
        filesPerSecond: c.files / seconds,
        bytesPerSecond: (c.files * c.size) / seconds,
        verified: Math.min(r.verified as number, s.verified as number),
        hashSeconds: s.hashSeconds as number,
        diskSequential,
        diskParallel,
        storage: r.storage as Record<string, unknown>,
        senderStorage: s.storage as Record<string, unknown>,
        senderRssMB: (s.rss as number) / 1024 ** 2,
        receiverRssMB: (r.rss as number) / 1024 ** 2,
      });
    }
    return results;
  } finally {
    await quit(sender, receiver);
    rmSync(folder, { recursive: true, force: true });
  }
}

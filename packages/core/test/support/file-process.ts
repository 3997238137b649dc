/**
 * A netchat program that sends or receives files, for tests with real processes (killed with
 * SIGKILL, restarted, run inside network namespaces): a NetchatPeer on a fixed identity with a
 * FileLink, talking to the test by JSON lines on stdout and orders on stdin.
 *
 *   node --import tsx file-process.ts receive SECRET_HEX HOST FOLDER [SYNC_DELAY_MS]
 *   node --import tsx file-process.ts send SECRET_HEX HOST
 *
 * With NETCHAT_TEST_RENDEZVOUS=HOST:PORT it registers with that rendezvous (`registered` line)
 * and takes `find FINGERPRINT` (a chat with that peer, introduced by the rendezvous).
 *
 * Out: `ready` (port, fingerprint), `open` (session), and the FileLink's events (`file_offer`,
 * `file_accepted`, `file_progress`, `file_received`, `file_done`, `file_failed`, ...), the last
 * with `rchar` (bytes this process has read through system calls so far, /proc/self/io).
 * In: `connect HOST PORT`, `offer PATH...` (to the last session that opened), `quit`.
 * The receiver accepts every offer into FOLDER; its disk syncs every 256 KiB, each sync delayed
 * SYNC_DELAY_MS (a slow disk, so a test can stop it mid-file).
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import {
  FileLink,
  fingerprint,
  keyPairFromSecret,
  NetchatPeer,
  RendezvousLink,
  type SessionId,
} from '../../src/index.js';

const [role, secret, host, folder, syncDelay] = process.argv.slice(2);

const say = (message: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(message)}\n`);

/** Bytes read by this process's read-like system calls (Linux), or -1. */
function rchar(): number {
  try {
    return Number(/rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? -1);
  } catch {
    return -1;
  }
}

const peer = await NetchatPeer.listen({
  port: 0,
  host,
  streams: true,
  files: true,
  identity: keyPairFromSecret(Buffer.from(secret ?? '', 'hex')),
  heartbeatInterval: 500,
});
const delay = Number(syncDelay ?? 0);
const link = new FileLink(peer, {
  downloadFolder: role === 'receive' ? folder : undefined,
  partialStore: {
    syncEveryBytes: 256 * 1024,
    bufferBytes: 64 * 1024,
    io: {
      async sync(handle) {
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        await handle.datasync();
      },
    },
  },
});
let session: SessionId | undefined;
const rendezvous = process.env.NETCHAT_TEST_RENDEZVOUS?.split(':');
const finder = rendezvous
  ? new RendezvousLink(peer, {
      server: { host: rendezvous[0] ?? '', port: Number(rendezvous[1]) },
      acceptFrom: 'anyone',
      listedKeys: [],
    })
  : undefined;
finder?.on('update', (u) => {
  if (u.type === 'registered') say({ type: 'registered' });
});

peer.on('request', (e) => peer.accept(e.session));
peer.on('features', (e) => {
  session = e.session;
  say({ type: 'open', session: e.session, files: e.features.files });
});
link.on('event', (e) => {
  if (e.type === 'file_offer' && role === 'receive' && !e.resuming) void link.accept(e.transfer);
  say({ ...e, rchar: rchar() });
});
link.on('warning', (text) => say({ type: 'warning', text }));

createInterface({ input: process.stdin }).on('line', (line) => {
  const [command, ...args] = line.trim().split(' ');
  if (command === 'connect') peer.connectTo({ host: args[0] ?? '', port: Number(args[1]) });
  if (command === 'find')
    finder
      ?.find(args[0] ?? '')
      .then((address) => peer.connectTo(address))
      .catch((error: Error) => say({ type: 'error', message: error.message }));
  if (command === 'offer' && session !== undefined)
    link.offer(session, args).catch((error: Error) => say({ type: 'error', message: error.message }));
  if (command === 'quit')
    void link
      .close()
      .then(() => peer.close(200))
      .then(() => process.exit(0));
});

say({ type: 'ready', port: peer.address.port, fingerprint: fingerprint(peer.publicKey) });

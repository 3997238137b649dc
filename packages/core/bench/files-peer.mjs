/**
 * One process of `pnpm bench files` on loopback (files-loopback.ts forks it with a role): a
 * netchat peer with a FileLink, over the built package (dist/), that sends a file from the disk or
 * receives one into a download folder. Plain JavaScript, so the RSS is the process's own and
 * netchat's. It takes orders and reports over IPC; the raw baseline's processes are
 * transport-peer.mjs's.
 */
import { readFileSync } from 'node:fs';
import { FileLink, NetchatPeer } from '../dist/index.js';
import { rssSampler, wallClock } from './peer-process.mjs';

const send = (message) => process.send?.(message);

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

async function listen() {
  return NetchatPeer.listen({ port: 0, host: '127.0.0.1', streams: true, files: true });
}

async function receiver(folder) {
  const peer = await listen();
  const link = new FileLink(peer, { downloadFolder: folder });
  const rss = rssSampler(50);
  const delays = [];
  let acceptedAt = 0;
  let readBefore = 0;
  let receiving = false;
  peer.on('request', (e) => peer.accept(e.session));
  // The lines that cross while a file does (not those of the sender's hashing pass).
  peer.on('message', (e) => {
    if (receiving) delays.push(wallClock() - Number(e.text.split(' ')[1]));
  });
  link.on('file_offer', (e) => {
    acceptedAt = performance.now();
    readBefore = bytesReadFromFiles();
    receiving = true;
    void link.accept(e.transfer);
  });
  link.on('file_received', (e) => {
    receiving = false;
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
      delays: [...delays],
      rss: rss.peak(),
      stats: { ...link.stats },
    });
    delays.length = 0;
  });
  link.on('file_failed', (e) => send({ type: 'failed', message: e.message }));
  process.on('message', async (m) => {
    if (m.type === 'reset') {
      rss.reset();
      send({ type: 'reset' });
    }
    if (m.type === 'quit') {
      rss.stop();
      await link.close();
      await peer.close(200);
      process.exit(0);
    }
  });
  send({ type: 'ready', port: peer.address.port });
}

async function sender() {
  const peer = await listen();
  const link = new FileLink(peer, {});
  const rss = rssSampler(50);
  let session;
  process.on('message', async (m) => {
    if (m.type === 'quit') {
      rss.stop();
      await link.close();
      await peer.close(200);
      process.exit(0);
    }
    if (m.type !== 'send') return;
    rss.reset();
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
    const end = await done;
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
      rss: rss.peak(),
      path: peer.endpoint.pathInfo({ host: '127.0.0.1', port: m.port }),
    });
  });
  send({ type: 'ready' });
}

const roles = { 'file-sender': sender, 'file-receiver': receiver };
await roles[process.argv[2]](process.argv[3]);

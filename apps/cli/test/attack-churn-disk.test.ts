/**
 * The attacker's test for what strangers make netchat keep on disk: `netchat --yes` (it accepts
 * every request, as a script left running does) meets many strangers, each with a fresh key from
 * an address of its own: connect, say a line, leave. Measured: the netchat home's size (known
 * peers, history) and the bytes netchat wrote (from /proc, less what it printed) for each stranger.
 * The history folder is bounded (packages/client/test/attack-history-churn.test.ts); the known
 * peers are not: each stranger let in is trusted on first use, and the whole file is rewritten.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NetchatPeer } from '@netchat/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { NetchatProcess } from './support/netchat-process.js';

const STRANGERS = Number(process.env.CHURN_STRANGERS ?? 200);

/** Bytes in every file under `folder`. */
function sizeOf(folder: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    bytes += statSync(join(entry.parentPath, entry.name)).size;
    files++;
  }
  return { bytes, files };
}

/** Bytes process `pid` has written by write(2) and its kind (to files, pipes, sockets), from /proc. */
function writtenBytes(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/io`, 'utf8').match(/^wchar: (\d+)/m)?.[1] ?? 0);
}

/** One stranger: a fresh key, its own address; it asks, says a line once let in, and leaves. */
async function visit(port: number, index: number): Promise<void> {
  const host = `127.0.${1 + Math.floor(index / 250)}.${1 + (index % 250)}`;
  const stranger = await NetchatPeer.listen({ port: 0, host, nick: `stranger${index}` });
  try {
    const delivered = new Promise<void>((resolve, reject) => {
      stranger.once('accepted', (e) => {
        const id = stranger.send(e.session, `hello from stranger ${index}`);
        stranger.on('delivered', (d) => d.messageId === id && resolve());
      });
      stranger.once('declined', () => reject(new Error(`stranger ${index} declined`)));
      stranger.once('no_answer', () => reject(new Error(`stranger ${index} not answered`)));
    });
    await stranger.connect('127.0.0.1', port);
    await delivered;
  } finally {
    await stranger.close(200);
  }
}

interface Churn {
  strangers: number;
  seconds: number;
  homeBefore: number;
  home: { bytes: number; files: number };
  /** Bytes written to disk (less what it printed) by the time each 100 strangers had left. */
  writtenAt: number[];
  knownPeers: number;
}

/** Runs netchat --yes, lets `count` strangers come and go, and measures its home and its writes. */
async function churn(count: number): Promise<Churn> {
  const netchat = new NetchatProcess(['0', '--nick', 'victim', '--yes', '--host', '127.0.0.1']);
  try {
    const port = await netchat.port();
    await netchat.waitFor('Start chat with?');
    const pid = netchat.child.pid ?? 0;
    const homeBefore = sizeOf(netchat.home).bytes;
    const written = () => writtenBytes(pid) - Buffer.byteLength(netchat.stdout);
    const writtenBefore = written();
    const writtenAt: number[] = [];
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      await netchat.whileRunning(visit(port, i));
      if ((i + 1) % 100 === 0) writtenAt.push(written() - writtenBefore);
    }
    const seconds = (performance.now() - started) / 1000;
    const known = JSON.parse(readFileSync(join(netchat.home, 'known_peers.json'), 'utf8'));
    const entries = Array.isArray(known) ? known : (known.peers ?? Object.values(known));
    return {
      strangers: count,
      seconds,
      homeBefore,
      home: sizeOf(netchat.home),
      writtenAt,
      knownPeers: entries.length,
    };
  } finally {
    await netchat.kill();
  }
}

describe('netchat --yes and a churn of strangers', () => {
  let measured: Churn;
  beforeAll(async () => {
    measured = await churn(STRANGERS);
    const { seconds, homeBefore, home, writtenAt } = measured;
    console.log(
      `churn: ${STRANGERS} strangers in ${seconds.toFixed(1)} s; home ${homeBefore} -> ${home.bytes} B ` +
        `(${((home.bytes - homeBefore) / STRANGERS).toFixed(0)} B a stranger, ${home.files} files); ` +
        `written to disk after each 100: ${writtenAt.join(', ')} B (${((writtenAt.at(-1) ?? 0) / STRANGERS).toFixed(0)} B a stranger)`,
    );
  }, 300_000);

  it(`${STRANGERS} strangers, each a fresh key that says a line and leaves: the home grows by under 1 KiB a stranger`, () => {
    // Each is trusted on first use (--yes accepted it) and its line logged: a known peer and a
    // history file each (the history folder's own bound, 64 MiB, is far away here).
    expect(measured.knownPeers).toBe(STRANGERS);
    expect(measured.home.files).toBeGreaterThanOrEqual(STRANGERS);
    expect((measured.home.bytes - measured.homeBefore) / STRANGERS).toBeLessThan(1024);
  });

  // Known weakness (core's known_peers.json, reported): each stranger trusted rewrites the whole
  // file, so the bytes written for each grow with the strangers before it (quadratic: about 1.8 MB
  // for the first 100, 5.3 MB for the next 100, 8.8 MB for the third measured). Fails until
  // writing a peer costs about the same whatever the list holds.
  it.fails('each stranger costs about the same bytes written, however many came before', () => {
    const [first = 0, second = 0] = measured.writtenAt;
    expect(second - first).toBeLessThan(first * 1.5);
  });
});

/**
 * The attacker's test for what strangers make netchat keep on disk: `netchat --yes` (it accepts
 * every request, as a script left running does) meets many strangers, each with a fresh key from
 * an address of its own: connect, say a line, leave. Measured: the netchat home's size (known
 * peers, history) and the bytes netchat wrote (from /proc, less what it printed) for each stranger.
 * The history folder is bounded (packages/client/test/attack-history-churn.test.ts); the known
 * peers too (packages/core/test/known-peers-bounds.test.ts), and written at most once a second.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NetchatPeer, SIGHTING_SAVES } from '@netchat/core';
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
  /** Bytes written to disk (less what it printed) by the time each 100 strangers had left, and at the end. */
  writtenAt: number[];
  knownPeers: number;
  knownPeersBytes: number;
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
    // Sightings past their budget are saved a second apart (SIGHTING_SAVES): the last ones within that.
    const knownPeersFile = join(netchat.home, 'known_peers.json');
    const knownCount = () =>
      (JSON.parse(readFileSync(knownPeersFile, 'utf8')) as { peers: unknown[] }).peers.length;
    const waitUntil = performance.now() + 10_000;
    while (knownCount() < count && performance.now() < waitUntil) await new Promise((r) => setTimeout(r, 50));
    const knownPeersBytes = statSync(knownPeersFile).size;
    return {
      strangers: count,
      seconds,
      homeBefore,
      home: sizeOf(netchat.home),
      writtenAt: [...writtenAt, written() - writtenBefore],
      knownPeers: knownCount(),
      knownPeersBytes,
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

  // Each stranger trusted used to rewrite the whole known_peers.json, so the bytes written for each
  // grew with the strangers before it (1.8 MB for the first 100, 5.3 MB for the next, 8.8 MB for
  // the third). Sightings are now saved within a budget, 16 in a row then one a second (and the
  // list keeps at most 1,000 keys nobody verified or renamed): the file is written (16 + seconds
  // + 1) times at most, whatever the strangers, beside each stranger's own history line.
  it('known_peers.json is written a bounded number of times a second, however many strangers come', () => {
    const { seconds, knownPeersBytes, writtenAt } = measured;
    const total = writtenAt.at(-1) ?? 0;
    const bound = STRANGERS * 1024 + (SIGHTING_SAVES.burst + Math.ceil(seconds) + 2) * knownPeersBytes;
    console.log(
      `written ${total} B in all; bound ${bound} B (${knownPeersBytes} B of known peers, ${seconds.toFixed(1)} s)`,
    );
    expect(total).toBeLessThan(bound);
  });
});

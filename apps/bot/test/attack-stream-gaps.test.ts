/**
 * The attacker's test for what the drop box holds of streams it cannot read: strangers (the
 * independent peer of packages/core/test/interop, written from PROTOCOL.md alone) open every
 * stream the bot allows and send each one's bytes up to its credit but the first byte, so nothing
 * is ever readable and every piece is held. With core's defaults (32 streams of 256 KiB) ten such
 * strangers grew the bot by 119 MB, 12 MB each (12 GB at --max-sessions 1000); a drop box now
 * allows 4 streams of 64 KiB at first (main.ts, DROP_BOX_STREAMS). Measured: the bot's RSS per
 * stranger, the bytes the strangers sent, and an honest peer's file arriving afterwards.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IndependentPeer } from '../../../packages/core/test/interop/index.mjs';
import { BotProcess } from './support/bot-process.js';
import { FileSender } from './support/file-sender.js';
import { rssKiB } from './support/victim-measures.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const STRANGERS = 10;
const PIECE = 1100;

/** Sends, on every stream the bot allows, its bytes from offset 1 up to its credit; the bytes sent. */
async function sendAllButTheFirstByte(stranger: IndependentPeer, handle: number): Promise<number> {
  const session = stranger.session(handle);
  if (!session) throw new Error('no session');
  const path = session.streams.path;
  const window = session.streams.peer.streamWindow as number;
  const limit = session.streams.peer.maxStreams as number;
  let sent = 0;
  for (let s = 0; s < limit; s++) {
    for (let offset = 1; offset + PIECE <= window; offset += PIECE) {
      // Numbered in its place in the path's packet space, as a sender would.
      const packet = path.nextPacket++;
      stranger.sendMessage(session.channel, {
        type: 'stream_data',
        session: session.wireId,
        packet,
        stream: 2 * s, // the asker's streams are even
        offset,
        fin: 0,
        payload: randomBytes(PIECE),
      });
      sent += PIECE;
    }
    // A breath between streams: the loopback socket's buffer is not the thing under test.
    await new Promise((r) => setTimeout(r, 5));
  }
  return sent;
}

describe('strangers whose streams never have their first byte', () => {
  it(`${STRANGERS} strangers fill every stream but its first byte: at most 4 MB of the bot's RSS each; an honest file still arrives`, async () => {
    const root = mkdtempSync(join(tmpdir(), 'netchat-attack-gaps-'));
    cleanup.push(() => rmSync(root, { recursive: true, force: true }));
    const dir = join(root, 'drop');
    const b = new BotProcess(['0', '--host', '127.0.0.1', '--accept-files', dir]);
    cleanup.push(() => b.kill());
    const port = await b.port();
    const pid = b.child.pid ?? 0;
    const before = rssKiB(pid);
    let sent = 0;
    for (let k = 0; k < STRANGERS; k++) {
      const stranger = await IndependentPeer.listen({ host: '127.0.0.1', streams: true, files: true });
      cleanup.push(() => stranger.stop());
      const features = new Promise<void>((resolve) => stranger.once('features', () => resolve()));
      const handle = stranger.connect('127.0.0.1', port);
      await features;
      sent += await sendAllButTheFirstByte(stranger, handle);
    }

    // An honest peer's file arrives (the bot reads what it can read).
    const honest = await FileSender.connect(port, cleanup, '127.0.0.2');
    const src = join(root, 'honest.bin');
    const data = randomBytes(1_000_000);
    writeFileSync(src, data);
    const started = performance.now();
    const end = await honest.end(await honest.offer([src]), 30_000);
    const seconds = (performance.now() - started) / 1000;
    const after = rssKiB(pid);
    const each = (after - before) / STRANGERS;
    console.log(
      `stream gaps: ${STRANGERS} strangers sent ${sent} B; bot RSS ${before} KiB before, ${after} KiB after ` +
        `(+${each.toFixed(0)} KiB a stranger); an honest 1 MB file in ${seconds.toFixed(2)} s`,
    );
    expect(end).toMatchObject({ type: 'file_done', verified: 1 });
    expect(readFileSync(join(dir, 'honest.bin')).equals(data)).toBe(true);
    expect(each).toBeLessThan(4 * 1024);
    expect(b.child.exitCode).toBe(null);
  }, 120_000);
});

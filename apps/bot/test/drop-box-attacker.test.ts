/**
 * The attacker's test for the drop box: a raw peer on loopback that holds a valid key and speaks
 * the files protocol byte by byte (records written from PROTOCOL.md, Files, by hand here), and
 * offers the worst it can: a header claiming 4 billion files and 9 PB, a file of 9 PB, names
 * that climb out (`../../x`, `/etc/x`), and offers by the hundred it never sends data for. The
 * bot's memory, what it wrote, and what it said are measured; nothing may land outside DIR, and
 * an honest peer's file still arrives afterwards.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileLink, type LinkEvent, NetchatPeer } from '@netchat/core';
import { afterEach, describe, expect, it } from 'vitest';
import { BotProcess } from './support/bot-process.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

// ---- records, from PROTOCOL.md (Files: records and framing) -------------------------------------

function record(code: number, fields: Uint8Array): Uint8Array {
  const body = Buffer.concat([Buffer.from([0x4e, 0x43, 0x20, code]), fields]);
  const framed = Buffer.alloc(2 + body.length);
  framed.writeUInt16BE(body.length, 0);
  body.copy(framed, 2);
  return framed;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

const offerRecord = (id: Buffer, files: number, totalSize: number) =>
  record(1, Buffer.concat([id, u32(files), u64(totalSize)]));

function offerFileRecord(id: Buffer, index: number, size: number, path: string): Uint8Array {
  const name = Buffer.from(path, 'utf8');
  const length = Buffer.alloc(2);
  length.writeUInt16BE(name.length);
  return record(2, Buffer.concat([id, u32(index), u64(size), randomBytes(32), length, name]));
}

/** A peer with streams and the files bit, but no file engine: it writes what the test says. */
class RawPeer {
  bytesSent = 0;
  private constructor(readonly peer: NetchatPeer) {}

  static async start(): Promise<RawPeer> {
    const peer = await NetchatPeer.listen({
      port: 0,
      host: '127.0.0.1',
      streams: true,
      files: true,
      nick: 'mallory',
    });
    cleanup.push(() => peer.close(100));
    return new RawPeer(peer);
  }

  async connect(port: number): Promise<number> {
    const features = new Promise<number>((resolve) => this.peer.on('features', (e) => resolve(e.session)));
    await this.peer.connect('127.0.0.1', port);
    return features;
  }

  /** Opens a stream and writes `bytes` on it, waiting for room as the stream gives it (at most 20 s). */
  async write(session: number, bytes: Uint8Array): Promise<void> {
    const stream = this.peer.openStream(session);
    let offset = 0;
    const deadline = Date.now() + 20_000;
    while (offset < bytes.length && Date.now() < deadline) {
      const taken = this.peer.writeStream(session, stream, bytes.subarray(offset));
      offset += taken;
      this.bytesSent += taken;
      if (offset < bytes.length) await new Promise((r) => setTimeout(r, 10));
    }
  }
}

function rssKiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return Number(line?.[1] ?? 0);
}

/** Every entry under `dir`, hidden ones too, with the bytes they hold. */
function allBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const s = statSync(join(dir, name));
    total += s.isDirectory() ? allBytes(join(dir, name)) : s.size;
  }
  return total;
}

describe('the drop box under attack', () => {
  it('huge counts and sizes, climbing names, offers by the hundred: bounded memory, nothing outside DIR', async () => {
    const root = mkdtempSync(join(tmpdir(), 'netchat-drop-attack-'));
    cleanup.push(() => rmSync(root, { recursive: true, force: true }));
    const dir = join(root, 'a', 'drop');
    mkdirSync(dir, { recursive: true });
    const b = new BotProcess(['0', '--host', '127.0.0.1', '--accept-files', dir, '--files-quota', '10M']);
    cleanup.push(() => b.kill());
    const port = await b.port();
    const pid = b.child.pid ?? 0;
    // One control stream per side of a session: the header that breaks the protocol gets a session
    // (and a key) of its own, the well-formed offers another.
    const mallory = await RawPeer.start();
    const session = await mallory.connect(port);
    const mallory2 = await RawPeer.start();
    const session2 = await mallory2.connect(port);
    const before = rssKiB(pid);

    // 1. A header that claims 4 billion files and 9 PB, with three files after it.
    const huge = randomBytes(8);
    const records = [offerRecord(huge, 0xffffffff, Number.MAX_SAFE_INTEGER)];
    for (let i = 0; i < 3; i++) records.push(offerFileRecord(huge, i, 1, `f${i}`));
    await mallory.write(session, Buffer.concat(records));
    // 2. One file of 9 PB; 3. names that climb out; 4. 300 small offers it never sends data for.
    const stream: Uint8Array[] = [];
    const big = randomBytes(8);
    stream.push(
      offerRecord(big, 1, Number.MAX_SAFE_INTEGER),
      offerFileRecord(big, 0, Number.MAX_SAFE_INTEGER, 'big'),
    );
    const climbing = randomBytes(8);
    const names = ['../../x', '/etc/x', 'a/../../b'];
    stream.push(offerRecord(climbing, names.length, names.length));
    for (const [i, name] of names.entries()) stream.push(offerFileRecord(climbing, i, 1, name));
    for (let n = 0; n < 300; n++) {
      const id = randomBytes(8);
      stream.push(offerRecord(id, 1, 1000), offerFileRecord(id, 0, 1000, `many-${n}`));
    }
    await mallory2.write(session2, Buffer.concat(stream));
    const sent = mallory.bytesSent + mallory2.bytesSent;

    // The bot still serves an honest peer afterwards: its file arrives whole. From another host:
    // the attacker's own host has its transfers at once (4) held by the offers it never sent.
    const honest = await NetchatPeer.listen({ port: 0, host: '127.0.0.2', streams: true, files: true });
    const link = new FileLink(honest);
    cleanup.push(async () => {
      await link.close();
      await honest.close(100);
    });
    const events: LinkEvent[] = [];
    link.on('event', (e) => events.push(e));
    const honestSession = new Promise<number>((resolve) => honest.on('features', (e) => resolve(e.session)));
    await honest.connect('127.0.0.1', port);
    const src = join(root, 'honest.bin');
    const data = randomBytes(300_000);
    writeFileSync(src, data);
    const transfer = await link.offer(await honestSession, [src]);
    await b.waitForLogs((l) => l.event === 'file_done' && l.peer !== undefined, 1, 30_000);
    const end = events.find((e) => e.transfer === transfer && e.type === 'file_done');
    expect(end).toMatchObject({ verified: 1 });
    const after = rssKiB(pid);
    console.log(
      `drop box attack: ${sent} bytes sent by the attacker; bot RSS ${before} KiB before, ${after} KiB after; ` +
        `DIR holds ${allBytes(dir)} bytes`,
    );

    // Nothing outside DIR: its parents hold only what the test made.
    expect(readdirSync(join(dir, '..'))).toEqual(['drop']);
    expect(readdirSync(join(dir, '..', '..')).sort()).toEqual(['a', 'honest.bin']);
    // DIR: the honest file, and no more than the small offers' partial files could hold (none got data).
    expect(readdirSync(dir).filter((n) => !n.startsWith('.'))).toEqual(['honest.bin']);
    expect(allBytes(dir) - data.length).toBeLessThan(64 * 1024);
    expect(readFileSync(join(dir, 'honest.bin')).equals(data)).toBe(true);
    // Memory: the attack's claims (4 billion files, 9 PB, 300 offers) cost the bot at most 30 MB.
    expect(after - before).toBeLessThan(30 * 1024);
    // What the bot said: the 9 PB file refused as too large; the climbing names never accepted.
    const refused = b.logs().filter((l) => l.event === 'file_refused');
    expect(refused.map((l) => l.reason)).toContain('too_large');
    const declined = b.logs().filter((l) => l.event === 'file_declined');
    const count = (reason: string) => declined.filter((l) => l.reason === reason).length;
    console.log(
      `declined: ${count('bad_offer')} bad_offer, ${count('too_many_offers')} too_many_offers, ${count('too_large')} too_large; ` +
        `${b.logs().filter((l) => l.event === 'file_accepted').length} accepted`,
    );
    // The climbing names: declined whole as a bad offer.
    expect(count('bad_offer')).toBeGreaterThanOrEqual(1);
    const accepted = b.logs().filter((l) => l.event === 'file_accepted');
    const offers = b.logs().filter((l) => l.event === 'file_offer');
    for (const o of offers)
      for (const name of (o.names as string[]) ?? []) expect(name.includes('..')).toBe(false);
    expect(accepted.length).toBeLessThanOrEqual(offers.length);
  }, 90_000);
});

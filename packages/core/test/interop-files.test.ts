/**
 * Interop, files: netchat (NetchatPeer with its FileLink, on loopback) against the independent
 * peer, whose files layer (test/interop/files.mjs: records, control and data streams, offers,
 * wants, BLAKE2b-256 and verdicts) is written from PROTOCOL.md alone. The records' vectors of
 * PROTOCOL.md are checked with its codec. A file each way, compared byte for byte. Waits are for
 * conditions, bounded; peers, links and temporary folders are removed at the end.
 */
import crypto from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileLink, type FileLinkOptions, type NetchatPeer } from '../src/index.js';
import { FilesBed, filesPair } from './interop/file-helpers.js';
import { blake2b, decodeRecord, encodeRecord, type IndependentPeer } from './interop/index.mjs';
import { LossyRelay } from './support/lossy-relay.js';

const protocol = readFileSync(new URL('../../../PROTOCOL.md', import.meta.url), 'utf8');
const unhex = (s: string) => new Uint8Array(Buffer.from(s.replaceAll(' ', ''), 'hex'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function blocks(kind: string): Map<string, string>[] {
  const fence = new RegExp(`^\`\`\`${kind}\\n([\\s\\S]*?)^\`\`\`$`, 'gm');
  return [...protocol.matchAll(fence)].map((m) => {
    const out = new Map<string, string>();
    for (const line of (m[1] ?? '').split('\n')) {
      const at = line.indexOf(': ');
      if (at > 0) out.set(line.slice(0, at), line.slice(at + 2).trim());
    }
    return out;
  });
}

const bed = new FilesBed();
afterEach(() => bed.close());
const folder = (prefix: string) => bed.folder(prefix);

/** Both take files; the independent peer asks, netchat accepts; a link on netchat's peer. */
async function openBoth(linkOptions: FileLinkOptions = {}) {
  const pair = await filesPair(bed, linkOptions);
  expect(pair.p.session(pair.ps)?.streams.filesEnabled).toBe(true);
  return pair;
}

function expectClean(n: NetchatPeer, p: IndependentPeer, ps: number): void {
  expect(p.errors).toEqual([]);
  expect(p.stats.malformedMessages).toBe(0);
  expect(p.stats.streamAcksRefused).toBe(0);
  expect(p.session(ps)?.stats.protocolErrors ?? 0).toBe(0);
  const files = p.session(ps)?.streams.files;
  expect(files.stats).toEqual({ ignored: 0, brokenStreams: 0, stoppedStreams: 0 });
  expect(n.stats.malformed).toBe(0);
  expect(n.stats.protocolErrors).toBe(0);
}

describe('interop, files: the records', () => {
  it("PROTOCOL.md's transfer vectors decode and encode with the independent codec", () => {
    const valid = blocks('files');
    expect(valid.length).toBeGreaterThanOrEqual(11);
    for (const b of valid) {
      const bytes = unhex(b.get('hex') ?? '');
      const json = JSON.parse(b.get('json') ?? '{}');
      const length = (bytes[0] ?? 0) * 256 + (bytes[1] ?? 0);
      expect(length).toBe(bytes.length - 2);
      expect(decodeRecord(bytes.subarray(2))).toEqual(json);
      expect(hex(encodeRecord(json))).toBe(hex(bytes));
    }
    const invalid = blocks('files-invalid');
    expect(invalid.length).toBeGreaterThanOrEqual(10);
    for (const b of invalid) {
      const bytes = unhex(b.get('hex') ?? '');
      const length = (bytes[0] ?? 0) * 256 + (bytes[1] ?? 0);
      // A length outside 4 to 2048 breaks the stream before any decoding; else the record is malformed.
      const rejected =
        length < 4 || length > 2048 || decodeRecord(bytes.subarray(2, 2 + length)) === undefined;
      expect(rejected, b.get('why')).toBe(true);
    }
  });
});

describe('interop, files: netchat and the independent peer on loopback', () => {
  it('netchat offers two files (3 MiB and 11 bytes); the independent peer accepts, receives, verifies BLAKE2b-256 and answers verified; netchat reports them sent', async () => {
    const { r, n, p, ps, ns, link } = await openBoth();
    const src = folder('h4-src');
    const big = crypto.randomBytes(3 * 1024 * 1024);
    const small = Buffer.from('hello world');
    writeFileSync(join(src.folder, 'big.bin'), big);
    writeFileSync(join(src.folder, 'a.txt'), small);
    const transfer = await link.offer(ns, [join(src.folder, 'big.bin'), join(src.folder, 'a.txt')]);
    const offer = await r.waitFor('P', 'file_offer');
    expect(offer.files).toEqual([
      {
        path: 'big.bin',
        safePath: 'big.bin',
        changed: false,
        size: big.length,
        hash: hex(blake2b(big, 32)),
        held: 0,
      },
      {
        path: 'a.txt',
        safePath: 'a.txt',
        changed: false,
        size: 11,
        hash: '256c83b297114d201b30179f3f0ef0cace9783622da5974326b436178aeef610',
        held: 0,
      },
    ]);
    const done = await r.waitFor('L', 'file_done', (e) => e.transfer === transfer, 60_000);
    expect(done).toMatchObject({ files: 2, verified: 2 });
    expect(r.of('L', 'file_sent').length).toBe(2);
    const received = new Map(r.of('P', 'file_received').map((e) => [e.path, e]));
    expect([...received.keys()].sort()).toEqual(['a.txt', 'big.bin']);
    expect(received.get('big.bin')?.result).toBe('verified');
    expect(received.get('a.txt')?.result).toBe('verified');
    expect(Buffer.compare(received.get('big.bin')?.content, big)).toBe(0);
    expect(Buffer.compare(received.get('a.txt')?.content, small)).toBe(0);
    expect(r.of('P', 'offer_done')[0]).toMatchObject({ mine: false, verified: 2 });
    expectClean(n, p, ps);
  }, 90_000);

  it('the independent peer offers a file (3 MiB) and an empty one; netchat accepts, writes them, verifies them and answers verified', async () => {
    const dst = folder('h4-dst');
    const { r, n, p, ps, link } = await openBoth({ downloadFolder: dst.folder });
    link.on('file_offer', (e) => e.direction === 'receive' && void link.accept(e.transfer));
    const big = crypto.randomBytes(3 * 1024 * 1024);
    const offer = p.offerFiles(ps, [
      { path: 'in/big.bin', content: big },
      { path: 'empty', content: new Uint8Array(0) },
    ]);
    const asked = await r.waitFor('L', 'file_offer');
    expect(asked.files.map((f: { path: string; size: number }) => [f.path, f.size])).toEqual([
      ['in/big.bin', big.length],
      ['empty', 0],
    ]);
    await r.waitFor('P', 'offer_accepted', (e) => e.offer === offer);
    const done = await r.waitFor('P', 'offer_done', (e) => e.offer === offer, 60_000);
    expect(done).toMatchObject({ mine: true, verified: 2 });
    expect(
      r
        .of('P', 'file_verdict')
        .map((e) => [e.path, e.result])
        .sort(),
    ).toEqual([
      ['empty', 'verified'],
      ['in/big.bin', 'verified'],
    ]);
    await r.waitFor('L', 'file_done', () => true, 10_000);
    expect(Buffer.compare(readFileSync(join(dst.folder, 'in', 'big.bin')), big)).toBe(0);
    expect(readFileSync(join(dst.folder, 'empty')).length).toBe(0);
    expectClean(n, p, ps);
  }, 90_000);

  it('netchat stops (code 3) a stream whose first bytes are not a record, and a data stream it did not ask for', async () => {
    const { r, n, p, ps, ns } = await openBoth();
    // A length of 3 is outside 4 to 2048: not a record.
    const junk = p.openStream(ps);
    p.writeStream(ps, junk, Uint8Array.of(0, 3, 0x4e, 0x43, 0x20));
    const stopped = await r.waitFor('P', 'stream_cancelled', (e) => e.stream === junk);
    expect(stopped).toMatchObject({ direction: 'send', by: 'peer', code: 3 });
    // A `data` record for an offer netchat never accepted.
    const unasked = p.openStream(ps);
    p.writeStream(
      ps,
      unasked,
      encodeRecord({ type: 'data', offer: '0123456789abcdef', index: 0, offset: 0 }),
    );
    p.writeStream(ps, unasked, new Uint8Array(100));
    const stopped2 = await r.waitFor('P', 'stream_cancelled', (e) => e.stream === unasked);
    expect(stopped2).toMatchObject({ direction: 'send', by: 'peer', code: 3 });
    // Nothing of it touches the chat.
    p.send(ps, 'still chatting');
    await r.waitFor('N', 'message', (e) => e.session === ns && e.text === 'still chatting');
    expect(n.stats.protocolErrors).toBe(0); // the files protocol's breaches are not the transport's
  }, 30_000);

  it('through a lossy relay (5 % lost, 5 % twice, 10 % late by up to 30 ms): a 1 MiB file each way at once, both verified', async () => {
    const s = bed.newStage();
    const r = s.recorder;
    const dst = folder('h4-lossy-dst');
    const src = folder('h4-lossy-src');
    const n = await s.netchat('N', { streams: true, files: true });
    const link = new FileLink(n, { downloadFolder: dst.folder });
    s.onCleanup(() => link.close());
    r.watch('L', link as never);
    link.on('file_offer', (e) => e.direction === 'receive' && void link.accept(e.transfer));
    const p = await s.independent('P', { streams: true, files: true });
    const relay = await LossyRelay.start(
      n.address.port,
      { loss: 0.05, duplicate: 0.05, delay: 0.1, maxDelayMs: 30 },
      7,
    );
    s.onCleanup(async () => relay.close());
    n.on('request', (e) => n.accept(e.session));
    const ps = p.connect('127.0.0.1', relay.portForA);
    await r.waitFor('P', 'features', (e) => e.session === ps && e.streams === true, 20_000);
    const ns = (await r.waitFor('N', 'request')).session as number;
    await r.waitFor('N', 'features', (e) => e.session === ns, 20_000);
    const toN = crypto.randomBytes(1024 * 1024);
    const toP = crypto.randomBytes(1024 * 1024);
    writeFileSync(join(src.folder, 'to-p.bin'), toP);
    const offer = p.offerFiles(ps, [{ path: 'to-n.bin', content: toN }]);
    const transfer = await link.offer(ns, [join(src.folder, 'to-p.bin')]);
    await r.waitFor('P', 'offer_done', (e) => e.offer === offer, 60_000);
    await r.waitFor('L', 'file_done', (e) => e.transfer === transfer, 60_000);
    expect(r.of('P', 'file_verdict').map((e) => e.result)).toEqual(['verified']);
    const received = r.of('P', 'file_received');
    expect(received.map((e) => e.result)).toEqual(['verified']);
    expect(Buffer.compare(received[0]?.content, toP)).toBe(0);
    await r.waitFor('L', 'file_received', () => true, 10_000);
    expect(Buffer.compare(readFileSync(join(dst.folder, 'to-n.bin')), toN)).toBe(0);
    expect(relay.dropped).toBeGreaterThan(0);
    expect(p.session(ps)?.streams.path.stats.lost).toBeGreaterThan(0);
    expectClean(n, p, ps);
  }, 90_000);
});

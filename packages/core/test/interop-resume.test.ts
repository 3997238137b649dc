/**
 * Interop, resume (PROTOCOL.md *Files: transfers*, *Session end, and resume*): a transfer cut by
 * the session's end goes on, in a new session with the same peer key, from the bytes the receiver
 * holds. Both ways against a NetchatPeer with its FileLink on loopback: netchat sends and the
 * independent peer (download folder, partial files written from the document alone) keeps its
 * partial and asks from it; the independent peer sends, netchat's FileLink keeps its partial and
 * accepts by itself, and the offsets it reports are those on the wire. The session is cut from the
 * independent peer's side once enough has arrived (a condition, never a time). Peers, links and
 * temporary folders are removed at the end.
 */
import crypto from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FilesBed, filesPair } from './interop/file-helpers.js';
import type { IndependentPeerOptions } from './interop/index.mjs';

const SIZE = 2 * 1024 * 1024; // the independent peer's BLAKE2b is plain JavaScript: keep files small
const CUT_AT = 512 * 1024;

const bed = new FilesBed();
afterEach(() => bed.close());
const folder = (prefix: string) => bed.folder(prefix);

/** Both take files, a session open; netchat's FileLink writes to `downloadFolder`. */
const openBoth = (downloadFolder: string, independent: IndependentPeerOptions) =>
  filesPair(bed, { downloadFolder }, independent);

describe('interop, resume: against netchat on loopback', () => {
  it('netchat sends; the session is cut; the independent peer keeps its partial, and when netchat offers again by itself (same id) asks from it; only the rest moves', async () => {
    const src = folder('h4-resume-src');
    const pDownloads = folder('h4-resume-p');
    const nDownloads = folder('h4-resume-n');
    const content = crypto.randomBytes(SIZE);
    writeFileSync(join(src.folder, 'big.bin'), content);
    const { r, p, link, connect, ps, ns } = await openBoth(nDownloads.folder, {
      downloadFolder: pDownloads.folder,
    });
    let cut = false;
    p.on('file_bytes', (e) => {
      if (cut || e.session !== ps || e.received < CUT_AT) return;
      cut = true;
      p.closeSession(ps, { linger: false });
    });
    const transfer = await link.offer(ns, [join(src.folder, 'big.bin')]);
    const first = await r.waitFor('P', 'file_offer', (e) => e.session === ps);
    await r.waitFor('P', 'offer_ended', (e) => e.offer === first.offer && e.state === 'interrupted', 30_000);
    const failed = await r.waitFor('L', 'file_failed', (e) => e.transfer === transfer, 30_000);
    expect(failed).toMatchObject({ file: undefined, resumable: true });
    // What the independent peer holds: a hidden partial and its state, nothing in place yet.
    expect(readdirSync(pDownloads.folder).every((name) => name.startsWith('.ncpartial-'))).toBe(true);
    const writtenBefore = Math.max(...r.of('P', 'file_bytes').map((e) => e.received as number));
    expect(writtenBefore).toBeGreaterThanOrEqual(CUT_AT);
    expect(writtenBefore).toBeLessThan(SIZE);

    const again = await connect();
    const second = await r.waitFor('P', 'file_offer', (e) => e.session === again.ps, 20_000);
    expect(second.offer).toBe(first.offer); // the same id
    const held = second.files[0].held as number;
    expect(held).toBe(writtenBefore); // the session merely ended: everything written was made durable
    const started = await r.waitFor('P', 'file_started', (e) => e.session === again.ps, 20_000);
    expect(started.offset).toBe(held);
    const received = await r.waitFor('P', 'file_received', (e) => e.session === again.ps, 60_000);
    expect(received).toMatchObject({ result: 'verified', placedAt: 'big.bin' });
    expect(Buffer.compare(readFileSync(join(pDownloads.folder, 'big.bin')), content)).toBe(0);
    expect(readdirSync(pDownloads.folder)).toEqual(['big.bin']); // the partial's files are gone
    // Only the rest moved in the second session: its first byte was at `held`.
    const secondBytes = r.of('P', 'file_bytes').filter((e) => e.session === again.ps);
    expect(secondBytes.at(-1)?.received).toBe(SIZE);
    // netchat's public API tells the same offsets.
    const accepted = r.of('L', 'file_accepted').at(-1);
    expect(accepted?.offset).toBe(held);
    const sent = await r.waitFor('L', 'file_sent', () => true, 10_000);
    expect(sent.size).toBe(SIZE);
  }, 120_000);

  it("the independent peer sends; the session is cut; netchat's FileLink keeps its partial, accepts the same offer again by itself, and its want starts where its held says", async () => {
    const nDownloads = folder('h4-resume-n');
    const { r, p, link, connect, ps } = await openBoth(nDownloads.folder, {});
    link.on('file_offer', (e) => e.direction === 'receive' && !e.resuming && void link.accept(e.transfer));
    let cut = false;
    p.on('wire_message', (w: { message: { type: string; maxOffset?: number } }) => {
      // netchat grants credit as it writes (a credit of read + window): past 768 KiB it has written some.
      if (cut || w.message.type !== 'stream_credit' || (w.message.maxOffset ?? 0) < CUT_AT + 256 * 1024)
        return;
      cut = true;
      p.closeSession(ps, { linger: false });
    });
    const content = crypto.randomBytes(SIZE);
    const id = p.offerFiles(ps, [{ path: 'big.bin', content }]);
    await r.waitFor('P', 'offer_ended', (e) => e.offer === id && e.state === 'interrupted', 30_000);
    const failed = await r.waitFor('L', 'file_failed', () => true, 30_000);
    expect(failed).toMatchObject({ file: undefined, resumable: true });
    expect(readdirSync(nDownloads.folder).includes('big.bin')).toBe(false);
    // At once: netchat reports the transfer interrupted (resumable) while its partial is still
    // being made durable; an offer that comes meanwhile is answered from what the close keeps
    // (the interop README, item 26).
    const again = await connect();
    await r.waitFor('P', 'offer_again', (e) => e.session === again.ps && e.offer === id, 20_000);
    const offered = await r.waitFor(
      'L',
      'file_offer',
      (e) => e.direction === 'receive' && e.resuming === true,
      20_000,
    );
    expect(offered.offerId).toBe(id);
    const held = offered.held[0] as number;
    expect(held).toBeGreaterThan(0); // its window decides how much it had written at the cut
    expect(held).toBeLessThan(SIZE);
    const accepted = await r.waitFor('P', 'offer_accepted', (e) => e.session === again.ps, 20_000);
    expect(accepted.held).toBe(held);
    const wanted = await r.waitFor('P', 'file_wanted', (e) => e.session === again.ps, 20_000);
    expect(wanted.offset).toBe(held);
    const done = await r.waitFor('P', 'offer_done', (e) => e.session === again.ps, 60_000);
    expect(done).toMatchObject({ offer: id, verified: 1 });
    await r.waitFor('L', 'file_received', () => true, 10_000);
    expect(Buffer.compare(readFileSync(join(nDownloads.folder, 'big.bin')), content)).toBe(0);
  }, 120_000);
});

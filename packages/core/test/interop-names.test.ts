/**
 * Interop, file names (PROTOCOL.md *Files: names*): the independent peer's safe-path mapping
 * (test/interop/names.mjs, written from the document alone) against every name vector; then
 * netchat and the independent peer on loopback offering each other hostile names: what netchat's
 * sender puts on the wire for names a disk allows, and what netchat's FileLink refuses, maps and
 * writes (only inside its download folder, under the names the document gives, copies beside
 * files already there). Peers, links and temporary folders are removed at the end.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FilesBed, filesPair } from './interop/file-helpers.js';
import { checkOfferPaths, copyName, type IndependentPeerOptions, safePath } from './interop/index.mjs';

const protocol = readFileSync(new URL('../../../PROTOCOL.md', import.meta.url), 'utf8');

type Text = string | [string, number][];
interface NameVector {
  in: Text;
  out?: Text;
  refused?: string;
}

const text = (t: Text) => (typeof t === 'string' ? t : t.map(([s, n]) => s.repeat(n)).join(''));

function nameVectors(): NameVector[] {
  const block = /^```names\n([\s\S]*?)^```$/m.exec(protocol)?.[1] ?? '';
  return block
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as NameVector);
}

const bed = new FilesBed();
afterEach(() => bed.close());
const folder = (prefix: string) => bed.folder(prefix);

/** Every file under `root`, as relative paths with `/`. */
function filesUnder(root: string, at = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, at))) {
    const rel = at === '' ? name : `${at}/${name}`;
    if (statSync(join(root, rel)).isDirectory()) out.push(...filesUnder(root, rel));
    else out.push(rel);
  }
  return out.sort();
}

/** Both take files, a session open; a FileLink on netchat's peer writing to `downloadFolder`. */
const openBoth = (downloadFolder: string, independent: IndependentPeerOptions = {}) =>
  filesPair(bed, { downloadFolder }, independent);

describe('interop, file names: the mapping', () => {
  it('maps or refuses every name vector of PROTOCOL.md as it says, and a mapped path maps to itself', () => {
    const vectors = nameVectors();
    expect(vectors.length).toBeGreaterThanOrEqual(70);
    for (const v of vectors) {
      const got = safePath(text(v.in));
      const what = JSON.stringify(v.in).slice(0, 80);
      if (v.refused) expect(got.refused, what).toBe(v.refused);
      else {
        expect(got.out, what).toBe(text(v.out as Text));
        expect(safePath(got.out as string).out, what).toBe(got.out);
      }
    }
  });

  it('refuses an offer whose paths map to one file, or put a file where a folder must be; names copies', () => {
    expect(checkOfferPaths(['a\\b', 'a_b'])).toMatchObject({ reason: 'duplicate_path', path: 'a_b' });
    expect(checkOfferPaths(['a', 'a/b'])).toMatchObject({ reason: 'path_conflict', path: 'a' });
    expect(checkOfferPaths(['x/../y'])).toMatchObject({ reason: 'unsafe_name', why: 'parent' });
    expect(checkOfferPaths(['CON', 'aux/x'])).toEqual({ mapped: ['_CON', '_aux/x'] });
    expect(copyName('report.pdf', 1)).toBe('report (1).pdf');
    expect(copyName('backup.tar.gz', 1)).toBe('backup (1).tar.gz');
    const long = copyName(`${'b'.repeat(248)}.tar.gz`, 12);
    expect(long).toBe(`${'b'.repeat(243)} (12).tar.gz`);
    expect(Buffer.byteLength(long)).toBe(255);
  });
});

describe('interop, file names: against netchat on loopback', () => {
  it("netchat's sender offers names a disk allows mapped as the vectors say (the SHOULD): the independent peer finds nothing to change", async () => {
    const src = folder('h4-names-src');
    const dst = folder('h4-names-dst');
    const { r, ns, link } = await openBoth(dst.folder);
    const names = [
      'CON',
      '.bashrc',
      '-rf',
      'a\\b',
      'name.',
      'invoice\u202efdp.exe',
      'esc\u001b[31m',
      '~',
      `${'é'.repeat(125)}.txt`,
    ];
    const paths = names.map((name, i) => {
      const path = join(src.folder, name);
      writeFileSync(path, `file ${i}`);
      return path;
    });
    await link.offer(ns, paths);
    const offer = await r.waitFor('P', 'file_offer');
    const offered = offer.files as { path: string; safePath: string; changed: boolean }[];
    const mapped = [
      '_CON',
      '_bashrc',
      '_rf',
      'a_b',
      'name_',
      'invoice_fdp.exe',
      'esc_[31m',
      '_',
      `${'é'.repeat(125)}.txt`,
    ];
    expect(offered.map((f) => f.path)).toEqual(mapped);
    expect(offered.map((f) => f.safePath)).toEqual(mapped);
    expect(offered.map((f) => f.changed)).toEqual(names.map(() => false));
  }, 30_000);

  it("netchat's FileLink declines (bad_offer) every offer with a refused path or two paths that collide, and writes nothing", async () => {
    const root = folder('h4-names-root');
    const dst = join(root.folder, 'downloads');
    mkdirSync(dst);
    const { r, p, ps, link } = await openBoth(dst);
    link.on('file_offer', (e) => e.direction === 'receive' && void link.accept(e.transfer));
    const content = new TextEncoder().encode('x');
    const offers: [string, string[]][] = [
      ['parent', ['../../x']],
      ['parent inside', ['a/../b']],
      ['absolute', ['/etc/x']],
      ['drive', ['C:\\x']],
      ['unc', ['\\\\server\\share\\x']],
      ['nul', ['a\u0000b']],
      ['empty component', ['a//b']],
      ['too deep', [`${'a/'.repeat(32)}b`]],
      [
        'too long once mapped',
        [`${'CON.aaaaaaaaaaaaaaaaaaaaaaaaaaa/'.repeat(31)}CON.aaaaaaaaaaaaaaaaaaaaaaaaaaa`],
      ],
      ['duplicate once mapped', ['a\\b', 'a_b']],
      ['a file where a folder must be', ['a', 'a/b']],
    ];
    for (const [what, paths] of offers) {
      const id = p.offerFiles(
        ps,
        paths.map((path) => ({ path, content })),
      );
      const answer = await r.until(
        () =>
          r.of('P', 'offer_declined').find((e) => e.offer === id) ??
          r.of('P', 'offer_ended').find((e) => e.offer === id) ??
          r.of('P', 'offer_accepted').find((e) => e.offer === id),
        5_000,
        `netchat's answer to ${what}`,
      );
      expect(answer, what).toMatchObject({ type: 'offer_declined', reason: 'bad_offer' });
      // Each refused path is one the independent peer refuses too.
      expect(checkOfferPaths(paths).reason, what).toBeDefined();
    }
    expect(readdirSync(root.folder)).toEqual(['downloads']);
    expect(filesUnder(dst)).toEqual([]);
    // A path of more than 1024 bytes cannot be in an `offer_file` (its field holds 0 to 1024):
    // the record is malformed, so netchat stops the control stream (code 3) and the offer fails.
    const control = p.session(ps)?.streams.files.control;
    const id = p.offerFiles(ps, [{ path: 'x'.repeat(1025), content }]);
    const stopped = await r.waitFor('P', 'stream_cancelled', (e) => e.stream === control);
    expect(stopped).toMatchObject({ direction: 'send', by: 'peer', code: 3 });
    await r.waitFor('P', 'offer_ended', (e) => e.offer === id && e.state === 'failed');
    expect(filesUnder(dst)).toEqual([]);
  }, 60_000);

  it("netchat's FileLink writes hostile but mappable names where the mapping says, copies beside files already there", async () => {
    const root = folder('h4-names-root');
    const dst = join(root.folder, 'downloads');
    mkdirSync(dst);
    writeFileSync(join(dst, 'report.pdf'), 'already here');
    writeFileSync(join(dst, 'backup.tar.gz'), 'already here');
    const longTarGz = `${'b'.repeat(248)}.tar.gz`;
    writeFileSync(join(dst, longTarGz), 'already here');
    const { r, p, ps, link } = await openBoth(dst);
    link.on('file_offer', (e) => e.direction === 'receive' && void link.accept(e.transfer));
    const paths = [
      'CON',
      'nul.tar.gz',
      '.bashrc',
      '-rf',
      'a\\b',
      'dir\\..\\..\\x',
      'name. .',
      'invoice\u202efdp.exe',
      'aux/x',
      '.git/config',
      `${'a'.repeat(296)}.pdf`,
      `${'👍🏽'.repeat(40)}`,
      'report.pdf',
      'backup.tar.gz',
      longTarGz,
    ];
    const files = paths.map((path, i) => ({ path, content: new TextEncoder().encode(`file ${i}`) }));
    const id = p.offerFiles(ps, files);
    const done = await r.waitFor('P', 'offer_done', (e) => e.offer === id, 30_000);
    expect(done).toMatchObject({ verified: paths.length });
    const expected = (checkOfferPaths(paths).mapped as string[]).map((m) => {
      if (m === 'report.pdf' || m === 'backup.tar.gz' || m === longTarGz) return copyName(m, 1);
      return m;
    });
    await r.until(() => r.of('L', 'file_received').length === paths.length, 10_000, 'netchat received all');
    const got = new Map(r.of('L', 'file_received').map((e) => [e.relativePath as string, e]));
    expect([...got.keys()].sort()).toEqual([...expected].sort());
    expect(filesUnder(dst)).toEqual([...expected, 'report.pdf', 'backup.tar.gz', longTarGz].sort());
    expected.forEach((m, i) => {
      expect(readFileSync(join(dst, m), 'utf8'), m).toBe(`file ${i}`);
    });
    expect(readFileSync(join(dst, 'report.pdf'), 'utf8')).toBe('already here');
    expect(readdirSync(root.folder)).toEqual(['downloads']);
  }, 60_000);

  it("netchat's FileLink follows no folder on the way that is a file or a link: those files fail not_a_folder, nothing is written outside", async () => {
    const root = folder('h4-names-root');
    const dst = join(root.folder, 'downloads');
    const outside = join(root.folder, 'outside');
    mkdirSync(dst);
    mkdirSync(outside);
    symlinkSync(outside, join(dst, 'link'));
    writeFileSync(join(dst, 'plain'), 'a file, not a folder');
    const { r, p, ps, link } = await openBoth(dst);
    link.on('file_offer', (e) => e.direction === 'receive' && void link.accept(e.transfer));
    const content = new TextEncoder().encode('x');
    const id = p.offerFiles(ps, [
      { path: 'link/x', content },
      { path: 'plain/y', content },
      { path: 'ok.txt', content },
    ]);
    await r.waitFor('P', 'offer_done', (e) => e.offer === id, 30_000);
    const verdicts = new Map(r.of('P', 'file_verdict').map((e) => [e.path as string, e.result as string]));
    expect(verdicts).toEqual(
      new Map([
        ['link/x', 'not_a_folder'],
        ['plain/y', 'not_a_folder'],
        ['ok.txt', 'verified'],
      ]),
    );
    expect(readdirSync(outside)).toEqual([]);
    expect(filesUnder(dst).filter((f) => !f.startsWith('.'))).toEqual(['ok.txt', 'plain']);
  }, 30_000);

  it('the other way: netchat offers a folder; the independent peer follows no link on the way either, and netchat hears not_a_folder', async () => {
    const src = folder('h4-names-src');
    const root = folder('h4-names-root');
    const pDownloads = join(root.folder, 'downloads');
    const outside = join(root.folder, 'outside');
    mkdirSync(join(src.folder, 'dir'));
    writeFileSync(join(src.folder, 'dir', 'x'), 'x');
    mkdirSync(pDownloads);
    mkdirSync(outside);
    symlinkSync(outside, join(pDownloads, 'dir'));
    const { r, ns, link } = await openBoth(folder('h4-names-n').folder, { downloadFolder: pDownloads });
    const transfer = await link.offer(ns, [join(src.folder, 'dir')]);
    const failed = await r.waitFor('L', 'file_failed', (e) => e.transfer === transfer, 30_000);
    expect(failed.reason).toBe('not_a_folder');
    expect(r.of('P', 'file_received').map((e) => [e.path, e.result])).toEqual([['dir/x', 'not_a_folder']]);
    expect(readdirSync(outside)).toEqual([]);
    expect(readdirSync(pDownloads)).toEqual(['dir']); // the partial is gone too
  }, 30_000);
});

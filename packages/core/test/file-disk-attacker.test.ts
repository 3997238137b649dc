/**
 * Files on a real disk, attacked by a stranger who holds a valid key (the independent peer of
 * test/interop, on loopback, offering whatever names and counts it likes) against a NetchatPeer
 * with its FileLink accepting every offer into a download folder under a temp dir. Measured from
 * the receiving process: its open file descriptors (/proc/self/fd, sampled every 10 ms), its heap,
 * the bytes that landed, and every path under the temp dir outside the download folder (none).
 * - 1,000 one-byte files in 100 subfolders (on this loaded machine about 45 files a second), and
 *   8 offers of names that collide after mapping;
 * - 40 offers of 100 one-byte files whose data never comes (every `want` taken, nothing sent);
 * - a subfolder that becomes a symlink to a folder outside while its file is being received,
 *   and one planted before the offer; and the download folder itself replaced by a link.
 * Waits are for conditions, bounded; peers, links and folders are removed at the end.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { FilesBed, filesPair } from './interop/file-helpers.js';

const bed = new FilesBed();
afterEach(() => bed.close());

const fdCount = () => readdirSync('/proc/self/fd').length;
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const FILES = 1_000;
const linux = existsSync('/proc/self/fd');

/** The most file descriptors open while it runs (sampled every 10 ms); `stop` gives it. */
function sampleFds() {
  let most = fdCount();
  const timer = setInterval(() => {
    most = Math.max(most, fdCount());
  }, 10);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(most, fdCount());
    },
  };
}

/** Every path under `root` (files and folders), relative; bounded by what the test made. */
function tree(root: string): string[] {
  return readdirSync(root, { recursive: true }).map(String).sort();
}

/** A temp dir holding the download folder and a folder outside it, to see that nothing lands there. */
function folders() {
  const top = bed.folder('disk-attack');
  const dst = join(top.folder, 'downloads');
  const outside = join(top.folder, 'outside');
  mkdirSync(dst);
  mkdirSync(outside);
  return { top: top.folder, dst, outside };
}

/**
 * Holds every `want` the independent peer gets (so no file data goes) until `release()` hands
 * them on: the test acts on the disk meanwhile, or, never released, the peer sends nothing.
 */
function holdWants(p: Awaited<ReturnType<typeof filesPair>>['p'], ps: number) {
  const files = (
    p.session(ps) as unknown as { streams: { files: { onWant: (o: unknown, r: unknown) => void } } }
  ).streams.files;
  const onWant = files.onWant.bind(files);
  const held: [unknown, unknown][] = [];
  files.onWant = (o, w) => {
    held.push([o, w]);
  };
  return {
    get held() {
      return held.length;
    },
    release() {
      files.onWant = onWant;
      for (const [o, w] of held.splice(0)) onWant(o, w);
    },
  };
}

describe.skipIf(!linux)('files on a real disk, attacked', () => {
  it('1,000 one-byte files in 100 subfolders, then 8 offers of names colliding after mapping: each lands once inside the folder, descriptors and heap bounded', async () => {
    const { top, dst, outside } = folders();
    const { r, p, ps, link } = await filesPair(bed, { downloadFolder: dst });
    link.on('file_offer', (e) => e.direction === 'receive' && void link.accept(e.transfer));
    const files = Array.from({ length: FILES }, (_, i) => ({
      path: `d${i % 100}/f${i}`,
      content: Buffer.from([i & 0xff]),
    }));
    // Names a receiver maps to one another's (case, a character some systems refuse, trailing dots).
    const colliding = ['c/Name', 'c/name', 'c/NAME', 'c/na:me', 'c/na_me', 'c/name.', 'c/name..', 'c/name '];
    const collisions = colliding.map((path, i) => ({ path, content: Buffer.from(`collision ${i}`) }));
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const fdsBefore = fdCount();
    const fds = sampleFds();
    const offer = p.offerFiles(ps, files);
    const done = await r.waitFor('P', 'offer_done', (e) => e.offer === offer, 150_000);
    // In one offer they would be refused together (bad_offer: one path twice); one offer each.
    for (const file of collisions) {
      const each = p.offerFiles(ps, [file]);
      await r.waitFor('P', 'offer_done', (e) => e.offer === each, 20_000);
    }
    await r.until(() => r.of('L', 'file_done').length === 1 + collisions.length, 10_000, 'every offer done');
    const most = fds.stop();
    gc();
    const heapAfter = process.memoryUsage().heapUsed;
    expect(done).toMatchObject({ verified: FILES });
    const landed = tree(dst).filter((p) => statSync(join(dst, p)).isFile());
    const bytes = landed.reduce((sum, p) => sum + statSync(join(dst, p)).size, 0);
    console.log(
      `[disk attack] ${FILES} one-byte files in 100 folders and 8 colliding names: ${landed.length} files (${bytes} bytes) landed; descriptors ${fdsBefore} before, ${most} at most; heap ${((heapAfter - heapBefore) / 1e6).toFixed(1)} MB more after it all (collected); in c/: ${JSON.stringify(existsSync(join(dst, 'c')) ? tree(join(dst, 'c')) : [])}`,
    );
    // Nothing outside the download folder; nothing left but the files (no partial or state file).
    expect(tree(top).filter((p) => !p.startsWith('downloads'))).toEqual(['outside']);
    expect(tree(outside)).toEqual([]);
    // The receiver asks up to 16 files ahead (192 partials in all): never near 2,000 descriptors.
    expect(most - fdsBefore).toBeLessThanOrEqual(192 + 16);
    // Each colliding name landed once, under a name of its own: nothing was written over.
    const inC = existsSync(join(dst, 'c')) ? tree(join(dst, 'c')) : [];
    const verifiedCollisions = r.of('P', 'file_verdict').filter((e) => String(e.path).startsWith('c/'));
    expect(verifiedCollisions.filter((e) => e.result === 'verified')).toHaveLength(collisions.length);
    expect(inC).toHaveLength(collisions.length);
    expect(landed).toHaveLength(FILES + collisions.length);
    expect(bytes).toBe(FILES + collisions.reduce((s, f) => s + f.content.length, 0));
    // What is held after it all, collected: the test's own record of every event (about 10 a file)
    // included, so an upper bound on what the receiver keeps.
    expect(heapAfter - heapBefore).toBeLessThan(16e6);
  }, 180_000);

  it('32 offers of 100 one-byte files whose data never comes: 192 partial files open at most in all (32 receives × 4 + 64), none open or left once the session ends', async () => {
    const { top, dst, outside } = folders();
    const { r, n, p, ps, link } = await filesPair(bed, { downloadFolder: dst });
    link.on('file_offer', (e) => e.direction === 'receive' && void link.accept(e.transfer));
    // The stranger takes each `want` and sends nothing.
    const wants = holdWants(p, ps);
    const fdsBefore = fdCount();
    const fds = sampleFds();
    for (let o = 0; o < 32; o++) {
      p.offerFiles(
        ps,
        Array.from({ length: 100 }, (_, i) => ({ path: `o${o}/${i}`, content: Buffer.from(`${o}/${i}`) })),
      );
      // Within what a session may have waiting for an answer (8).
      await r
        .until(() => r.of('L', 'file_offer').length > o, 10_000, `offer ${o} seen`)
        .catch(() => undefined);
    }
    // Every offer accepted, and the wants stopped (none new in 500 ms; the stall rule ends a
    // receive only after 30 s, or 5 s when another offer waits for its slot: none does).
    await r.until(() => r.of('L', 'file_accepted').length === 32, 20_000, 'every offer accepted');
    let seen = -1;
    await r.until(
      () => {
        if (wants.held > 0 && wants.held === seen) return true;
        seen = wants.held;
        return false;
      },
      15_000,
      'the wants to stop',
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    const during = fds.stop();
    const partials = () => tree(dst).filter((x) => x.startsWith('.netchat-')).length;
    const partialsDuring = partials();
    // The session ends: every partial's descriptor is closed.
    p.closeSession(ps);
    await r.waitFor('N', 'closed', () => true, 10_000);
    await r.until(() => fdCount() <= fdsBefore, 10_000, 'the descriptors closed');
    await r.until(() => partials() === 0, 5_000, 'the empty partials removed').catch(() => undefined);
    console.log(
      `[disk attack] 32 offers of 100 files whose data never comes: ${wants.held} wanted, descriptors ${fdsBefore} before, ${during} at most; partial and state files on disk ${partialsDuring}, after the session ${partials()}`,
    );
    expect(wants.held).toBeGreaterThan(0);
    expect(wants.held).toBeLessThanOrEqual(32 * 4 + 64);
    expect(during - fdsBefore).toBeLessThanOrEqual(32 * 4 + 64 + 8);
    // A partial that holds nothing is not kept for a resume: nothing to resume from (176 empty
    // partials stayed for 7 days before, as many again for each such session).
    expect(partials()).toBe(0);
    expect(tree(outside)).toEqual([]);
    expect(tree(top).filter((x) => !x.startsWith('downloads'))).toEqual(['outside']);
    expect(n.stats.protocolErrors).toBe(0);
  }, 90_000);

  it('a subfolder made a symlink to a folder outside while its file is received, or planted before the offer: nothing lands outside', async () => {
    const { top, dst, outside } = folders();
    const { r, p, ps, link } = await filesPair(bed, { downloadFolder: dst });
    link.on('file_offer', (e) => e.direction === 'receive' && void link.accept(e.transfer));
    // The data waits until the test has swapped the folder.
    const wants = holdWants(p, ps);
    // A folder that exists before the offer (the sender's earlier files went there).
    mkdirSync(join(dst, 'in'));
    // And one planted as a link before the offer.
    symlinkSync(outside, join(dst, 'planted'));
    const offer = p.offerFiles(ps, [
      { path: 'in/a.bin', content: Buffer.alloc(300_000, 7) },
      { path: 'planted/b.bin', content: Buffer.alloc(300_000, 8) },
    ]);
    await r.until(() => wants.held === 2, 20_000, 'both files wanted');
    // While the partials wait: in/ is moved away and a link to outside put in its place.
    renameSync(join(dst, 'in'), join(dst, 'in-moved'));
    symlinkSync(outside, join(dst, 'in'));
    wants.release();
    await r.waitFor('P', 'offer_done', (e) => e.offer === offer, 60_000);
    await r.waitFor('L', 'file_done', () => true, 10_000);
    const verdicts = r.of('P', 'file_verdict').map((e) => [e.path, e.result]);
    const received = r.of('L', 'file_received').map((e) => e.relativePath ?? e.path);
    console.log(
      `[disk attack] folders made links to outside: verdicts ${JSON.stringify(verdicts)}; placed ${JSON.stringify(received)}; downloads: ${JSON.stringify(tree(dst))}`,
    );
    expect(tree(outside)).toEqual([]);
    expect(tree(top).filter((x) => !x.startsWith('downloads'))).toEqual(['outside']);
  }, 60_000);

  // The download folder moved away and replaced by a link (by whoever may write its parent: not a
  // stranger on the network) while a file waits: named by its path at each step, the file's
  // folder (`sub`) and its state file were made through the link, outside. The folder's identity
  // (device and inode), taken when the store first used it and checked before anything is made
  // (node/folder-identity.ts), refuses it: not_a_folder, nothing outside.
  it('the download folder itself moved away and made a link to a folder outside while a file waits for its data: nothing made outside', async () => {
    const { top, dst, outside } = folders();
    const { r, p, ps, link } = await filesPair(bed, { downloadFolder: dst });
    link.on('file_offer', (e) => e.direction === 'receive' && void link.accept(e.transfer));
    const wants = holdWants(p, ps);
    const offer = p.offerFiles(ps, [{ path: 'sub/a.bin', content: Buffer.alloc(300_000, 9) }]);
    await r.until(() => wants.held === 1, 20_000, 'the file wanted');
    renameSync(dst, join(top, 'downloads-moved'));
    symlinkSync(outside, dst);
    wants.release();
    await r.waitFor('P', 'offer_done', (e) => e.offer === offer, 60_000);
    const verdicts = r.of('P', 'file_verdict').map((e) => [e.path, e.result]);
    console.log(
      `[disk attack] the download folder made a link to outside: verdicts ${JSON.stringify(verdicts)}; outside: ${JSON.stringify(tree(outside))}; moved: ${JSON.stringify(tree(join(top, 'downloads-moved')))}`,
    );
    expect(tree(outside)).toEqual([]);
    expect(verdicts).toEqual([['sub/a.bin', 'not_a_folder']]);
  }, 60_000);
});

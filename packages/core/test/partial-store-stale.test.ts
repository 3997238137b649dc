/**
 * Partials kept for a resume that never comes (the sender's file changed, so it is never offered
 * again) expire: `removeStale` removes those neither file of which was modified for
 * `staleAfterMs` (7 days by default) by the store's clock, as a FileLink opens the store; a
 * partial taken up again (a resume) is touched; a file being received is left alone. Ages come
 * from file times set back with utimes, or from the store's injected clock: nothing sleeps.
 */
import { statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileLink, NetchatPeer, type PartialKey, PartialStore, partialId } from '../src/index.js';
import { nextEvent } from './support/file-link-events.js';
import { BOB, feed, keyOf, randomData, temporaryFolder } from './support/partial-files.js';

const KiB = 1024;
const DAY = 24 * 60 * 60 * 1000;
const small = { bufferBytes: 16 * KiB, syncEveryBytes: 32 * KiB };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function folder(prefix: string) {
  const made = temporaryFolder(prefix);
  cleanups.push(() => made.remove());
  return made;
}

/** A partial of `data` interrupted after `bytes`, kept in `store`'s folder. */
async function interrupted(store: PartialStore, data: Uint8Array, bytes: number, key = keyOf(data)) {
  const file = await store.open(key, `${key.hash.slice(0, 8)}.bin`);
  await feed(file, data, 0, bytes);
  expect(await file.close()).toBeGreaterThan(0);
  return key;
}

/** Sets both files of a partial (and only they) as last modified `ms` ago. */
function age(where: string, key: PartialKey, ms: number): void {
  const when = new Date(Date.now() - ms);
  for (const suffix of ['.part', '.state'])
    utimesSync(join(where, `.netchat-${partialId(key)}${suffix}`), when, when);
}

function filesOf(key: PartialKey): string[] {
  return [`.netchat-${partialId(key)}.part`, `.netchat-${partialId(key)}.state`];
}

describe('PartialStore.removeStale', () => {
  it('removes partials untouched for 7 days, keeps younger ones and anything else in the folder', async () => {
    const made = folder('stale');
    const store = new PartialStore(made.folder, small);
    const old = await interrupted(store, randomData(100 * KiB, 1), 64 * KiB);
    const young = await interrupted(store, randomData(100 * KiB, 2), 64 * KiB);
    // A partial modified a week ago in one file only (its state) is not stale: the newest time counts.
    const mixed = await interrupted(store, randomData(100 * KiB, 3), 64 * KiB);
    age(made.folder, old, 7 * DAY + 60_000);
    age(made.folder, young, 6 * DAY);
    age(made.folder, mixed, 8 * DAY);
    utimesSync(join(made.folder, filesOf(mixed)[1] ?? ''), new Date(), new Date());
    // What is left of the same kind alone: a data file without its state, and a state without its data.
    const orphanData = keyOf(randomData(10, 4));
    const orphanState = keyOf(randomData(10, 5));
    writeFileSync(join(made.folder, filesOf(orphanData)[0] ?? ''), 'partial bytes');
    writeFileSync(join(made.folder, filesOf(orphanState)[1] ?? ''), '{}');
    utimesSync(join(made.folder, filesOf(orphanData)[0] ?? ''), new Date(0), new Date(0));
    utimesSync(join(made.folder, filesOf(orphanState)[1] ?? ''), new Date(0), new Date(0));
    // Not partials: a received file, a dot-file of another program, a partial-like name that is not one.
    const others = ['done.bin', '.netchat-notes', '.netchat-xyz.part'];
    for (const name of others) {
      writeFileSync(join(made.folder, name), 'keep me');
      utimesSync(join(made.folder, name), new Date(0), new Date(0));
    }

    const removed = await new PartialStore(made.folder, small).removeStale();
    expect(removed.sort()).toEqual([old, orphanData, orphanState].map(partialId).sort());
    expect(made.entries()).toEqual([...filesOf(young), ...filesOf(mixed), ...others].sort());
    expect(await store.held(old)).toBe(0);
    expect(await store.held(young)).toBe(64 * KiB);
  });

  it('goes by the store clock and its staleAfterMs; a file it is receiving is left alone', async () => {
    const made = folder('stale-clock');
    const kept = await interrupted(new PartialStore(made.folder, small), randomData(100 * KiB, 6), 64 * KiB);
    const inNineDays = () => new Date(Date.now() + 9 * DAY);
    const patient = new PartialStore(made.folder, { ...small, now: inNineDays, staleAfterMs: 10 * DAY });
    expect(await patient.removeStale()).toEqual([]);
    expect(made.entries()).toEqual(filesOf(kept));

    // Nine days on by its clock, a store receiving a file (written just now, old by that clock).
    const store = new PartialStore(made.folder, { ...small, now: inNineDays });
    const data = randomData(100 * KiB, 7);
    const receiving = await store.open(keyOf(data), 'receiving.bin');
    await feed(receiving, data, 0, 40 * KiB);
    expect(await store.removeStale()).toEqual([partialId(kept)]);
    expect(await receiving.close()).toBe(40 * KiB);
    expect(made.entries()).toEqual(filesOf(keyOf(data)));
    expect(await store.removeStale()).toEqual([partialId(keyOf(data))]);
    expect(made.entries()).toEqual([]);
  });

  it('touches a partial taken up again (by its clock), so a resume is not lost to a later sweep', async () => {
    const made = folder('stale-resume');
    const data = randomData(100 * KiB, 9);
    const key = await interrupted(new PartialStore(made.folder, small), data, 64 * KiB);
    const daysOn = (days: number) => () => new Date(Date.now() + days * DAY);
    // Taken up again eight days on and interrupted at once: nothing written, so only the touch
    // (by the store's clock) says when it was last used.
    const resumer = new PartialStore(made.folder, { ...small, now: daysOn(8), staleAfterMs: 10 * DAY });
    const resumed = await resumer.open(key, 'resumed.bin');
    expect(resumed.offset).toBe(64 * KiB);
    expect(await resumed.close()).toBe(64 * KiB);
    for (const name of filesOf(key))
      expect(statSync(join(made.folder, name)).mtimeMs).toBeGreaterThan(Date.now() + 7 * DAY);
    // Fifteen days on it was last used seven days ago: kept; twenty-one days on: stale.
    const later = new PartialStore(made.folder, { ...small, now: daysOn(15), staleAfterMs: 10 * DAY });
    expect(await later.removeStale()).toEqual([]);
    expect(await later.held(key)).toBe(64 * KiB);
    const muchLater = new PartialStore(made.folder, { ...small, now: daysOn(21), staleAfterMs: 10 * DAY });
    expect(await muchLater.removeStale()).toEqual([partialId(key)]);
  });

  it('refuses a staleAfterMs that is not positive', () => {
    for (const staleAfterMs of [0, -1, Number.NaN])
      expect(() => new PartialStore('/nonexistent', { staleAfterMs })).toThrow(/staleAfterMs/);
  });
});

describe('FileLink and stale partials', () => {
  it('removes them when it opens its download folder, before it looks at what it holds', async () => {
    const src = folder('stale-src');
    const dst = folder('stale-dst');
    const staleData = randomData(100 * KiB, 10);
    const stale = await interrupted(
      new PartialStore(dst.folder, small),
      staleData,
      64 * KiB,
      keyOf(staleData, BOB),
    );
    age(dst.folder, stale, 8 * DAY);
    writeFileSync(join(src.folder, 'new.txt'), 'hello');
    const options = { port: 0, host: '127.0.0.1', streams: true, files: true } as const;
    const a = await NetchatPeer.listen(options);
    const b = await NetchatPeer.listen(options);
    const sending = new FileLink(a);
    const receiving = new FileLink(b, { downloadFolder: dst.folder });
    cleanups.push(async () => {
      await Promise.all([sending.close(), receiving.close()]);
      await Promise.all([a.close(100), b.close(100)]);
    });
    b.on('request', (e) => b.accept(e.session));
    expect(dst.entries()).toEqual(filesOf(stale));
    const session = await new Promise<number>((resolve) => {
      a.once('features', (e) => resolve(e.session));
      a.connectTo(b.address);
    });
    const offered = nextEvent(receiving, 'file_offer');
    await sending.offer(session, [join(src.folder, 'new.txt')]);
    await offered;
    await receiving.close();
    expect(dst.entries()).toEqual([]);
  }, 30_000);
});

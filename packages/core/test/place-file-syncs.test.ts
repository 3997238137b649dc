/**
 * Files placed in one folder at once share its fsync (place-file.ts, a group commit): each is
 * said to be in place only after a fsync of the folder that began after its name was made, and
 * many at once cost two fsyncs, not one each.
 */
import { describe, expect, it } from 'vitest';
import { GroupedSyncs } from '../src/node/place-file.js';

/** A sync that takes a few turns of the event loop, and what it saw. */
function slowSyncs() {
  const runs: { key: string; began: number; ended: number }[] = [];
  let clock = 0;
  const syncs = new GroupedSyncs(async (key) => {
    const run = { key, began: ++clock, ended: 0 };
    runs.push(run);
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    run.ended = ++clock;
  });
  return { syncs, runs, tick: () => ++clock };
}

describe('GroupedSyncs: a folder fsync shared by the files placed at once', () => {
  it('20 files at once: two fsyncs, and each asker is served by one that began after it asked', async () => {
    const { syncs, runs, tick } = slowSyncs();
    const asked: Promise<{ at: number; done: number }>[] = [];
    for (let i = 0; i < 20; i++) {
      const at = tick();
      asked.push(syncs.sync('/downloads/tree/d0').then(() => ({ at, done: tick() })));
    }
    const served = await Promise.all(asked);
    expect(runs).toHaveLength(2);
    for (const { at, done } of served)
      expect(
        runs.some((r) => r.began > at && r.ended < done),
        `asked at ${at}`,
      ).toBe(true);
    expect(syncs.size).toBe(0); // nothing kept once all ended
  });

  it('one that asks while a fsync runs waits for the next; other folders go on their own', async () => {
    const { syncs, runs } = slowSyncs();
    const first = syncs.sync('/a');
    await new Promise((resolve) => setImmediate(resolve)); // the first fsync has begun
    const later = syncs.sync('/a');
    const other = syncs.sync('/b');
    await Promise.all([first, later, other]);
    expect(runs.map((r) => r.key)).toEqual(['/a', '/b', '/a']);
    expect(runs[2]?.began).toBeGreaterThan(runs[0]?.ended ?? Number.POSITIVE_INFINITY);
  });
});

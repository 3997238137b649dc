/**
 * The attacker's test of what a file stopped short keeps (partial-file.ts keepDurable), on a real
 * temp disk: a stranger offers the same content again and again, each time sending a little more
 * and then making it stop (the chat dropped, or the disk failing: a data sync or a state save
 * refused with ENOSPC or EIO, at the finish or before it), so every state the stranger's earlier
 * offers shaped is gone on from. After each round, whatever stopped it: the partial holds exactly
 * what its state records (never more), a partial is never left without its state nor a state
 * without its partial, no temporary is left, no descriptor stays open, and what is kept never
 * shrinks below what an earlier round kept durably unless nothing was (then nothing is left).
 * Finally the file arrives whole from what was kept.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { PartialStore } from '../src/index.js';
import { partialId, partialPaths, readState, saveStateDurably } from '../src/node/partial-state.js';
import { feed, keyOf, randomData, temporaryFolder } from './support/partial-files.js';
import { seededRandom } from './support/random.js';

const KiB = 1024;

let folders: ReturnType<typeof temporaryFolder>[] = [];
afterEach(() => {
  for (const made of folders) made.remove();
  folders = [];
});

const openDescriptors = () => readdirSync('/proc/self/fd').length;

type Stop = 'close' | 'sync fails midway' | 'state save fails' | 'sync fails at the finish';
const STOPS: readonly Stop[] = ['close', 'sync fails midway', 'state save fails', 'sync fails at the finish'];

describe('a file stopped short, again and again, by a stranger', () => {
  it('keeps exactly what its state records each time, and arrives whole at the end', async () => {
    const made = temporaryFolder('durable-rounds');
    folders.push(made);
    const data = randomData(600 * KiB + 11, 5);
    const key = keyOf(data);
    const paths = partialPaths(made.folder, partialId(key));
    const random = seededRandom(77);
    const descriptorsBefore = openDescriptors();
    const ROUNDS = 24;
    let failSync = false;
    let failSave = false;
    const refused = () =>
      Object.assign(new Error('ENOSPC: no space left on device'), {
        code: random() < 0.5 ? 'ENOSPC' : 'EIO',
      });
    const store = new PartialStore(made.folder, {
      bufferBytes: 8 * KiB,
      syncEveryBytes: 16 * KiB,
      io: {
        sync: async (handle: FileHandle) => {
          if (failSync) throw refused();
          await handle.datasync();
        },
        saveState: async (where, text) => {
          if (failSave) throw refused();
          await saveStateDurably(where.state, where.temporary, text);
        },
      },
    });
    let keptBefore = 0;
    const stops = new Map<Stop, number>();
    const kept: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      failSync = false;
      failSave = false;
      const file = await store.open(key, 'x.bin');
      expect(file.offset).toBe(keptBefore);
      // The finish's failures in the second half only: a jump to the end would leave the first
      // half no bytes to go on with.
      const choices = round < ROUNDS / 2 ? STOPS.slice(0, 3) : STOPS;
      const stop = choices[Math.floor(random() * choices.length)] ?? 'close';
      // A little more each round, stopped halfway through by the failure chosen.
      const upTo = Math.min(data.length - 1, file.offset + Math.floor(random() * 40 * KiB) + 1);
      const midway = file.offset + Math.floor((upTo - file.offset) / 2);
      stops.set(stop, (stops.get(stop) ?? 0) + 1);
      if (stop === 'sync fails at the finish') {
        await feed(file, data, file.offset, data.length).catch(() => {});
        failSync = true;
        await file.finish().then(
          () => expect.unreachable('a finish whose sync failed placed the file'),
          () => {},
        );
      } else {
        await feed(file, data, file.offset, midway).catch(() => {});
        if (stop === 'sync fails midway') failSync = true;
        if (stop === 'state save fails') failSave = true;
        await feed(file, data, midway, upTo).catch(() => {});
        await file.close().catch(() => {});
      }

      // What is kept: the state's held, exactly, in a partial of that size; or nothing at all.
      const state = await readState(paths.state);
      const hasData = existsSync(paths.data);
      if (state) {
        expect(hasData).toBe(true);
        expect(statSync(paths.data).size).toBe(state.held);
        expect(await store.held(key)).toBe(state.held);
        // Never less than what a round before kept durably (its state is only ever moved on).
        expect(state.held).toBeGreaterThanOrEqual(keptBefore);
        keptBefore = state.held;
        kept.push(state.held);
      } else {
        expect(hasData).toBe(false);
        expect(keptBefore).toBe(0);
      }
      expect(made.entries().filter((e) => e.endsWith('.tmp'))).toEqual([]);
      expect(made.entries().every((e) => e.startsWith('.netchat-'))).toBe(true);
      expect(openDescriptors()).toBeLessThanOrEqual(descriptorsBefore);
    }

    // Not vacuous: every kind of stop was tried, and what was kept moved on through the rounds.
    for (const stop of STOPS) expect(stops.get(stop) ?? 0).toBeGreaterThan(0);
    expect(new Set(kept).size).toBeGreaterThan(ROUNDS / 4);
    failSync = false;
    failSave = false;
    const last = await store.open(key, 'x.bin');
    expect(last.offset).toBe(keptBefore);
    await feed(last, data);
    const placed = await last.finish();
    expect(readFileSync(placed.path).equals(data)).toBe(true);
    expect(made.entries()).toEqual(['x.bin']);
    expect(openDescriptors()).toBeLessThanOrEqual(descriptorsBefore);
  });
});

/** The sender's record of unfinished offers: kept across runs, bounded, checked on read, writes that fail are told. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MAX_OUTGOING_OFFERS,
  MAX_OUTGOING_OFFERS_PER_PEER,
  NetchatError,
  OUTGOING_TRANSFERS_FILE,
  type OutgoingOffer,
  OutgoingTransfers,
  type SaveFailure,
} from '../src/index.js';
import { ALICE, BOB, temporaryFolder } from './support/partial-files.js';

const hash = 'cd'.repeat(32);
function offer(peerKey: string, offerId: string, files = 2): OutgoingOffer {
  return {
    peerKey,
    offerId,
    created: '2026-11-24T10:00:00.000Z',
    files: Array.from({ length: files }, (_, i) => ({
      path: `photos/${i}.jpg`,
      source: `/home/ann/photos/${i}.jpg`,
      size: 1000 + i,
      hash,
      mtimeMs: 1_700_000_000_000,
      confirmed: 0,
    })),
  };
}

/** A scheduler the test runs by hand. */
function manualSchedule() {
  const waiting: (() => void)[] = [];
  return {
    schedule: (save: () => void) => {
      waiting.push(save);
    },
    runAll: () => {
      for (const save of waiting.splice(0)) save();
    },
    count: () => waiting.length,
  };
}

let made: ReturnType<typeof temporaryFolder> | undefined;
afterEach(() => made?.remove());

describe('OutgoingTransfers', () => {
  it('keeps unfinished offers across runs, with what the receiver confirmed, until each file is done', () => {
    made = temporaryFolder('outgoing');
    const timers = manualSchedule();
    const record = OutgoingTransfers.load(made.folder, { schedule: timers.schedule });
    expect(record.loadProblem).toBeUndefined();
    expect(record.record(offer(BOB, 'o1'))).toEqual([]);
    record.record(offer(ALICE, 'o2', 1));
    record.confirm(BOB, 'o1', 'photos/1.jpg', 600);
    // Per-file changes wait to be saved together.
    expect(timers.count()).toBe(1);
    record.fileDone(BOB, 'o1', 'photos/0.jpg');
    expect(timers.count()).toBe(1);
    expect(OutgoingTransfers.load(made.folder).forPeer(BOB)[0]?.files).toHaveLength(2);
    timers.runAll();

    const again = OutgoingTransfers.load(made.folder);
    expect(again.forPeer(BOB)).toEqual([
      { ...offer(BOB, 'o1'), files: [{ ...offer(BOB, 'o1').files[1], confirmed: 600 }] },
    ]);
    expect(again.forPeer(ALICE)).toHaveLength(1);
    // The last file done: the offer is forgotten at once.
    again.fileDone(BOB, 'o1', 'photos/1.jpg');
    expect(OutgoingTransfers.load(made.folder).forPeer(BOB)).toEqual([]);
    again.remove(ALICE, 'o2');
    expect(OutgoingTransfers.load(made.folder).all()).toEqual([]);
  });

  it("a file's content verified in any offer to a peer leaves that peer's other unfinished offers", () => {
    made = temporaryFolder('outgoing');
    const record = OutgoingTransfers.load(made.folder);
    record.record(offer(BOB, 'o1')); // photos/0.jpg (1000 bytes) and photos/1.jpg (1001 bytes)
    record.record(offer(BOB, 'o2', 1)); // photos/0.jpg alone, as a /send made anew would
    record.record(offer(ALICE, 'o3', 1));
    // Bob verified the content of photos/0.jpg (in o2): it is in no offer to bob any more, and
    // o2, left with nothing, is forgotten. Alice's copy stays; so does another size.
    record.contentDone(BOB, hash, 1000);
    record.contentDone(BOB, hash, 5);
    const again = OutgoingTransfers.load(made.folder);
    expect(again.forPeer(BOB)).toEqual([{ ...offer(BOB, 'o1'), files: [offer(BOB, 'o1').files[1]] }]);
    expect(again.forPeer(ALICE)).toEqual([offer(ALICE, 'o3', 1)]);
  });

  it('confirmed never exceeds the size; unknown offers and files are ignored', () => {
    const record = OutgoingTransfers.inMemory();
    record.record(offer(BOB, 'o1', 1));
    record.confirm(BOB, 'o1', 'photos/0.jpg', 10 ** 9);
    record.confirm(BOB, 'nope', 'photos/0.jpg', 5);
    record.confirm(BOB, 'o1', 'nope', 5);
    record.fileDone(ALICE, 'o1', 'photos/0.jpg');
    expect(record.forPeer(BOB)[0]?.files[0]?.confirmed).toBe(1000);
  });

  it('is bounded: the oldest offers to a peer, then the oldest of all, are forgotten and returned', () => {
    const record = OutgoingTransfers.inMemory();
    for (let i = 0; i < MAX_OUTGOING_OFFERS_PER_PEER; i++)
      expect(record.record(offer(BOB, `b${i}`))).toEqual([]);
    const forgotten = record.record(offer(BOB, 'one more'));
    expect(forgotten.map((o) => o.offerId)).toEqual(['b0']);
    expect(record.forPeer(BOB)).toHaveLength(MAX_OUTGOING_OFFERS_PER_PEER);
    for (let i = 0; i < MAX_OUTGOING_OFFERS; i++) record.record(offer(`${i}`.padStart(64, '0'), 'x'));
    expect(record.all()).toHaveLength(MAX_OUTGOING_OFFERS);
    expect(record.forPeer(BOB)).toEqual([]);
    // An offer of 10,000 files leaves room for itself only.
    const big = record.record(offer(ALICE, 'big', 10_000));
    expect(big).toHaveLength(MAX_OUTGOING_OFFERS);
    expect(record.all().map((o) => o.offerId)).toEqual(['big']);
  });

  it('a record that is not valid (or not even JSON) is reported and the record starts empty', () => {
    made = temporaryFolder('outgoing');
    const path = join(made.folder, OUTGOING_TRANSFERS_FILE);
    for (const text of ['{', '{"version":1,"offers":[{"peerKey":"../x"}]}', '{"version":2,"offers":[]}']) {
      writeFileSync(path, text);
      const record = OutgoingTransfers.load(made.folder);
      expect(record.loadProblem).toEqual({
        path,
        reason: 'not a valid record of unfinished transfers (it is replaced at the next change)',
      });
      expect(record.all()).toEqual([]);
    }
    // None yet is no problem; one that cannot be read is.
    expect(OutgoingTransfers.load(join(made.folder, 'nothing here')).loadProblem).toBeUndefined();
    mkdirSync(join(made.folder, 'home', OUTGOING_TRANSFERS_FILE), { recursive: true });
    expect(OutgoingTransfers.load(join(made.folder, 'home')).loadProblem).toEqual({
      path: join(made.folder, 'home', OUTGOING_TRANSFERS_FILE),
      reason: 'a folder is where a file should be',
    });
  });

  it('a write that fails is told to the listeners in a few words, never thrown; the record holds in memory', () => {
    made = temporaryFolder('outgoing');
    // A folder where the file's temporary file goes stops root too.
    mkdirSync(join(made.folder, `${OUTGOING_TRANSFERS_FILE}.${process.pid}.tmp`));
    const timers = manualSchedule();
    const record = OutgoingTransfers.load(made.folder, { schedule: timers.schedule });
    const told: SaveFailure[] = [];
    record.onSaveFailure((failure) => told.push(failure));
    expect(() => record.record(offer(BOB, 'o1'))).not.toThrow();
    record.confirm(BOB, 'o1', 'photos/0.jpg', 10);
    expect(() => timers.runAll()).not.toThrow();
    expect(told).toEqual([
      { path: join(made.folder, OUTGOING_TRANSFERS_FILE), reason: 'a folder is where a file should be' },
      { path: join(made.folder, OUTGOING_TRANSFERS_FILE), reason: 'a folder is where a file should be' },
    ]);
    expect(record.lastSaveFailure).toEqual(told[0]);
    expect(record.flush()).toBe(false);
    expect(record.forPeer(BOB)[0]?.files[0]?.confirmed).toBe(10);
  });

  it('flush saves at once what waits to be saved', () => {
    made = temporaryFolder('outgoing');
    const timers = manualSchedule();
    const record = OutgoingTransfers.load(made.folder, { schedule: timers.schedule });
    record.record(offer(BOB, 'o1'));
    record.confirm(BOB, 'o1', 'photos/0.jpg', 77);
    expect(record.flush()).toBe(true);
    const saved = JSON.parse(readFileSync(join(made.folder, OUTGOING_TRANSFERS_FILE), 'utf8'));
    expect(saved.offers[0].files[0].confirmed).toBe(77);
  });

  it('an offer that is not a valid record is a usage error', () => {
    const record = OutgoingTransfers.inMemory();
    expect(() => record.record({ ...offer(BOB, 'o1'), files: [] })).toThrow(NetchatError);
    expect(() => record.record({ ...offer(BOB, 'o1'), peerKey: 'bob' })).toThrow(/peerKey/);
  });
});

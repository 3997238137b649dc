/** The file events as a script reads them (README, "Files in scripts"). */
import { describe, expect, it } from 'vitest';
import { fileEventToJson } from '../src/json-events.js';
import { JSON_PROGRESS_EVERY_MS, JsonProgressGate } from '../src/json-progress.js';

describe('file_progress in --json', () => {
  it('gives the rate in whole bytes a second and the time left to a tenth of a second', () => {
    const line = fileEventToJson({
      type: 'file_progress',
      transfer: 1,
      session: 1,
      direction: 'receive',
      file: 0,
      bytes: 4173,
      size: 200_000_000,
      rate: 157656.73357462737,
      eta: 1268.5523952285316,
    });
    expect(JSON.parse(line ?? '')).toEqual({
      type: 'file_progress',
      transfer: 1,
      session: 1,
      direction: 'receive',
      file: 0,
      bytes: 4173,
      size: 200_000_000,
      rate: 157657,
      eta: 1268.6,
    });
  });

  it('leaves out a time left that is not known yet', () => {
    const line = fileEventToJson({
      type: 'file_progress',
      transfer: 2,
      session: 1,
      direction: 'send',
      file: 0,
      bytes: 0,
      size: 10,
      rate: 0,
      eta: undefined,
    });
    expect(line).toBe(
      '{"type":"file_progress","transfer":2,"session":1,"direction":"send","file":0,"bytes":0,"size":10,"rate":0}',
    );
  });
});

describe('a relayed transfer in --json', () => {
  const offer = {
    type: 'file_offer' as const,
    transfer: 2,
    session: 3,
    direction: 'send' as const,
    offerId: '0123456789abcdef',
    files: [{ path: 'a.bin', offeredPath: 'a.bin', renamed: false, size: 5, hash: 'ab'.repeat(32) }],
    totalSize: 5,
    held: [0],
    resuming: false,
  };

  it('says relayed on the offer and the accept, and only when it is', () => {
    expect(JSON.parse(fileEventToJson(offer as never, true) ?? '')).toMatchObject({
      type: 'file_offer',
      relayed: true,
    });
    expect(JSON.parse(fileEventToJson(offer as never, false) ?? '')).not.toHaveProperty('relayed');
    const accepted = {
      type: 'file_accepted' as const,
      transfer: 2,
      session: 3,
      direction: 'send' as const,
      offset: 0,
    };
    expect(JSON.parse(fileEventToJson(accepted as never, true) ?? '')).toMatchObject({
      relayed: true,
      offset: 0,
    });
    const sent = { type: 'file_sent' as const, transfer: 2, session: 3, direction: 'send' as const, file: 0 };
    expect(JSON.parse(fileEventToJson(sent as never, true) ?? '')).not.toHaveProperty('relayed');
  });
});

describe('an offer that waits in --json', () => {
  it('file_queued says why, with the tries and the wait (absent while it waits for earlier offers); file_offer_sent when it goes', () => {
    const base = { transfer: 9, session: 1, direction: 'send' } as const;
    const waiting = fileEventToJson({
      ...base,
      type: 'file_queued',
      why: 'earlier_offers',
      message: 'waiting for the peer to answer earlier offers',
      tries: 0,
      retryInMs: undefined,
    });
    expect(JSON.parse(waiting ?? '')).toEqual({
      ...base,
      type: 'file_queued',
      why: 'earlier_offers',
      message: 'waiting for the peer to answer earlier offers',
      tries: 0,
    });
    const busy = fileEventToJson({
      ...base,
      type: 'file_queued',
      why: 'peer_busy',
      message: 'the peer has too many offers waiting',
      tries: 2,
      retryInMs: 2000,
    });
    expect(JSON.parse(busy ?? '')).toMatchObject({ why: 'peer_busy', tries: 2, retryInMs: 2000 });
    const sent = fileEventToJson({ ...base, type: 'file_offer_sent', offerId: '0123456789abcdef' });
    expect(JSON.parse(sent ?? '')).toEqual({ ...base, type: 'file_offer_sent', offerId: '0123456789abcdef' });
  });
});

describe('file_progress in --json, about four a second a transfer', () => {
  const progress = (transfer: number, bytes: number, size = 100) =>
    ({
      type: 'file_progress',
      transfer,
      session: 1,
      direction: 'send',
      file: 0,
      bytes,
      size,
      rate: 1,
      eta: undefined,
    }) as const;
  const printed = (gate: JsonProgressGate, event: Parameters<JsonProgressGate['lines']>[0]) =>
    gate.lines(event, JSON.stringify(event)).map((line) => JSON.parse(line));

  it('holds those within 250 ms of the last printed, and prints the newest held just before the end', () => {
    let now = 0;
    const gate = new JsonProgressGate(() => now);
    expect(printed(gate, progress(1, 10))).toHaveLength(1);
    now = 100;
    expect(printed(gate, progress(1, 20))).toEqual([]);
    // Another transfer has a clock of its own.
    expect(printed(gate, progress(2, 5))).toHaveLength(1);
    now = 200;
    expect(printed(gate, progress(1, 30))).toEqual([]);
    now = JSON_PROGRESS_EVERY_MS;
    expect(printed(gate, progress(1, 40)).map((e) => e.bytes)).toEqual([40]);
    now = 300;
    expect(printed(gate, progress(1, 50))).toEqual([]);
    const done = { type: 'file_done', transfer: 1, session: 1, direction: 'send', files: 1, verified: 1 } as const;
    expect(printed(gate, done).map((e) => e.type)).toEqual(['file_progress', 'file_done']);
    expect(printed(gate, done).map((e) => e.type)).toEqual(['file_done']);
  });

  it('prints the first that says every byte is here at once, its repeats as any other', () => {
    let now = 0;
    const gate = new JsonProgressGate(() => now);
    printed(gate, progress(1, 10));
    now = 10;
    expect(printed(gate, progress(1, 100)).map((e) => e.bytes)).toEqual([100]);
    now = 20;
    expect(printed(gate, progress(1, 100))).toEqual([]);
  });
});

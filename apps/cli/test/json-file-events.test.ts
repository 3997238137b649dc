/** The file events as a script reads them (README, "Files in scripts"). */
import { describe, expect, it } from 'vitest';
import { fileEventToJson } from '../src/json-events.js';

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

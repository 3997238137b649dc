/**
 * The file-transfer records (PROTOCOL.md, Files: transfers): the document's vectors decode to
 * their JSON and encode back to their bytes, its invalid ones are refused by the stream reader,
 * its lists of codes are the code's, and the reader takes records however the stream cuts them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  decodeRecord,
  encodeRecord,
  type FileRecord,
  frameRecord,
  OFFER_DECLINE_REASONS,
  RECORD_DEFINITIONS,
  SEND_FAILURES,
  VERDICTS,
} from '../src/index.js';
import { RecordReader } from '../src/files/record-reader.js';
import { seededRandom } from './support/random.js';

const protocol = readFileSync(new URL('../../../PROTOCOL.md', import.meta.url), 'utf8');
const blocks = (kind: string) =>
  [...protocol.matchAll(new RegExp(`\`\`\`${kind}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => {
    const lines = (m[1] ?? '').trim().split('\n');
    const field = (name: string) => lines.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2) ?? '';
    return { bytes: Uint8Array.from(Buffer.from(field('hex').replace(/ /g, ''), 'hex')), json: field('json'), why: field('why') };
  });

const BYTE_FIELDS = ['offer', 'hash'];
const toJson = (record: FileRecord) =>
  JSON.parse(JSON.stringify(record, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)));
const fromJson = (json: string): FileRecord => {
  const value = JSON.parse(json);
  for (const key of BYTE_FIELDS) if (typeof value[key] === 'string') value[key] = Uint8Array.from(Buffer.from(value[key], 'hex'));
  return value;
};

/** Reads every record of `bytes` through a RecordReader, `cut` bytes at a time at most. */
function readAll(bytes: Uint8Array, cut: () => number) {
  const reader = new RecordReader();
  let at = 0;
  const read = (max: number) => {
    const n = Math.min(max, cut(), bytes.length - at);
    const out = bytes.slice(at, at + n);
    at += n;
    return out;
  };
  const results = [];
  for (let r = reader.next(read); r; r = reader.next(read)) {
    results.push(r);
    if ('error' in r) break;
  }
  return { results, left: bytes.length - at };
}

describe('PROTOCOL.md file-transfer vectors', () => {
  const vectors = blocks('files');
  const invalid = blocks('files-invalid');

  it('has a vector for every record and several invalid ones', () => {
    expect(new Set(vectors.map((v) => JSON.parse(v.json).type))).toEqual(new Set(RECORD_DEFINITIONS.map((d) => d.name)));
    expect(invalid.length).toBeGreaterThanOrEqual(8);
  });

  it.each(vectors.map((v) => [JSON.parse(v.json).type, v] as const))('%s decodes and re-encodes', (_t, v) => {
    const { results, left } = readAll(v.bytes, () => 7);
    expect(left).toBe(0);
    expect(results).toHaveLength(1);
    const result = results[0];
    if (!result || !('record' in result)) throw new Error('not a record');
    expect(toJson(result.record)).toEqual(JSON.parse(v.json));
    expect(Buffer.from(frameRecord(fromJson(v.json))).toString('hex')).toBe(Buffer.from(v.bytes).toString('hex'));
  });

  it.each(invalid.map((v) => [v.why, v] as const))('refuses: %s', (_why, v) => {
    const { results } = readAll(v.bytes, () => 1 << 20);
    expect(results).toHaveLength(1);
    expect(results[0]).toHaveProperty('error');
  });

  it('lists the codes the code has, in order', () => {
    const listed = (heading: string) => {
      const line = protocol.slice(protocol.indexOf(heading)).split('\n- ')[0] ?? '';
      return [...line.matchAll(/(\d+)\s+`([a-z_]+)`/g)].map((m) => [Number(m[1]), m[2]]);
    };
    expect(listed('- `decline` reasons:')).toEqual(OFFER_DECLINE_REASONS.map((r, i) => [i, r]));
    expect(listed('- `verdict` results:')).toEqual(VERDICTS.map((r, i) => [i, r]));
    expect(listed('- `file_failed` reasons:')).toEqual(SEND_FAILURES.map((r, i) => [i, r]));
    const table = protocol.slice(protocol.indexOf('| code | record '), protocol.indexOf('- `offer` is the offer'));
    expect([...table.matchAll(/\| (\d+) +\| `([a-z_]+)`/g)].map((m) => [Number(m[1]), m[2]])).toEqual(
      RECORD_DEFINITIONS.map((d) => [d.code, d.name]),
    );
  });
});

describe('the record reader', () => {
  it('takes records however the stream cuts them, and no byte past the last one', () => {
    const records = blocks('files').map((v) => fromJson(v.json));
    const stream = Buffer.concat([...records.map((r) => frameRecord(r)), Buffer.from('file bytes after')]);
    for (const seed of [1, 2, 3]) {
      const next = seededRandom(seed);
      const reader = new RecordReader();
      let at = 0;
      const read = (max: number) => {
        const n = Math.min(max, 1 + Math.floor(next() * 9), stream.length - at);
        at += n;
        return stream.subarray(at - n, at);
      };
      const got: FileRecord[] = [];
      while (got.length < records.length) {
        const r = reader.next(read);
        if (r && 'record' in r) got.push(r.record);
        else if (r) throw new Error(r.error);
      }
      expect(got.map(toJson)).toEqual(records.map(toJson));
      expect(stream.subarray(at).toString()).toBe('file bytes after');
    }
  });

  it('encodes and decodes every record with random values (a seeded round trip)', () => {
    const next = seededRandom(7);
    const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
    const u = (max: number) => Math.floor(next() * max);
    for (let i = 0; i < 300; i++) {
      const offer = bytes(8);
      const candidates: FileRecord[] = [
        { type: 'offer', offer, files: u(2 ** 32), totalSize: u(2 ** 53) },
        { type: 'offer_file', offer, index: u(2 ** 32), size: u(2 ** 53), hash: bytes(32), path: 'é/'.repeat(u(200)) },
        { type: 'accept', offer, held: u(2 ** 53) },
        { type: 'decline', offer, reason: OFFER_DECLINE_REASONS[u(OFFER_DECLINE_REASONS.length)] ?? 'declined' },
        { type: 'want', offer, index: u(2 ** 32), offset: u(2 ** 53) },
        { type: 'data', offer, index: u(2 ** 32), offset: u(2 ** 53) },
        { type: 'verdict', offer, index: u(2 ** 32), result: VERDICTS[u(VERDICTS.length)] ?? 'verified' },
        { type: 'file_failed', offer, index: u(2 ** 32), reason: SEND_FAILURES[u(SEND_FAILURES.length)] ?? 'read_failed' },
        { type: 'cancel_send', offer },
        { type: 'cancel_receive', offer },
      ];
      for (const record of candidates) {
        const decoded = decodeRecord(encodeRecord(record));
        expect(decoded.ok).toBe(true);
        if (decoded.ok) expect(toJson(decoded.record)).toEqual(toJson(record));
      }
    }
    // Garbage never throws.
    for (let i = 0; i < 2000; i++) expect(() => decodeRecord(bytes(u(60)))).not.toThrow();
  });
});

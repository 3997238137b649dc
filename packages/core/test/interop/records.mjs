// Independent netchat peer, written from PROTOCOL.md only (not from packages/core/src).
//
// The files protocol's records (PROTOCOL.md *Files: transfers*, *Records*): their codec, and the
// reader that takes them out of a stream's bytes.

export const RECORD_VERSION = 0x20;
const CODES = {
  offer: 1,
  offer_file: 2,
  accept: 3,
  decline: 4,
  want: 5,
  data: 6,
  verdict: 7,
  file_failed: 8,
  cancel_send: 9,
  cancel_receive: 10,
};
const TYPES = Object.fromEntries(Object.entries(CODES).map(([k, v]) => [v, k]));
export const DECLINE_REASONS = ['declined', 'no_room', 'too_large', 'too_many_offers', 'bad_offer', 'not_allowed'];
export const VERDICTS = [
  'verified',
  'size_mismatch',
  'hash_mismatch',
  'disk_full',
  'write_failed',
  'not_a_folder',
  'no_free_name',
  'busy',
  'stalled',
];
export const FAILURES = ['source_changed', 'read_failed', 'not_a_file'];
const utf8 = new TextEncoder();
// ignoreBOM: a leading U+FEFF is a character of the path (*Transport*), not a mark to drop.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const hex = (b) => Buffer.from(b).toString('hex');

/** A record as it goes on a stream: its u16 length, then the record. */
export function encodeRecord(r) {
  const parts = [];
  const u8 = (x) => parts.push(Uint8Array.of(x));
  const u16 = (x) => parts.push(Uint8Array.of(x >>> 8, x & 255));
  const u32 = (x) => parts.push(Uint8Array.of(x >>> 24, (x >>> 16) & 255, (x >>> 8) & 255, x & 255));
  const u64 = (x) => {
    u32(Math.floor(x / 2 ** 32));
    u32(x % 2 ** 32);
  };
  parts.push(Uint8Array.of(0x4e, 0x43, RECORD_VERSION, CODES[r.type]));
  parts.push(typeof r.offer === 'string' ? Buffer.from(r.offer, 'hex') : r.offer);
  switch (r.type) {
    case 'offer':
      u32(r.files);
      u64(r.totalSize);
      break;
    case 'offer_file': {
      u32(r.index);
      u64(r.size);
      parts.push(typeof r.hash === 'string' ? Buffer.from(r.hash, 'hex') : r.hash);
      const path = utf8.encode(r.path);
      u16(path.length);
      parts.push(path);
      break;
    }
    case 'accept':
      u64(r.held);
      break;
    case 'decline':
      u8(DECLINE_REASONS.indexOf(r.reason));
      break;
    case 'want':
    case 'data':
      u32(r.index);
      u64(r.offset);
      break;
    case 'verdict':
      u32(r.index);
      u8(VERDICTS.indexOf(r.result));
      break;
    case 'file_failed':
      u32(r.index);
      u8(FAILURES.indexOf(r.reason));
      break;
    case 'cancel_send':
    case 'cancel_receive':
      break;
    default:
      throw new TypeError(`encodeRecord: unknown type ${r.type}`);
  }
  const length = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(2 + length);
  out[0] = length >>> 8;
  out[1] = length & 255;
  let at = 2;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One record's bytes (without its length), or undefined if malformed. `offer` and `hash` as hex. */
export function decodeRecord(b) {
  if (b.length < 4 || b[0] !== 0x4e || b[1] !== 0x43 || b[2] !== RECORD_VERSION) return undefined;
  const type = TYPES[b[3]];
  if (!type) return undefined;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let at = 4;
  let failed = false;
  const need = (n) => {
    if (at + n > b.length) failed = true;
    return !failed;
  };
  const u8 = () => (need(1) ? b[at++] : 0);
  const u16 = () => (need(2) ? view.getUint16((at += 2) - 2) : 0);
  const u32 = () => (need(4) ? view.getUint32((at += 4) - 4) : 0);
  const u64 = () => {
    const high = u32();
    const low = u32();
    if (high >= 2 ** 21) failed = true;
    return high * 2 ** 32 + low;
  };
  const bytes = (n) => (need(n) ? b.subarray((at += n) - n, at) : new Uint8Array(0));
  const r = { type, offer: hex(bytes(8)) };
  const oneOf = (list, field) => {
    const v = list[u8()];
    if (v === undefined) failed = true;
    r[field] = v;
  };
  switch (type) {
    case 'offer':
      r.files = u32();
      r.totalSize = u64();
      break;
    case 'offer_file': {
      r.index = u32();
      r.size = u64();
      r.hash = hex(bytes(32));
      const path = bytes(u16());
      if (failed) return undefined;
      try {
        r.path = strictUtf8.decode(path);
      } catch {
        return undefined;
      }
      break;
    }
    case 'accept':
      r.held = u64();
      break;
    case 'decline':
      oneOf(DECLINE_REASONS, 'reason');
      break;
    case 'want':
    case 'data':
      r.index = u32();
      r.offset = u64();
      break;
    case 'verdict':
      r.index = u32();
      oneOf(VERDICTS, 'result');
      break;
    case 'file_failed':
      r.index = u32();
      oneOf(FAILURES, 'reason');
      break;
  }
  if (failed || at !== b.length) return undefined;
  return r;
}

/** Records out of a stream's bytes: `push(bytes)` returns the whole records now readable. */
export class RecordReader {
  constructor() {
    this.buffer = new Uint8Array(0);
    this.broken = false;
  }
  push(bytes) {
    const b = new Uint8Array(this.buffer.length + bytes.length);
    b.set(this.buffer);
    b.set(bytes, this.buffer.length);
    this.buffer = b;
  }
  /** The next record, undefined when more bytes are needed, or 'broken'. */
  next() {
    if (this.broken) return 'broken';
    if (this.buffer.length < 2) return undefined;
    const length = (this.buffer[0] << 8) | this.buffer[1];
    if (length < 4 || length > 2048) {
      this.broken = true;
      return 'broken';
    }
    if (this.buffer.length < 2 + length) return undefined;
    const r = decodeRecord(this.buffer.subarray(2, 2 + length));
    this.buffer = this.buffer.subarray(2 + length);
    if (!r) {
      this.broken = true;
      return 'broken';
    }
    return r;
  }
  /** Bytes after the records read so far (a data stream's file bytes). */
  take() {
    const b = this.buffer;
    this.buffer = new Uint8Array(0);
    return b;
  }
}


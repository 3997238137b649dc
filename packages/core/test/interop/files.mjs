// Independent netchat peer, written from PROTOCOL.md only (not from packages/core/src).
//
// Files over streams (PROTOCOL.md *Files: transfers*): the records and their codec, one control
// stream a side, a data stream per file; receiving an offer (accept or decline, `want` each file,
// check size and BLAKE2b-256, `verdict`) and sending one (`offer`, `offer_file`s, a data stream
// per `want`). Offered paths are mapped to safe ones, or the offer refused (*Files: names*:
// names.mjs). Files are held in memory unless the peer has a download folder (downloads.mjs).

import crypto from 'node:crypto';
import { blake2b } from './blake2b.mjs';
import { checkOfferPaths } from './names.mjs';

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
];
export const FAILURES = ['source_changed', 'read_failed', 'not_a_file'];
const CODE_CANCELLED = 1;
const CODE_PROTOCOL = 3;
const MAX_FILES = 10_000;
const MAX_OFFER_PATHS = 2 * 1024 * 1024;

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const hex = (b) => Buffer.from(b).toString('hex');

// ---- the records ---------------------------------------------------------------------------------

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
class RecordReader {
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

// ---- one session's files ---------------------------------------------------------------------------

export class FilesSession {
  /** `streams`: the session's StreamSession; `events`: (type, fields) for the application. */
  constructor(streams, { onOffer }) {
    this.streams = streams;
    this.onOffer = onOffer ?? (() => 'accept');
    this.control = undefined; // our control stream's id
    this.peerControl = undefined; // the peer's control stream's id
    this.readers = new Map(); // the peer's stream id -> { reader, kind: undefined | 'control' | 'data', file }
    this.incoming = new Map(); // offer id (hex) -> the peer's offer
    this.outgoing = new Map(); // offer id (hex) -> our offer
    this.stats = { ignored: 0, brokenStreams: 0, stoppedStreams: 0 };
  }

  emit(type, fields) {
    this.streams.session.emit(type, fields);
  }

  say(record) {
    if (this.control === undefined) this.control = this.streams.open();
    this.streams.write(this.control, encodeRecord(record));
  }

  // ---- stream events -------------------------------------------------------------------------------

  onStreamEvent(type, e) {
    if (type === 'stream_opened') this.readers.set(e.stream, { reader: new RecordReader(), kind: undefined });
    else if (type === 'stream_readable') this.readFrom(e.stream);
    else if (type === 'stream_finished' && e.direction === 'receive') this.finished(e.stream);
    else if (type === 'stream_cancelled') this.cancelled(e);
  }

  readFrom(id) {
    const s = this.readers.get(id);
    if (!s) return;
    for (let i = 0; i < 100_000; i++) {
      const bytes = this.streams.read(id, 1 << 20);
      if (bytes.length === 0) break;
      if (s.kind === 'data') this.fileBytes(id, s, bytes);
      else s.reader.push(bytes);
      if (s.kind !== 'data') this.records(id, s);
    }
  }

  records(id, s) {
    for (let i = 0; i < 100_000; i++) {
      const r = s.reader.next();
      if (r === undefined) return;
      if (r === 'broken') {
        if (s.kind === 'control') this.broken(id);
        else this.stop(id, CODE_PROTOCOL); // its first bytes are not a record
        return;
      }
      if (s.kind === undefined) {
        if (r.type === 'data') {
          s.kind = 'data';
          this.dataStream(id, s, r);
          const rest = s.reader.take();
          if (rest.length > 0 && s.kind === 'data') this.fileBytes(id, s, rest);
          return;
        }
        if (this.peerControl !== undefined) {
          this.stop(id, CODE_PROTOCOL); // a second control stream
          return;
        }
        s.kind = 'control';
        this.peerControl = id;
      }
      if (r.type === 'data') {
        this.broken(id); // a `data` on a control stream
        return;
      }
      this.onRecord(r);
    }
  }

  stop(id, code) {
    this.stats.stoppedStreams++;
    this.readers.delete(id);
    this.streams.cancel(id, code);
  }

  /** The peer's control stream broke: stop it; every offer of the session fails. */
  broken(id) {
    this.stats.brokenStreams++;
    this.stop(id, CODE_PROTOCOL);
    for (const o of [...this.incoming.values(), ...this.outgoing.values()]) this.end(o, 'failed');
  }

  end(o, state) {
    if (o.state === 'done' || o.state === state) return;
    o.state = state;
    for (const f of o.files) {
      if (f.stream !== undefined && !f.settled) this.streams.cancel(f.stream, CODE_CANCELLED);
    }
    (o.mine ? this.outgoing : this.incoming).delete(o.id);
    this.emit('offer_ended', { offer: o.id, state, mine: o.mine });
  }

  // ---- records on the peer's control stream ---------------------------------------------------------

  onRecord(r) {
    const theirs = this.incoming.get(r.offer);
    const ours = this.outgoing.get(r.offer);
    // An offer's list must go on uninterrupted (*Offering*, step 2).
    const collecting = [...this.incoming.values()].find((o) => o.state === 'collecting');
    if (collecting && !(r.offer === collecting.id && (r.type === 'offer_file' || r.type === 'cancel_send'))) {
      this.broken(this.peerControl);
      return;
    }
    switch (r.type) {
      case 'offer':
        if (theirs || this.seen?.has(r.offer)) {
          this.broken(this.peerControl);
          return;
        }
        this.seen ??= new Set();
        this.seen.add(r.offer);
        this.incoming.set(r.offer, {
          id: r.offer,
          mine: false,
          state: 'collecting',
          count: r.files,
          totalSize: r.totalSize,
          files: [],
          pathBytes: 0,
        });
        if (r.files === 0) this.listed(this.incoming.get(r.offer));
        return;
      case 'offer_file': {
        const o = theirs;
        if (!o || r.index !== o.files.length) {
          this.broken(this.peerControl);
          return;
        }
        o.pathBytes += utf8.encode(r.path).length;
        o.files.push({ index: r.index, size: r.size, hash: r.hash, path: r.path, state: 'waiting' });
        if (o.files.length === o.count) this.listed(o);
        return;
      }
      case 'cancel_send':
        if (theirs) this.end(theirs, 'cancelled');
        else this.stats.ignored++;
        return;
      case 'accept':
        if (ours?.state === 'offered' && r.held <= ours.totalSize) {
          ours.state = 'accepted';
          this.emit('offer_accepted', { offer: ours.id, held: r.held });
        } else this.stats.ignored++;
        return;
      case 'decline':
        if (ours?.state === 'offered') {
          this.emit('offer_declined', { offer: ours.id, reason: r.reason });
          this.end(ours, 'declined');
        } else this.stats.ignored++;
        return;
      case 'want':
        this.onWant(ours, r);
        return;
      case 'verdict':
        this.onVerdict(ours, r);
        return;
      case 'cancel_receive':
        if (ours) this.end(ours, 'cancelled');
        else this.stats.ignored++;
        return;
      case 'file_failed': {
        const f = theirs?.state === 'accepted' ? theirs.files[r.index] : undefined;
        if (!f || f.settled) {
          this.stats.ignored++;
          return;
        }
        f.settled = true;
        f.state = 'failed';
        if (f.stream !== undefined) this.streams.cancel(f.stream, CODE_CANCELLED);
        this.emit('file_failed', { offer: theirs.id, index: r.index, reason: r.reason });
        this.maybeDone(theirs);
        return;
      }
    }
  }

  // ---- receiving an offer ----------------------------------------------------------------------------

  listed(o) {
    const sum = o.files.reduce((n, f) => n + f.size, 0);
    const names = checkOfferPaths(o.files.map((f) => f.path));
    let bad;
    if (o.count === 0 || o.count > MAX_FILES || sum !== o.totalSize) bad = 'bad_offer';
    else if (names.reason) bad = 'bad_offer'; // unsafe_name, duplicate_path, path_conflict
    else if (o.pathBytes > MAX_OFFER_PATHS) bad = 'too_many_offers';
    if (bad) {
      this.say({ type: 'decline', offer: o.id, reason: bad });
      this.emit('offer_refused', { offer: o.id, reason: bad, names: names.reason && names });
      this.end(o, 'declined');
      return;
    }
    o.files.forEach((f, i) => {
      f.safePath = names.mapped[i];
    });
    o.state = 'offered';
    const shown = o.files.map(({ path, safePath, size, hash }) => ({
      path,
      safePath,
      changed: safePath !== path,
      size,
      hash,
    }));
    this.emit('file_offer', { offer: o.id, files: shown });
    const answer = this.onOffer({ id: o.id, files: shown });
    if (answer === 'accept') this.acceptOffer(o.id);
    else if (answer) this.declineOffer(o.id, answer);
  }

  acceptOffer(id) {
    const o = this.incoming.get(id);
    if (o?.state !== 'offered') throw new Error(`files: offer ${id} is not waiting for an answer`);
    o.state = 'accepted';
    this.say({ type: 'accept', offer: id, held: 0 });
    for (const f of o.files) {
      f.state = 'wanted';
      this.say({ type: 'want', offer: id, index: f.index, offset: 0 });
    }
  }

  declineOffer(id, reason = 'declined') {
    const o = this.incoming.get(id);
    if (o?.state !== 'offered') throw new Error(`files: offer ${id} is not waiting for an answer`);
    this.say({ type: 'decline', offer: id, reason });
    this.end(o, 'declined');
  }

  /** A data stream's first record: a file we asked for whose data has not begun, from our offset. */
  dataStream(id, s, r) {
    const o = this.incoming.get(r.offer);
    const f = o?.state === 'accepted' ? o.files[r.index] : undefined;
    if (!f || f.state !== 'wanted' || r.offset !== 0) {
      this.stop(id, CODE_PROTOCOL);
      return;
    }
    f.state = 'moving';
    f.stream = id;
    f.parts = [];
    f.bytes = 0;
    s.file = { offer: o, file: f };
  }

  fileBytes(id, s, bytes) {
    const { offer, file } = s.file;
    file.bytes += bytes.length;
    if (file.bytes > file.size) {
      this.stop(id, CODE_PROTOCOL);
      this.settle(offer, file, 'size_mismatch');
      return;
    }
    file.parts.push(bytes);
  }

  /** The peer's stream was read to its end. */
  finished(id) {
    const s = this.readers.get(id);
    this.readers.delete(id);
    if (s?.kind !== 'data' || !s.file) return;
    const { offer, file } = s.file;
    if (file.settled) return;
    if (file.bytes !== file.size) {
      this.settle(offer, file, 'size_mismatch');
      return;
    }
    const content = Buffer.concat(file.parts);
    const verdict = hex(blake2b(content, 32)) === file.hash ? 'verified' : 'hash_mismatch';
    file.content = content;
    this.settle(offer, file, verdict);
  }

  settle(o, f, result) {
    f.settled = true;
    f.state = result === 'verified' ? 'verified' : 'failed';
    this.say({ type: 'verdict', offer: o.id, index: f.index, result });
    this.emit('file_received', { offer: o.id, index: f.index, path: f.path, result, content: f.content });
    this.maybeDone(o);
  }

  maybeDone(o) {
    if (!o.files.every((f) => f.settled)) return;
    o.state = 'done';
    (o.mine ? this.outgoing : this.incoming).delete(o.id);
    this.emit('offer_done', { offer: o.id, mine: o.mine, verified: o.files.filter((f) => f.state === 'verified').length });
  }

  cancelled(e) {
    if (e.direction === 'send' && e.stream === this.control && e.by === 'peer') {
      // The peer stopped our control stream (it broke the files protocol, *Broken streams*): every
      // offer of the session fails, and no other control stream may be opened.
      this.stats.controlStopped = (this.stats.controlStopped ?? 0) + 1;
      for (const o of [...this.incoming.values(), ...this.outgoing.values()]) this.end(o, 'failed');
      return;
    }
    if (e.direction !== 'receive') return;
    const s = this.readers.get(e.stream);
    this.readers.delete(e.stream);
    if (s?.kind === 'control' || e.stream === this.peerControl) {
      for (const o of [...this.incoming.values(), ...this.outgoing.values()]) this.end(o, 'failed');
    }
  }

  // ---- sending an offer ------------------------------------------------------------------------------

  /** Offers `files` ([{ path, content }]); returns the offer's id (hex). */
  offer(files) {
    const id = crypto.randomBytes(8).toString('hex');
    const o = {
      id,
      mine: true,
      state: 'offered',
      totalSize: files.reduce((n, f) => n + f.content.length, 0),
      files: files.map((f, index) => ({
        index,
        path: f.path,
        content: f.content,
        size: f.content.length,
        hash: hex(blake2b(f.content, 32)),
      })),
      queue: [],
      writing: false,
    };
    this.outgoing.set(id, o);
    this.say({ type: 'offer', offer: id, files: o.files.length, totalSize: o.totalSize });
    for (const f of o.files) this.say({ type: 'offer_file', offer: id, index: f.index, size: f.size, hash: f.hash, path: f.path });
    return id;
  }

  onWant(o, r) {
    const f = o?.state === 'accepted' ? o.files[r.index] : undefined;
    if (!f || f.wanted || r.offset > f.size) {
      this.stats.ignored++;
      return;
    }
    f.wanted = true;
    // One stream per file; this peer holds every byte it writes, so each goes at once.
    f.stream = this.streams.open();
    this.streams.write(f.stream, encodeRecord({ type: 'data', offer: o.id, index: f.index, offset: r.offset }));
    this.streams.write(f.stream, f.content.subarray(r.offset));
    this.streams.finish(f.stream);
    f.written = true;
  }

  onVerdict(o, r) {
    const f = o?.state === 'accepted' ? o.files[r.index] : undefined;
    if (!f || f.settled || (r.result === 'verified' && !f.written)) {
      this.stats.ignored++;
      return;
    }
    f.settled = true;
    f.state = r.result === 'verified' ? 'verified' : 'failed';
    this.emit('file_verdict', { offer: o.id, index: f.index, path: f.path, result: r.result });
    this.maybeDone(o);
  }
}

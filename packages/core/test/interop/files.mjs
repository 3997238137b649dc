// Independent netchat peer, written from PROTOCOL.md only (not from packages/core/src).
//
// Files over streams (PROTOCOL.md *Files: transfers*): one control stream a side, a data stream per file; receiving an offer (accept or decline, `want` each file,
// check size and BLAKE2b-256, `verdict`) and sending one (`offer`, `offer_file`s, a data stream
// per `want`); offers interrupted by the session's end, and made again (a resume). The records'
// codec is records.mjs. Offered paths are mapped to safe ones, or the offer refused (*Files: names*:
// names.mjs). Files are held in memory unless the peer has a download folder (downloads.mjs).

import crypto from 'node:crypto';
import { blake2b } from './blake2b.mjs';
import { MemoryFiles } from './downloads.mjs';
import { checkOfferPaths } from './names.mjs';
import { encodeRecord, RecordReader } from './records.mjs';

const CODE_CANCELLED = 1;
const CODE_FAILED = 2;
const CODE_PROTOCOL = 3;
const MAX_FILES = 10_000;
const MAX_OFFER_PATHS = 2 * 1024 * 1024;

const utf8 = new TextEncoder();
const hex = (b) => Buffer.from(b).toString('hex');

// ---- one session's files ---------------------------------------------------------------------------

export class FilesSession {
  /**
   * `streams`: the session's StreamSession; `onOffer` answers an offer; `store` keeps what arrives
   * (downloads.mjs); `unfinished`: the peer's record of our offers interrupted, by peer key.
   */
  constructor(streams, { onOffer, store, unfinished }) {
    this.streams = streams;
    this.onOffer = onOffer ?? (() => 'accept');
    this.store = store ?? new MemoryFiles();
    this.unfinished = unfinished ?? new Map();
    this.reoffered = false;
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
        f.handle?.remove();
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
      f.key = { senderKey: this.peerKey, hash: f.hash, size: f.size };
      f.held = this.store.held(f.key); // a resume: the bytes of it held durably from this sender
    });
    o.state = 'offered';
    const shown = o.files.map(({ path, safePath, size, hash, held }) => ({
      path,
      safePath,
      changed: safePath !== path,
      size,
      hash,
      held,
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
    this.say({ type: 'accept', offer: id, held: o.files.reduce((n, f) => n + f.held, 0) });
    for (const f of o.files) {
      f.state = 'wanted';
      this.say({ type: 'want', offer: id, index: f.index, offset: f.held });
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
    if (!f || f.state !== 'wanted' || r.offset !== f.held) {
      this.stop(id, CODE_PROTOCOL);
      return;
    }
    f.state = 'moving';
    f.stream = id;
    s.file = { offer: o, file: f };
    try {
      f.handle = this.store.open(f.key, f.held);
    } catch {
      this.stop(id, CODE_FAILED);
      this.settle(o, f, 'write_failed');
      return;
    }
    this.emit('file_started', { offer: o.id, index: f.index, offset: f.held });
  }

  fileBytes(id, s, bytes) {
    const { offer, file } = s.file;
    if (file.settled) return;
    if (file.handle.received + bytes.length > file.size) {
      this.stop(id, CODE_PROTOCOL);
      this.settle(offer, file, 'size_mismatch');
      return;
    }
    file.handle.write(bytes);
    this.emit('file_bytes', { offer: offer.id, index: file.index, received: file.handle.received });
  }

  /** The peer's stream was read to its end. */
  finished(id) {
    const s = this.readers.get(id);
    this.readers.delete(id);
    if (s?.kind !== 'data' || !s.file) return;
    const { offer, file } = s.file;
    if (file.settled) return;
    if (!file.handle || file.handle.received !== file.size) {
      this.settle(offer, file, 'size_mismatch');
      return;
    }
    const placed = file.handle.finish(file.key, file.safePath);
    file.content = placed.content;
    file.placedAt = placed.path;
    this.settle(offer, file, placed.result);
  }

  settle(o, f, result) {
    f.settled = true;
    f.state = result === 'verified' ? 'verified' : 'failed';
    if (result !== 'verified') f.handle?.remove();
    this.say({ type: 'verdict', offer: o.id, index: f.index, result });
    this.emit('file_received', {
      offer: o.id,
      index: f.index,
      path: f.path,
      placedAt: f.placedAt,
      result,
      content: f.content,
    });
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

  /** Offers `files` ([{ path, content }]); returns the offer's id (hex): new, or an unfinished one's. */
  offer(files, id = crypto.randomBytes(8).toString('hex')) {
    const o = {
      id,
      mine: true,
      state: 'offered',
      totalSize: files.reduce((n, f) => n + f.content.length, 0),
      files: files.map((f, index) => ({
        index,
        path: f.path,
        source: f,
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
    this.emit('file_wanted', { offer: o.id, index: f.index, offset: r.offset });
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
    f.result = r.result;
    f.state = r.result === 'verified' ? 'verified' : 'failed';
    this.emit('file_verdict', { offer: o.id, index: f.index, path: f.path, result: r.result });
    this.maybeDone(o);
  }

  // ---- session end, and resume (*Session end, and resume*) --------------------------------------------

  /** The peer's static key (hex): what, with hash and size, names a file for resume. */
  get peerKey() {
    return this.streams.session.peerKey;
  }

  /**
   * The session left `open`: each offer not done is interrupted. What we received is made durable
   * and kept; our offers not done are recorded (their files not yet verified) to be made again.
   */
  sessionEnded() {
    for (const o of [...this.incoming.values()]) {
      for (const f of o.files) if (!f.settled) f.handle?.interrupt();
      this.interrupt(o);
    }
    for (const o of [...this.outgoing.values()]) {
      const left = o.files.filter((f) => !f.settled || f.result === 'disk_full').map((f) => f.source);
      if (left.length > 0) {
        const record = this.unfinished.get(this.peerKey) ?? new Map();
        record.set(o.id, left);
        this.unfinished.set(this.peerKey, record);
      }
      this.interrupt(o);
    }
  }

  interrupt(o) {
    o.state = 'interrupted';
    (o.mine ? this.outgoing : this.incoming).delete(o.id);
    this.emit('offer_ended', { offer: o.id, state: 'interrupted', mine: o.mine });
  }

  /** Files are on in this session: our unfinished offers to this peer's key go again, same ids. */
  offerAgain() {
    if (this.reoffered || !this.streams.filesEnabled) return;
    this.reoffered = true;
    const record = this.unfinished.get(this.peerKey);
    if (!record) return;
    this.unfinished.delete(this.peerKey);
    for (const [id, files] of record) {
      this.offer(files, id);
      this.emit('offer_again', { offer: id, files: files.length });
    }
  }
}

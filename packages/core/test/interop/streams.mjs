// Independent netchat peer, written from PROTOCOL.md only (not from packages/core/src).
//
// A session's capabilities and streams (PROTOCOL.md *Capabilities*, *Streams*): `features` when
// the document says, stream ids and limits, receiving (bytes in place, in order, each once; credit
// as the application reads), sending (within the peer's credit, lost bytes first), cancelling.
// Packets, acknowledgements and the window are the path's (path.mjs).

import { FilesSession } from './files.mjs';
import { StreamPath } from './path.mjs';

export const FEATURE_STREAMS = 1;
export const FEATURE_FILES = 2;
export const FEATURE_LARGE_DATAGRAMS = 4;
export const FLAG_ASK = 1;
const MAX_PIECES = 256; // pieces held out of order per stream; a packet needing more is not taken

/** [lo, hi) byte intervals, merged. */
class ByteRanges {
  constructor() {
    this.list = [];
  }
  add(lo, hi) {
    if (hi <= lo) return;
    const out = [];
    for (const [a, b] of this.list) {
      if (b < lo || a > hi) out.push([a, b]);
      else {
        lo = Math.min(lo, a);
        hi = Math.max(hi, b);
      }
    }
    out.push([lo, hi]);
    out.sort((x, y) => x[0] - y[0]);
    this.list = out;
  }
  covers(lo, hi) {
    return hi <= lo || this.list.some(([a, b]) => a <= lo && hi <= b);
  }
  /** The parts of [lo, hi) not in the set. */
  missing(lo, hi) {
    const out = [];
    let at = lo;
    for (const [a, b] of this.list) {
      if (b <= at) continue;
      if (a >= hi) break;
      if (a > at) out.push([at, Math.min(a, hi)]);
      at = Math.max(at, b);
      if (at >= hi) break;
    }
    if (at < hi) out.push([at, hi]);
    return out;
  }
}

export class StreamSession {
  constructor(session) {
    this.session = session;
    this.endpoint = session.endpoint;
    const o = this.endpoint.options;
    this.local = { files: o.files, large: o.largeDatagrams, window: o.streamWindow, maxStreams: o.maxStreams };
    // With the `files` option the files layer takes every stream of the session (*Files: transfers*).
    this.files = o.files
      ? new FilesSession(this, {
          onOffer: o.onOffer,
          store: this.endpoint.fileStore,
          unfinished: this.endpoint.unfinishedOffers,
        })
      : undefined;
    this.peer = undefined; // the peer's latest `features`
    this.path = undefined;
    this.sending = new Map(); // id -> our stream
    this.receiving = new Map(); // id -> the peer's stream
    this.opened = 0; // streams we opened
    this.peerOpened = 0; // the peer's streams opened (by number)
    this.peerLimit = 0; // how many we may open
    this.limitForPeer = this.local.maxStreams; // how many the peer may open (cumulative)
    this.turn = 0;
    this.stats = { protocolErrors: 0, streamBytesIn: 0, streamBytesOut: 0, dropped: 0 };
  }

  get wireId() {
    return this.session.wireId;
  }

  /** Our parity: 0 if we picked the session id. */
  get parity() {
    return this.session.pickedId ? 0 : 1;
  }

  get enabled() {
    return this.session.state === 'open' && this.peer !== undefined && (this.peer.features & FEATURE_STREAMS) !== 0;
  }

  now() {
    return this.endpoint.now();
  }

  /** A stream event: to the files layer if there is one, and to the application. */
  notify(type, fields) {
    this.session.emit(type, fields);
    this.files?.onStreamEvent(type, fields);
  }

  /**
   * Large packets may go to the peer: it said `large_datagrams` (*Datagram size*, "Who"); this peer
   * sends them only when it said so too (the document asks only the peer's bit).
   */
  get largeDatagrams() {
    return this.enabled && this.local.large && (this.peer.features & FEATURE_LARGE_DATAGRAMS) !== 0;
  }

  /** Both said `files` (ours only with the option). */
  get filesEnabled() {
    return this.enabled && this.files !== undefined && (this.peer.features & FEATURE_FILES) !== 0;
  }

  error(why) {
    this.stats.protocolErrors++;
    this.session.stats.protocolErrors++;
    this.session.emit('protocol_error', { why });
    return 'error';
  }

  // ---- capabilities --------------------------------------------------------------------------------

  sendFeatures() {
    this.endpoint.sendMessage(this.session.channel, {
      type: 'features',
      session: this.wireId,
      features:
        FEATURE_STREAMS |
        (this.local.files ? FEATURE_FILES : 0) |
        (this.local.large ? FEATURE_LARGE_DATAGRAMS : 0),
      flags: this.peer === undefined ? FLAG_ASK : 0,
      streamWindow: this.local.window,
      maxStreams: this.local.maxStreams,
    });
  }

  /** A `features` in connecting, requested or open (or kept for a request that came after it). */
  onFeatures(m) {
    const first = this.peer === undefined;
    this.peer = { features: m.features, streamWindow: m.streamWindow, maxStreams: m.maxStreams };
    if (first || m.maxStreams > this.peerLimit) this.peerLimit = Math.max(this.peerLimit, m.maxStreams);
    const state = this.session.state;
    if ((m.flags & FLAG_ASK) !== 0 && (state === 'connecting' || state === 'open')) this.sendFeatures();
    if (state === 'open') this.told();
  }

  /** The session opened: text only if no `features` came (ask once more), else streams. */
  onOpen() {
    if (this.peer === undefined) this.sendFeatures(); // asks
    this.told();
  }

  told() {
    const streams = this.enabled;
    this.session.emit('features', { streams, peerFeatures: this.peer });
    if (streams) {
      this.path = this.session.channel.streamPath ??= new StreamPath(this.endpoint, this.session.channel);
      this.path.attach(this);
      this.files?.offerAgain();
    }
  }

  // ---- messages in ---------------------------------------------------------------------------------

  /** A stream message but `stream_ack` (the path's: peer.mjs) in `open`. */
  onMessage(m) {
    if (!this.enabled || !this.path) {
      this.error('stream message without streams');
      return;
    }
    if (this.path.hasReceived(m.packet)) {
      this.path.took(this, m.packet); // a copy: acknowledged again, not acted on
      return;
    }
    let verdict;
    switch (m.type) {
      case 'stream_data':
      case 'stream_reset':
        verdict = this.onPeerStream(m);
        break;
      case 'stream_credit':
      case 'stream_stop':
        verdict = this.onOurStream(m);
        break;
      case 'stream_limit':
        if (m.maxStreams > this.peerLimit) {
          this.peerLimit = m.maxStreams;
          this.notify('streams_available', { count: this.peerLimit - this.opened });
        }
        verdict = 'take';
        break;
      case 'pmtu_probe':
        // Taken (acknowledged) and nothing else, by a peer that said `large_datagrams`.
        verdict = this.local.large ? 'take' : this.error('pmtu_probe: large_datagrams not offered');
        break;
    }
    if (verdict === 'take') this.path.took(this, m.packet);
  }

  onPeerStream(m) {
    if (m.stream % 2 === this.parity) return this.error('a stream id of our parity from the writer');
    const n = Math.floor(m.stream / 2);
    if (n >= this.limitForPeer) return this.error('stream beyond the limit');
    while (this.peerOpened <= n) {
      const id = 2 * this.peerOpened + (1 - this.parity);
      this.receiving.set(id, {
        id,
        pieces: new Map(), // offset -> bytes, beyond `arrived`
        arrived: 0, // every byte below it is in `ready` or read
        highest: 0, // the end of the highest byte received
        ready: [], // in order, not yet read
        read: 0,
        finalSize: undefined,
        credit: this.local.window,
        window: this.local.window,
        creditAt: 0, // `read` when the last credit went
        stopped: undefined, // our stop's code
      });
      this.peerOpened++;
      this.notify('stream_opened', { stream: id });
    }
    const s = this.receiving.get(m.stream);
    if (!s) return 'take'; // over: acknowledged and dropped
    return m.type === 'stream_data' ? this.onData(s, m) : this.onReset(s, m);
  }

  onData(s, m) {
    const end = m.offset + m.payload.length;
    if (end > s.credit) return this.error('bytes beyond the credit');
    if (s.finalSize !== undefined && (end > s.finalSize || (m.fin && end !== s.finalSize))) {
      return this.error('final size changed');
    }
    if (m.fin && end < s.highest) return this.error('fin below bytes received');
    if (m.offset > s.arrived && !s.pieces.has(m.offset) && s.pieces.size >= MAX_PIECES) {
      this.stats.dropped++;
      return 'drop'; // not taken: not acknowledged, it comes again
    }
    if (m.fin) s.finalSize = end;
    s.highest = Math.max(s.highest, end);
    if (s.stopped !== undefined) {
      // We asked it to stop: its bytes are dropped; it ends once its final size is known.
      if (s.finalSize !== undefined) this.peerStreamOver(s);
      return 'take';
    }
    if (end > s.arrived && m.payload.length > 0) {
      const held = s.pieces.get(m.offset);
      if (!held || held.length < m.payload.length) s.pieces.set(m.offset, m.payload);
    }
    this.advance(s);
    return 'take';
  }

  /** Moves pieces that continue the stream into `ready`; tells the application. */
  advance(s) {
    let moved = false;
    for (let guard = 0; guard <= MAX_PIECES; guard++) {
      const at = [...s.pieces.keys()].find((offset) => offset <= s.arrived);
      if (at === undefined) break;
      const bytes = s.pieces.get(at);
      s.pieces.delete(at);
      if (at + bytes.length <= s.arrived) continue;
      const next = bytes.subarray(s.arrived - at);
      s.ready.push(next);
      s.arrived += next.length;
      this.stats.streamBytesIn += next.length;
      moved = true;
    }
    const atEnd = s.finalSize !== undefined && s.arrived === s.finalSize;
    if (moved || atEnd) this.notify('stream_readable', { stream: s.id });
  }

  onReset(s, m) {
    if (m.finalSize < s.highest) return this.error('reset below bytes received');
    if (m.finalSize > s.credit) return this.error('reset beyond the credit');
    if (s.finalSize !== undefined && m.finalSize !== s.finalSize) return this.error('final size changed');
    if (s.stopped === undefined) {
      this.notify('stream_cancelled', { stream: s.id, direction: 'receive', by: 'peer', code: m.code });
    }
    this.peerStreamOver(s);
    return 'take';
  }

  /** One of the peer's streams is over on our side: forget it, and allow one more. */
  peerStreamOver(s) {
    if (!this.receiving.delete(s.id)) return;
    this.limitForPeer++;
    this.sendControl({ kind: 'limit' });
  }

  onOurStream(m) {
    if (m.stream % 2 !== this.parity) return this.error("a stream id of the peer's parity from the reader");
    if (Math.floor(m.stream / 2) >= this.opened) return this.error('a stream we never opened');
    const s = this.sending.get(m.stream);
    if (!s) return 'take'; // complete or reset and acknowledged: nothing more to do
    if (m.type === 'stream_credit') {
      if (m.maxOffset > s.credit) {
        s.credit = m.maxOffset;
        this.path.pump();
      }
      return 'take';
    }
    if (s.reset === undefined && !s.complete) {
      this.notify('stream_cancelled', { stream: s.id, direction: 'send', by: 'peer', code: m.code });
      this.resetStream(s, m.code);
    }
    return 'take';
  }

  // ---- control messages out ------------------------------------------------------------------------

  /** Sends a control message of the stream space (it never waits for the window). */
  sendControl(frame) {
    const m = this.controlMessage(frame);
    if (m) this.path.sendPacket(this, m, frame);
  }

  /** The latest value of a control message, or undefined if it is no longer needed. */
  controlMessage(frame) {
    switch (frame.kind) {
      case 'limit':
        return { type: 'stream_limit', maxStreams: this.limitForPeer };
      case 'credit': {
        const s = this.receiving.get(frame.id);
        if (!s || s.stopped !== undefined || s.finalSize !== undefined) return undefined;
        return { type: 'stream_credit', stream: s.id, maxOffset: s.credit };
      }
      case 'stop': {
        const s = this.receiving.get(frame.id);
        if (!s || s.finalSize !== undefined) return undefined;
        return { type: 'stream_stop', stream: s.id, code: s.stopped };
      }
      case 'reset': {
        const s = this.sending.get(frame.id);
        if (!s || s.reset === undefined) return undefined;
        return { type: 'stream_reset', stream: s.id, finalSize: s.sentEnd, code: s.reset };
      }
    }
    return undefined;
  }

  // ---- the path's calls ----------------------------------------------------------------------------

  acked(frame) {
    const s = this.sending.get(frame.id);
    if (frame.kind === 'reset') {
      if (s) this.sending.delete(s.id);
      return;
    }
    if (frame.kind !== 'data' || !s) return;
    s.acked.add(frame.offset, frame.offset + frame.length);
    if (frame.fin) s.finAcked = true;
    if (s.reset === undefined && s.finAcked && s.acked.covers(0, s.finalSize)) {
      s.complete = true;
      this.sending.delete(s.id);
      this.notify('stream_finished', { stream: s.id, direction: 'send' });
    }
  }

  lost(_path, frame) {
    if (frame.kind !== 'data') {
      this.sendControl(frame); // the latest value, if still needed
      return;
    }
    const s = this.sending.get(frame.id);
    if (!s || s.reset !== undefined) return;
    for (const [lo, hi] of s.acked.missing(frame.offset, frame.offset + frame.length)) s.lost.push([lo, hi]);
    if (frame.fin && !s.finAcked) s.finLost = true;
  }

  /** A probe timeout sends a copy of an old packet's content (if still needed). */
  resend(path, frame) {
    if (frame.kind !== 'data') {
      this.sendControl(frame);
      return;
    }
    const s = this.sending.get(frame.id);
    if (!s || s.reset !== undefined) return;
    const [range] = s.acked.missing(frame.offset, frame.offset + frame.length);
    if (range) {
      // A probe timeout's copy stays within 1200 bytes even if the packet it copies was large.
      const length = Math.min(path.streamBytes(this), range[1] - range[0]);
      this.sendBytes(path, s, range[0], length, frame.fin && range[0] + length === s.finalSize);
    }
    else if (frame.fin && !s.finAcked) this.sendBytes(path, s, s.finalSize, 0, true);
  }

  /** One packet of stream data, the streams taking turns; false if none has anything to send. */
  sendData(path) {
    const streams = [...this.sending.values()];
    for (let i = 0; i < streams.length; i++) {
      const s = streams[(this.turn + i) % streams.length];
      if (this.sendFrom(path, s)) {
        this.turn = (this.turn + i + 1) % streams.length;
        return true;
      }
    }
    return false;
  }

  sendFrom(path, s) {
    if (s.reset !== undefined) return false;
    // Lost bytes first (those acknowledged since skipped).
    while (s.lost.length > 0) {
      const [lo, hi] = s.lost[0];
      const [range] = s.acked.missing(lo, hi);
      if (!range) {
        s.lost.shift();
        continue;
      }
      const length = Math.min(path.streamBytes(this), range[1] - range[0]);
      if (range[0] + length >= hi) s.lost.shift();
      else s.lost[0] = [range[0] + length, hi];
      const fin = s.finalSize !== undefined && range[0] + length === s.finalSize && !s.finAcked;
      if (fin) s.finLost = false;
      this.sendBytes(path, s, range[0], length, fin);
      return true;
    }
    const room = Math.min(s.credit, s.data.length) - s.sentEnd;
    const length = Math.min(path.streamBytes(this), Math.max(0, room));
    const fin = s.finalSize !== undefined && s.sentEnd + length === s.finalSize && (!s.finSent || s.finLost);
    if (length === 0 && !fin) return false;
    const offset = s.sentEnd;
    s.sentEnd += length;
    s.finSent ||= fin;
    if (fin) s.finLost = false;
    this.sendBytes(path, s, offset, length, fin);
    return true;
  }

  sendBytes(path, s, offset, length, fin) {
    const payload = s.data.subarray(offset, offset + length);
    this.stats.streamBytesOut += length;
    path.sendPacket(
      this,
      { type: 'stream_data', stream: s.id, offset, fin: fin ? 1 : 0, payload },
      { kind: 'data', id: s.id, offset, length, fin },
    );
  }

  // ---- the application's calls ---------------------------------------------------------------------

  open() {
    if (!this.enabled) throw new Error('streams: the session does not take streams');
    if (this.opened >= this.peerLimit) throw new Error('streams: the peer allows no more streams now');
    const id = 2 * this.opened + this.parity;
    this.opened++;
    this.sending.set(id, {
      id,
      data: new Uint8Array(0),
      sentEnd: 0, // the end of the highest byte sent
      lost: [], // [lo, hi) to send again
      acked: new ByteRanges(),
      credit: this.peer.streamWindow,
      finalSize: undefined,
      finSent: false,
      finLost: false,
      finAcked: false,
      reset: undefined,
      complete: false,
    });
    return id;
  }

  /** Holds `bytes` to send (this peer holds what it is given; the credit bounds what goes). */
  write(id, bytes) {
    const s = this.writable(id);
    const data = new Uint8Array(s.data.length + bytes.length);
    data.set(s.data);
    data.set(bytes, s.data.length);
    s.data = data;
    this.path.pump();
    return bytes.length;
  }

  finish(id) {
    const s = this.writable(id);
    s.finalSize = s.data.length;
    this.path.pump();
  }

  writable(id) {
    const s = this.sending.get(id);
    if (!s || s.reset !== undefined || s.finalSize !== undefined) throw new Error(`stream ${id} is not writable`);
    return s;
  }

  /** Up to `max` bytes in order; grants credit as they are read; empty at the end, which finishes it. */
  read(id, max) {
    const s = this.receiving.get(id);
    if (!s || s.stopped !== undefined) return new Uint8Array(0);
    const parts = [];
    let taken = 0;
    while (s.ready.length > 0 && taken < max) {
      const head = s.ready[0];
      const n = Math.min(head.length, max - taken);
      parts.push(head.subarray(0, n));
      if (n === head.length) s.ready.shift();
      else s.ready[0] = head.subarray(n);
      taken += n;
    }
    s.read += taken;
    // The end is seen by a read that finds nothing more (so the last bytes are the caller's first).
    if (taken === 0 && s.finalSize !== undefined && s.read === s.finalSize) {
      this.notify('stream_finished', { stream: s.id, direction: 'receive' });
      this.peerStreamOver(s);
    } else if (s.read - s.creditAt >= s.window / 2) {
      s.creditAt = s.read;
      s.credit = s.read + s.window;
      this.sendControl({ kind: 'credit', id: s.id });
    }
    const out = new Uint8Array(taken);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  cancel(id, code) {
    const ours = this.sending.get(id);
    if (ours) {
      if (ours.reset === undefined && !ours.complete) this.resetStream(ours, code);
      return;
    }
    const s = this.receiving.get(id);
    if (!s || s.stopped !== undefined) return;
    s.stopped = code;
    s.ready = [];
    s.pieces.clear();
    if (s.finalSize !== undefined) this.peerStreamOver(s); // ends at once, no stop
    else this.sendControl({ kind: 'stop', id });
  }

  resetStream(s, code) {
    s.reset = code;
    s.lost = [];
    this.sendControl({ kind: 'reset', id: s.id });
  }

  /** The session left `open`: every stream not complete ends. */
  end() {
    this.files?.sessionEnded();
    for (const s of this.sending.values()) {
      this.notify('stream_cancelled', { stream: s.id, direction: 'send', by: 'local', reason: 'session_ended' });
    }
    for (const s of this.receiving.values()) {
      this.notify('stream_cancelled', { stream: s.id, direction: 'receive', by: 'local', reason: 'session_ended' });
    }
    this.sending.clear();
    this.receiving.clear();
    this.path?.detach(this);
  }
}

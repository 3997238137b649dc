// Independent netchat peer, written from PROTOCOL.md only (not from packages/core/src).
//
// A path's stream packet space (PROTOCOL.md *Streams*, *Packets and acknowledgements*, and
// *Congestion control and pacing*): one per channel, all its sessions together. Sending: packet
// numbers, the RTT, loss detection (RFC 9002 §6: packet and time thresholds, the probe timeout)
// and a NewReno window (the document leaves the controller to each sender; this peer does not
// pace, its window is capped at MAX_WINDOW). Receiving: the packets taken, and `stream_ack`s
// when the document says. The datagram size (*Datagram size*): datagram-size.mjs searches, this
// sends its probes and fills packets of the size it found.

import { addressKey, isRelayed } from './address.mjs';
import { BASE_SIZE, DatagramSize } from './datagram-size.mjs';
import { ACK_DELAY_UNIT_MS, RttEstimator } from './reliable.mjs';

const MAX_DATAGRAM = 1200; // the controller's constants count in these (*Congestion control*)
const STREAM_DATA_OVERHEAD = 32 + 29; // the packet's header and tag, the message's fields
const INITIAL_WINDOW = 12_000;
const MINIMUM_WINDOW = 2_400;
const MAX_WINDOW = 96_000; // no pacer: a burst of at most this much reaches the peer's socket
const PACKET_THRESHOLD = 3;
const TIME_THRESHOLD = 9 / 8;
const GRANULARITY = 1;
const INITIAL_RTT = 333;
const MAX_ACK_DELAY = 10;
const ACK_HOLD_MS = 5; // within max_ack_delay
const ACK_EVERY = 16;
const MAX_ACK_RANGES = 32;

/** Sorted, disjoint [lo, hi] ranges of packet numbers, newest first when listed. */
class PacketRanges {
  constructor() {
    this.ranges = []; // ascending by lo, [lo, hi] inclusive
  }
  has(n) {
    return this.ranges.some(([lo, hi]) => lo <= n && n <= hi);
  }
  add(n) {
    const r = this.ranges;
    let i = r.length;
    while (i > 0 && r[i - 1][0] > n) i--;
    // r[i-1] starts at or below n
    if (i > 0 && r[i - 1][1] >= n) return;
    if (i > 0 && r[i - 1][1] === n - 1) {
      r[i - 1][1] = n;
      if (i < r.length && r[i][0] === n + 1) {
        r[i - 1][1] = r[i][1];
        r.splice(i, 1);
      }
    } else if (i < r.length && r[i][0] === n + 1) {
      r[i][0] = n;
    } else {
      r.splice(i, 0, [n, n]);
    }
    if (r.length > MAX_ACK_RANGES) r.shift(); // old ranges may be left out
  }
}

export class StreamPath {
  /** `endpoint`: the peer (sendMessage, timers, now); `channel`: the channel it rides. */
  constructor(endpoint, channel) {
    this.endpoint = endpoint;
    this.channel = channel;
    this.name = `path${channel.localIndex}`;
    this.sessions = []; // StreamSession, the round-robin order
    this.turn = 0;
    // sending
    this.nextPacket = 0;
    this.sent = new Map(); // number -> { at, size, frame, session }
    this.largestAcked = -1;
    this.bytesInFlight = 0;
    this.window = INITIAL_WINDOW;
    this.ssthresh = Number.POSITIVE_INFINITY;
    this.bytesAcked = 0;
    this.recoveryStart = undefined;
    this.ptoCount = 0;
    this.lastAckElicitingAt = undefined;
    // The rules of text's estimate (*Round trips*), from the handshake's round trip.
    this.rtt = new RttEstimator(channel.handshakeRtt);
    this.latestRtt = undefined;
    // receiving
    this.received = new PacketRanges();
    this.largestReceived = -1;
    this.largestReceivedAt = 0;
    this.inOrderSinceAck = 0;
    this.ackSession = undefined; // the session id of the latest packet: the one a stream_ack names
    this.stats = { packetsSent: 0, lost: 0, ptos: 0, acksSent: 0, acksIn: 0, invalidAcks: 0, congestionEvents: 0 };
    this.size = new DatagramSize();
    this.sizeAddress = addressKey(channel.address); // a move to another address starts the size over
    this.inProbeTimeout = false; // what a probe timeout sends stays within 1200 bytes
    this.largestPacketSent = 0;
  }

  /** Whether `session` may get large packets now: it and its peer said so, and not through the relay. */
  takesLarge(session) {
    return session.largeDatagrams && !isRelayed(this.channel.address);
  }

  /** The largest packet of stream data for `session` now. */
  dataPacketSize(session) {
    if (this.inProbeTimeout || !this.takesLarge(session)) return BASE_SIZE;
    return this.size.size;
  }

  /** The bytes of stream data one packet for `session` carries now. */
  streamBytes(session) {
    return this.dataPacketSize(session) - STREAM_DATA_OVERHEAD;
  }

  /** The channel moved (roaming, onto the relay or off it): the size starts over. */
  checkAddress() {
    const key = addressKey(this.channel.address);
    if (key === this.sizeAddress) return;
    this.sizeAddress = key;
    this.size.reset();
  }

  now() {
    return this.endpoint.now();
  }

  timer(name, at, fn) {
    this.endpoint.timers.set(`${this.name}:${name}`, at, fn);
  }

  clearTimer(name) {
    this.endpoint.timers.clear(`${this.name}:${name}`);
  }

  attach(session) {
    if (!this.sessions.includes(session)) this.sessions.push(session);
  }

  detach(session) {
    this.sessions = this.sessions.filter((s) => s !== session);
    // Its packets no longer need anything: drop them from flight (their data will not go again).
    for (const [n, p] of this.sent) {
      if (p.session !== session) continue;
      if (p.frame.kind === 'probe') this.size.probeInFlight = false; // its fate will not be known
      this.bytesInFlight -= p.size;
      this.sent.delete(n);
    }
    if (this.sessions.length === 0) {
      this.endpoint.timers.clearPrefix(`${this.name}:`);
    } else this.armLossTimer();
  }

  // ---- sending -----------------------------------------------------------------------------------

  /** Sends one stream-space message (it gets the next packet number); `frame` says what it carried. */
  sendPacket(session, message, frame) {
    const now = this.now();
    const packet = this.nextPacket++;
    const full = { ...message, session: session.wireId, packet };
    const size = 32 + sizeOf(full); // the `data` packet: its header and tag (32), then the message
    this.sent.set(packet, { at: now, size, frame, session });
    this.bytesInFlight += size;
    this.lastAckElicitingAt = now;
    this.stats.packetsSent++;
    this.largestPacketSent = Math.max(this.largestPacketSent, size);
    this.endpoint.sendMessage(this.channel, full);
    this.armLossTimer();
    return packet;
  }

  /**
   * Stream data goes while the window has room for a whole packet of the path's size, one packet
   * per session in turn; a due `pmtu_probe` goes first, within the window like data.
   */
  pump() {
    this.checkAddress();
    for (let guard = 0; guard < 10_000; guard++) {
      if (this.sendProbe()) continue;
      if (this.bytesInFlight + this.size.size > this.window) return;
      if (!this.sendOneData()) return;
    }
  }

  /** A probe if one is due and the window has room for it (else data goes in its place); whether one went. */
  sendProbe() {
    const session = this.sessions.find((s) => this.takesLarge(s));
    const size = session && this.size.probeDue(this.now());
    if (!size || this.bytesInFlight + size > this.window) return false;
    // packet = 32 + the message: its header and session (8), packet number (8), then the padding.
    const padding = new Uint8Array(size - 32 - 16);
    this.size.probeSent();
    this.sendPacket(session, { type: 'pmtu_probe', padding }, { kind: 'probe', size });
    return true;
  }

  /** One packet of stream data from the next session that has some; false if none has. */
  sendOneData() {
    const n = this.sessions.length;
    for (let i = 0; i < n; i++) {
      const s = this.sessions[(this.turn + i) % n];
      if (s.sendData(this)) {
        if (this.takesLarge(s)) this.size.wanted(); // a peer that takes large packets has data: search
        this.turn = (this.turn + i + 1) % n;
        return true;
      }
    }
    return false;
  }

  pto() {
    const { srtt, rttvar } = this.rtt;
    if (srtt === undefined) return 1000;
    const bounded = (x) => Math.min(60_000, Math.max(1, x)); // [1 ms, 60 s] instead of text's bounds
    return bounded(srtt) + Math.max(4 * rttvar, GRANULARITY) + MAX_ACK_DELAY;
  }

  armLossTimer() {
    const lossTime = this.lossTime();
    if (lossTime !== undefined) {
      this.timer('loss', lossTime, (now) => this.onLossTimer(now));
      return;
    }
    if (this.sent.size === 0) {
      this.clearTimer('loss');
      return;
    }
    const at = this.lastAckElicitingAt + this.pto() * 2 ** Math.min(this.ptoCount, 16);
    this.timer('loss', at, (now) => this.onLossTimer(now));
  }

  lossDelay() {
    const rtt = Math.max(this.latestRtt ?? 0, this.rtt.srtt ?? INITIAL_RTT);
    return Math.max(TIME_THRESHOLD * rtt, GRANULARITY);
  }

  lossTime() {
    let earliest;
    const delay = this.lossDelay();
    for (const [n, p] of this.sent) {
      if (n >= this.largestAcked) continue;
      const t = p.at + delay;
      if (earliest === undefined || t < earliest) earliest = t;
    }
    return earliest;
  }

  onLossTimer(now) {
    if (this.lossTime() !== undefined) {
      this.detectLosses(now);
      this.armLossTimer();
      this.pump();
      return;
    }
    if (this.sent.size === 0) return;
    // A probe timeout: two packets at once, whatever the window (new data, else the oldest again).
    this.ptoCount++;
    this.stats.ptos++;
    // A probe is never sent again.
    const oldest = [...this.sent.entries()]
      .filter(([, p]) => p.frame.kind !== 'probe')
      .sort((a, b) => a[0] - b[0])
      .map(([, p]) => p);
    this.inProbeTimeout = true;
    try {
      for (let i = 0; i < 2; i++) {
        if (this.sendOneData()) continue;
        const p = oldest[i % Math.max(1, oldest.length)];
        if (!p) break;
        p.session.resend(this, p.frame); // a copy under a new number; the old one stays in flight
      }
    } finally {
      this.inProbeTimeout = false;
    }
    this.armLossTimer();
  }

  // ---- acknowledgements in ------------------------------------------------------------------------

  /** A `stream_ack` (any session of the channel). False if it names a packet never sent. */
  onAck(m) {
    const now = this.now();
    // Ranges, highest first: [largest - firstRange, largest], then the (gap, length) pairs.
    const ranges = [[m.largest - m.firstRange, m.largest]];
    const view = new DataView(m.ranges.buffer, m.ranges.byteOffset, m.ranges.byteLength);
    for (let at = 0; at < m.ranges.length; at += 8) {
      const top = ranges[ranges.length - 1][0] - view.getUint32(at) - 2;
      ranges.push([top - view.getUint32(at + 4), top]);
    }
    if (m.largest >= this.nextPacket) {
      this.stats.invalidAcks++;
      return false;
    }
    this.stats.acksIn++;
    const newly = [];
    for (const [lo, hi] of ranges) {
      for (const [n, p] of this.sent) if (n >= lo && n <= hi) newly.push([n, p]);
    }
    if (m.largest > this.largestAcked) this.largestAcked = m.largest;
    if (newly.length === 0) return true;
    newly.sort((a, b) => a[0] - b[0]);
    const newest = newly[newly.length - 1];
    if (newest[0] === m.largest) {
      this.latestRtt = now - newest[1].at;
      this.rtt.sample(this.latestRtt, m.ackDelay * ACK_DELAY_UNIT_MS);
    }
    for (const [n, p] of newly) {
      this.sent.delete(n);
      this.bytesInFlight -= p.size;
    }
    this.detectLosses(now);
    for (const [n, p] of newly) {
      this.onAcked(p);
      if (p.frame.kind === 'probe') this.size.probeAcked(p.frame.size, now);
      else {
        this.size.dataAcked(p.frame.kind === 'data' && p.size > BASE_SIZE, n);
        p.session.acked(p.frame);
      }
    }
    this.ptoCount = 0;
    this.armLossTimer();
    this.pump();
    return true;
  }

  detectLosses(now) {
    const delay = this.lossDelay();
    let newestLostAt;
    for (const [n, p] of [...this.sent.entries()]) {
      if (n >= this.largestAcked) continue;
      if (this.largestAcked >= n + PACKET_THRESHOLD || p.at + delay <= now) {
        this.sent.delete(n);
        this.bytesInFlight -= p.size;
        if (p.frame.kind === 'probe') {
          // Not a congestion event, and never sent again.
          this.size.probeLost(p.frame.size, now);
          continue;
        }
        this.stats.lost++;
        newestLostAt = Math.max(newestLostAt ?? p.at, p.at);
        if (p.size > BASE_SIZE) this.size.largeDataLost(n);
        p.session.lost(this, p.frame);
      }
    }
    if (newestLostAt !== undefined) this.congestionEvent(newestLostAt, now);
  }

  /** NewReno (RFC 9002 §7): slow start, then one datagram per window; halved once per loss round. */
  onAcked(p) {
    if (this.recoveryStart !== undefined && p.at <= this.recoveryStart) return;
    if (this.window < this.ssthresh) this.window += p.size;
    else {
      this.bytesAcked += p.size;
      if (this.bytesAcked >= this.window) {
        this.bytesAcked -= this.window;
        this.window += MAX_DATAGRAM;
      }
    }
    this.window = Math.min(this.window, MAX_WINDOW);
  }

  congestionEvent(sentAt, now) {
    if (this.recoveryStart !== undefined && sentAt <= this.recoveryStart) return;
    this.stats.congestionEvents++;
    this.recoveryStart = now;
    this.ssthresh = Math.floor(this.window / 2);
    this.window = Math.max(this.ssthresh, MINIMUM_WINDOW);
    this.bytesAcked = 0;
  }

  // ---- packets in ---------------------------------------------------------------------------------

  /** Whether packet `n` was taken before (a copy). */
  hasReceived(n) {
    return this.received.has(n);
  }

  /** The session took packet `n` (or it is a copy, or of a stream that is over): acknowledge it. */
  took(session, n) {
    const now = this.now();
    const copy = this.received.has(n);
    const inOrder = n === this.largestReceived + 1;
    this.received.add(n);
    this.ackSession = session.wireId;
    if (n > this.largestReceived) {
      this.largestReceived = n;
      this.largestReceivedAt = now;
    }
    if (!inOrder || copy) {
      this.sendAck();
      return;
    }
    this.inOrderSinceAck++;
    if (this.inOrderSinceAck >= ACK_EVERY) {
      this.sendAck();
      return;
    }
    if (!this.endpoint.timers.has(`${this.name}:ack`)) this.timer('ack', now + ACK_HOLD_MS, () => this.sendAck());
  }

  sendAck() {
    this.clearTimer('ack');
    this.inOrderSinceAck = 0;
    const list = [...this.received.ranges].reverse(); // newest first
    if (list.length === 0 || this.ackSession === undefined) return;
    const [lo0, hi0] = list[0];
    const pairs = [];
    let smallest = lo0;
    for (const [lo, hi] of list.slice(1, MAX_ACK_RANGES)) {
      pairs.push(smallest - hi - 2, hi - lo);
      smallest = lo;
    }
    const ranges = new Uint8Array(pairs.length * 4);
    const view = new DataView(ranges.buffer);
    pairs.forEach((x, i) => view.setUint32(i * 4, x));
    const delay = Math.min(65_535, Math.round((this.now() - this.largestReceivedAt) / ACK_DELAY_UNIT_MS));
    this.stats.acksSent++;
    this.endpoint.sendMessage(this.channel, {
      type: 'stream_ack',
      session: this.ackSession,
      largest: hi0,
      ackDelay: delay,
      firstRange: hi0 - lo0,
      ranges,
    });
  }
}

/** The encoded length of a stream-space message (header 8, then its fields). */
function sizeOf(m) {
  switch (m.type) {
    case 'stream_data':
      return 8 + 8 + 4 + 8 + 1 + m.payload.length;
    case 'stream_credit':
      return 8 + 8 + 4 + 8;
    case 'stream_reset':
      return 8 + 8 + 4 + 8 + 2;
    case 'stream_stop':
      return 8 + 8 + 4 + 2;
    case 'stream_limit':
      return 8 + 8 + 4;
    case 'pmtu_probe':
      return 8 + 8 + m.padding.length;
    default:
      return 8;
  }
}

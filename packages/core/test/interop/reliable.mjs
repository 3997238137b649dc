// Independent netchat peer, written from PROTOCOL.md only (not from packages/core/src).
//
// Reliable, ordered text (PROTOCOL.md *Reliable, ordered text*): the round-trip estimate and the
// retransmission timeout, the sending side (fragments, window, acknowledgements, retransmission,
// delivery) and the receiving side (window, reassembly, acknowledgement fields).

export const WINDOW = 128;
export const FRAGMENT_BYTES = 1142;
export const MAX_ACK_DELAY_MS = 10;
export const ACK_EVERY = 16;
export const ACK_DELAY_UNIT_MS = 0.008;
const MIN_RTO = 200;
const MAX_RTO = 10_000;
const MAX_BACKOFFS = 4;

// ignoreBOM: a leading U+FEFF is a character of the text (*Transport*), not a mark to drop.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export class RttEstimator {
  constructor(handshakeRtt) {
    this.realSample = false;
    this.srtt = handshakeRtt;
    this.rttvar = handshakeRtt === undefined ? undefined : handshakeRtt / 2;
    this.minImmediate = undefined;
  }

  /** One sample: the raw round trip and the peer's ack delay (ms). */
  sample(raw, ackDelayMs) {
    if (ackDelayMs === 0) this.minImmediate = Math.min(this.minImmediate ?? raw, raw);
    let adjusted = raw - Math.min(ackDelayMs, MAX_ACK_DELAY_MS);
    if (this.minImmediate !== undefined && adjusted < this.minImmediate) {
      adjusted = Math.min(raw, this.minImmediate);
    } else if (this.minImmediate === undefined && adjusted <= 0) {
      adjusted = raw;
    }
    if (!this.realSample) {
      this.realSample = true;
      this.srtt = adjusted;
      this.rttvar = adjusted / 2;
      return;
    }
    this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - adjusted);
    this.srtt = 0.875 * this.srtt + 0.125 * adjusted;
  }

  rto() {
    if (this.srtt === undefined) return 1000;
    const rto = this.srtt + Math.max(4 * this.rttvar, 1) + MAX_ACK_DELAY_MS;
    return Math.min(MAX_RTO, Math.max(MIN_RTO, rto));
  }
}

/** The sending direction of one session. `send(fragment, now)` puts a text message on the wire. */
export class TextSender {
  constructor({ rtt, send, setTimer, clearTimer, delivered }) {
    this.rtt = rtt;
    this.transmit = send;
    this.setTimer = setTimer;
    this.clearTimer = clearTimer;
    this.onDelivered = delivered;
    this.fragments = new Map(); // seq -> { payload, index, count, messageId, sentAt, sends, sacked }
    this.messages = []; // { messageId, lastSeq } in order, not yet delivered
    this.nextSeq = 0; // the next seq a new fragment gets
    this.sentUpTo = 0; // every seq below it went out at least once
    this.acked = 0; // the peer's cumulative ack
    this.backoffs = 0;
    this.expiriesInRow = 0;
    this.expiredSinceProgress = false;
    this.rtoAt = undefined;
  }

  get inFlight() {
    return this.sentUpTo > this.acked;
  }

  get pending() {
    return this.messages.length;
  }

  enqueue(bytes, messageId, now) {
    const count = Math.max(1, Math.ceil(bytes.length / FRAGMENT_BYTES));
    for (let i = 0; i < count; i++) {
      this.fragments.set(this.nextSeq++, {
        payload: bytes.subarray(i * FRAGMENT_BYTES, (i + 1) * FRAGMENT_BYTES),
        index: i,
        count,
        messageId,
        sentAt: undefined,
        sends: 0,
        sacked: false,
      });
    }
    this.messages.push({ messageId, lastSeq: this.nextSeq - 1 });
    this.pump(now);
  }

  pump(now) {
    while (this.sentUpTo < this.nextSeq && this.sentUpTo < this.acked + WINDOW) {
      this.resend(this.sentUpTo, now);
      this.sentUpTo++;
    }
    if (this.inFlight && this.rtoAt === undefined) this.armRto(now);
  }

  resend(seq, now) {
    const f = this.fragments.get(seq);
    if (!f) return;
    f.sentAt = now;
    f.sends++;
    this.transmit({ seq, fragmentIndex: f.index, fragmentCount: f.count, payload: f.payload }, now);
  }

  armRto(now) {
    const delay = Math.min(MAX_RTO, this.rtt.rto() * 2 ** this.backoffs);
    this.rtoAt = now + delay;
    this.setTimer(this.rtoAt, (t) => this.onRto(t));
  }

  onRto(now) {
    this.rtoAt = undefined;
    if (!this.inFlight) return;
    const unsacked = [];
    for (let s = this.acked; s < this.sentUpTo; s++) if (!this.fragments.get(s)?.sacked) unsacked.push(s);
    if (!this.expiredSinceProgress) for (const s of unsacked) this.resend(s, now);
    else if (unsacked.length > 0) this.resend(unsacked[0], now);
    this.expiredSinceProgress = true;
    this.expiriesInRow++;
    this.backoffs = Math.min(MAX_BACKOFFS, this.backoffs + 1);
    this.armRto(now);
  }

  /** The peer's acknowledgement fields (an ack past what was sent counts up to what was sent). */
  onAck(ackField, sack, ackDelay, now) {
    const ack = Math.min(ackField, this.sentUpTo);
    let progress = false;
    const newly = new Map(); // seq -> its record, acknowledged for the first time now
    for (let s = this.acked; s < ack; s++) {
      const f = this.fragments.get(s);
      if (f && !f.sacked) {
        newly.set(s, f);
        progress = true;
      }
      // Passing a message's last fragment delivers it: progress too, even if it was sacked.
      if (f && f.index === f.count - 1) progress = true;
      this.fragments.delete(s);
    }
    if (ack > this.acked) this.acked = ack;
    let highestBit = -1;
    for (let i = 0; i < 32; i++) {
      if (((sack >>> i) & 1) === 0) continue;
      highestBit = i;
      const f = ack + 1 + i < this.sentUpTo ? this.fragments.get(ack + 1 + i) : undefined;
      if (f && !f.sacked) {
        f.sacked = true;
        newly.set(ack + 1 + i, f);
        progress = true;
      }
    }
    if (highestBit >= 0) this.highestSacked = Math.max(this.highestSacked ?? -1, ack + 1 + highestBit);
    // One RTT sample: the newest covered fragment, newly acknowledged, sent once (Karn).
    const newest = highestBit >= 0 ? ack + 1 + highestBit : ack - 1;
    const f = newly.get(newest);
    if (f) {
      if (f.sends === 1) this.rtt.sample(now - f.sentAt, ackDelay * ACK_DELAY_UNIT_MS);
    }
    // Delivered: the cumulative ack passed the message's last fragment.
    while (this.messages.length > 0 && this.messages[0].lastSeq < this.acked) {
      this.onDelivered(this.messages.shift().messageId);
    }
    if (progress) {
      this.backoffs = 0;
      this.expiriesInRow = 0;
      this.expiredSinceProgress = false;
      this.clearTimer();
      this.rtoAt = undefined;
    }
    this.fastRetransmit(now);
    this.pump(now);
    return { progress, newlyAcked: newly.size > 0 };
  }

  /**
   * A fragment three or more below the highest seq a selective ack has named so far, if it was
   * last sent at least one smoothed round trip ago.
   */
  fastRetransmit(now) {
    if (this.highestSacked === undefined) return;
    for (let s = this.acked; s <= this.highestSacked - 3 && s < this.sentUpTo; s++) {
      const f = this.fragments.get(s);
      if (!f || f.sacked) continue;
      if (now - f.sentAt < (this.rtt.srtt ?? this.rtt.rto())) continue;
      this.resend(s, now);
    }
  }

  /** Every undelivered message id (they fail when the session ends). */
  takeUndelivered() {
    const ids = this.messages.map((m) => m.messageId);
    this.messages = [];
    this.fragments.clear();
    this.clearTimer();
    this.rtoAt = undefined;
    return ids;
  }
}

/** The receiving direction of one session. */
export class TextReceiver {
  constructor({ maxMessageBytes = 65536, deliver, protocolError }) {
    this.maxMessageBytes = maxMessageBytes;
    this.deliver = deliver;
    this.protocolError = protocolError;
    this.next = 0; // the next seq expected: every lower one arrived
    this.held = new Map(); // seq > next -> { fragment, arrivedAt }
    this.arrivals = new Map(); // seq -> first arrival time, for ackDelay (ack - 1 and held ones)
    this.everReceived = false;
    this.unackedInOrder = 0;
    this.parts = undefined; // the message being rebuilt: { count, next, chunks, bytes }
    this.skipping = false;
  }

  /**
   * A text fragment. `takeNew`: false while lingering or closing (new fragments are neither
   * delivered nor acknowledged). Returns 'now' (acknowledge at once), 'later' (within the ack
   * delay), or 'none'.
   */
  receive(m, now, takeNew = true) {
    const seq = m.seq;
    if (seq < this.next || this.held.has(seq)) return 'now'; // a duplicate: acknowledged again
    if (seq >= this.next + WINDOW) return 'none'; // beyond the window: not acknowledged
    if (!takeNew) return 'none';
    this.everReceived = true;
    this.arrivals.set(seq, now);
    if (seq > this.next) {
      this.held.set(seq, m);
      return 'now'; // out of order
    }
    const hadGap = this.held.size > 0;
    this.take(m);
    this.next++;
    while (this.held.has(this.next)) {
      this.take(this.held.get(this.next));
      this.held.delete(this.next);
      this.next++;
    }
    for (const s of this.arrivals.keys()) if (s < this.next - 1) this.arrivals.delete(s);
    if (hadGap) return 'now'; // it filled a gap
    this.unackedInOrder++;
    return this.unackedInOrder >= ACK_EVERY ? 'now' : 'later';
  }

  /** Reassembly in seq order (*Broken messages*). */
  take(m) {
    if (m.fragmentIndex === 0) {
      if (this.parts) this.protocolError('a message was cut short by a new one');
      this.parts = { count: m.fragmentCount, next: 0, chunks: [], bytes: 0 };
      this.skipping = false;
    } else if (this.skipping) {
      return;
    } else if (!this.parts || m.fragmentIndex !== this.parts.next || m.fragmentCount !== this.parts.count) {
      this.parts = undefined;
      this.skipping = true;
      this.protocolError('a fragment out of place');
      return;
    }
    const p = this.parts;
    p.chunks.push(m.payload);
    p.bytes += m.payload.length;
    p.next++;
    if (p.bytes > this.maxMessageBytes) {
      this.parts = undefined;
      this.skipping = true;
      this.protocolError('a message longer than the maximum');
      return;
    }
    if (p.next < p.count) return;
    this.parts = undefined;
    const all = Buffer.concat(p.chunks);
    let text;
    try {
      text = strictUtf8.decode(all);
    } catch {
      this.protocolError('a message that is not UTF-8');
      return;
    }
    this.deliver(text);
  }

  /** The acknowledgement fields to send now (and the held-back count is reset). */
  fields(now) {
    this.unackedInOrder = 0;
    let sack = 0;
    let highestBit = -1;
    for (let i = 0; i < 32; i++) {
      if (this.held.has(this.next + 1 + i)) {
        sack |= 1 << i;
        highestBit = i;
      }
    }
    sack >>>= 0;
    if (!this.everReceived) return { ack: this.next, sack, ackDelay: 0 };
    const newest = highestBit >= 0 ? this.next + 1 + highestBit : this.next - 1;
    const arrived = this.arrivals.get(newest);
    const delay = arrived === undefined ? 0 : Math.round((now - arrived) / ACK_DELAY_UNIT_MS);
    return { ack: this.next, sack, ackDelay: Math.min(65535, Math.max(0, delay)) };
  }
}

/**
 * The sending half of reliable delivery: splits messages into fragments with consecutive
 * sequence numbers, keeps at most `window` of them in flight, learns from cumulative and
 * selective acknowledgements what arrived, and says what to retransmit and when.
 */
import type { MessageId } from '../events.js';
import { MAX_FRAGMENT_BYTES } from '../wire/messages.js';
import type { RttEstimator } from './rtt-estimator.js';

export interface OutgoingFragment {
  readonly seq: number;
  readonly messageId: MessageId;
  readonly index: number;
  readonly count: number;
  readonly payload: Uint8Array;
  transmissions: number;
  lastSentAt: number;
}

/** A fragment this many sequence numbers behind a selectively acknowledged one is taken as lost. */
const REORDER_THRESHOLD = 3;
/**
 * Backoff doubles the timeout at most this many times in a row. Kept low: under heavy two-way
 * loss each retry fails about half the time, and doubling without a low cap makes the expected
 * stall grow without bound. A dead path still costs only one datagram per timeout.
 */
const MAX_BACKOFF_EXPONENT = 4;

export class ReliableSender {
  private nextSeq = 0;
  /** Lowest sequence number not yet acknowledged. */
  private unacked = 0;
  /** Lowest sequence number never sent. */
  private unsent = 0;
  /** Every fragment not yet acknowledged, sent or not, by sequence number (insertion order is seq order). */
  private readonly fragments = new Map<number, OutgoingFragment>();
  /** Fragments still unacknowledged per message. */
  private readonly remaining = new Map<MessageId, number>();
  private backoff = 0;
  /** The highest sequence number a selective acknowledgement has named: fragments well below it are lost. */
  private highestAcked = -1;
  /** The one retransmission timer (RFC 6298 5.1-5.7): runs while anything is in flight. */
  private rtoDeadline: number | undefined;
  queuedBytes = 0;
  /** Messages the last `onAck` completed, in send order. Reused: read them before the next call. */
  readonly delivered: MessageId[] = [];
  /** What the last `takeNew` / `takeRetransmissions` returned. Reused, like `delivered`. */
  private readonly batch: OutgoingFragment[] = [];

  constructor(
    private readonly window: number,
    private readonly rtt: RttEstimator,
  ) {}

  enqueue(messageId: MessageId, bytes: Uint8Array): void {
    const count = Math.max(1, Math.ceil(bytes.length / MAX_FRAGMENT_BYTES));
    for (let index = 0; index < count; index++) {
      const payload = bytes.subarray(index * MAX_FRAGMENT_BYTES, (index + 1) * MAX_FRAGMENT_BYTES);
      const seq = this.nextSeq++;
      this.fragments.set(seq, { seq, messageId, index, count, payload, transmissions: 0, lastSentAt: 0 });
    }
    this.remaining.set(messageId, count);
    this.queuedBytes += bytes.length;
  }

  /** Fragments never sent that the window now allows, marked as sent at `now`. */
  takeNew(now: number): readonly OutgoingFragment[] {
    const out = this.batch;
    out.length = 0;
    while (this.unsent < this.nextSeq && this.unsent < this.unacked + this.window) {
      const fragment = this.fragments.get(this.unsent++);
      if (fragment) out.push(this.markSent(fragment, now));
    }
    if (out.length > 0 && this.rtoDeadline === undefined) this.rtoDeadline = now + this.timeout();
    return out;
  }

  /**
   * Applies an acknowledgement; the messages now wholly delivered are left in `delivered`, in
   * send order. `ack` is the next sequence number the peer expects; bit i of `sack` stands for
   * ack + 1 + i; `ackDelayMs` is how long the peer held it since the newest fragment it covers
   * arrived. Returns whether it acknowledged anything new.
   */
  onAck(ack: number, sack: number, ackDelayMs: number, now: number): boolean {
    const delivered = this.delivered;
    delivered.length = 0;
    const before = this.fragments.size;
    // One round-trip sample per acknowledgement, from the newest fragment it covers, and only if
    // that one is newly acknowledged and was sent once (QUIC's rule, and Karn's): the peer's
    // ack delay is measured from exactly that fragment's arrival.
    const newest = sack === 0 ? ack - 1 : ack + 32 - Math.clz32(sack);
    const newestFragment = newest < this.unsent ? this.fragments.get(newest) : undefined;
    if (newestFragment && newestFragment.transmissions === 1)
      this.rtt.sample(now - newestFragment.lastSentAt, ackDelayMs);
    for (let seq = this.unacked; seq < Math.min(ack, this.unsent); seq++) this.acknowledge(seq, delivered);
    if (ack > this.unacked) this.unacked = Math.min(ack, this.unsent);
    for (let bit = 0; bit < 32 && sack >>> bit !== 0; bit++) {
      if ((sack >>> bit) & 1) this.acknowledge(ack + 1 + bit, delivered);
    }
    if (sack !== 0) this.highestAcked = Math.max(this.highestAcked, newest);
    // Anything newly acknowledged proves the path works again: stop backing off, restart the timer.
    if (this.fragments.size < before) {
      this.backoff = 0;
      this.rtoDeadline = this.unacked < this.unsent ? now + this.timeout() : undefined;
      return true;
    }
    return false;
  }

  private acknowledge(seq: number, delivered: MessageId[]): void {
    const fragment = this.fragments.get(seq);
    if (!fragment || seq >= this.unsent) return;
    this.fragments.delete(seq);
    this.queuedBytes -= fragment.payload.length;
    const left = (this.remaining.get(fragment.messageId) ?? 1) - 1;
    if (left === 0) {
      this.remaining.delete(fragment.messageId);
      delivered.push(fragment.messageId);
    } else {
      this.remaining.set(fragment.messageId, left);
    }
  }

  /** The retransmission timeout with the session's backoff applied. */
  private timeout(): number {
    return this.rtt.backedOff(this.backoff);
  }

  /**
   * Fragments to send again now. When the timer expires: the whole flight the first time (the
   * path may just have had a bad moment), then only the oldest fragment, doubling the timeout
   * each time. Besides, any fragment that later selectively acknowledged ones show to be lost
   * (at most once per round trip).
   */
  takeRetransmissions(now: number): readonly OutgoingFragment[] {
    const out = this.batch;
    out.length = 0;
    const expired = this.rtoDeadline !== undefined && now >= this.rtoDeadline;
    const wholeFlight = expired && this.backoff === 0;
    const roundTrip = this.rtt.srtt ?? this.rtt.rto;
    let first = true;
    // Walk by sequence number, not over the map: a Map used as a queue keeps the slots of
    // deleted entries until it rehashes, so iterating it from the start on every ack walked over
    // every fragment acknowledged since (the largest item of a throughput profile). Without an
    // expired timer, only fragments REORDER_THRESHOLD below the highest sack can be lost.
    const end = expired ? this.unsent : Math.min(this.unsent, this.highestAcked - REORDER_THRESHOLD + 1);
    for (let seq = this.unacked; seq < end; seq++) {
      const fragment = this.fragments.get(seq);
      if (!fragment) continue;
      const byTimer = expired && (first || wholeFlight);
      const bySack =
        fragment.seq + REORDER_THRESHOLD <= this.highestAcked && now - fragment.lastSentAt >= roundTrip;
      if (byTimer || bySack) out.push(this.markSent(fragment, now));
      first = false;
    }
    if (expired) {
      this.backoff = Math.min(MAX_BACKOFF_EXPONENT, this.backoff + 1);
      this.rtoDeadline = now + this.timeout();
    }
    return out;
  }

  /** When the retransmission timer expires, or undefined with nothing in flight. */
  nextDeadline(): number | undefined {
    return this.rtoDeadline;
  }

  /** Every message not yet delivered, in send order; the sender is emptied. */
  drainUndelivered(): MessageId[] {
    const ids = [...this.remaining.keys()];
    this.remaining.clear();
    this.fragments.clear();
    this.queuedBytes = 0;
    this.unacked = this.unsent = this.nextSeq;
    this.rtoDeadline = undefined;
    return ids;
  }

  get pendingMessages(): number {
    return this.remaining.size;
  }

  /** Whether any fragment was sent and not yet acknowledged. */
  get inFlight(): boolean {
    return this.unacked < this.unsent;
  }

  private markSent(fragment: OutgoingFragment, now: number): OutgoingFragment {
    fragment.transmissions++;
    fragment.lastSentAt = now;
    return fragment;
  }
}

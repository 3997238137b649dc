/**
 * The sending half of reliable delivery: splits messages into fragments with consecutive
 * sequence numbers, keeps at most `window` of them in flight, learns from cumulative and
 * selective acknowledgements what arrived, and says what to retransmit and when.
 *
 * Delivered means the peer's program has the message. The receiver hands messages over in
 * order, so a message is delivered only when the cumulative `ack` passes its last fragment:
 * everything before it has been handed over too. A selective ack says a fragment arrived but may
 * wait behind a gap that is never filled; it only stops that fragment's retransmissions.
 */
import type { MessageId } from '../events.js';
import { Fifo } from '../fifo.js';
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
  /** Selectively acknowledged: arrived, but perhaps behind a gap, so kept until the cumulative ack passes it. */
  sacked: boolean;
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
  /**
   * Every fragment the cumulative ack has not passed, sent or not: seq s is at
   * `queue[s - queueStart]` (selectively acknowledged ones stay, marked, until the cumulative ack
   * passes them), and the front below `unacked` is trimmed now and then. An array, not a Map: a
   * Map used as a queue reallocates its table every few messages as entries come and go.
   */
  private queue: (OutgoingFragment | undefined)[] = [];
  /** The sequence number of `queue[0]`. */
  private queueStart = 0;
  /** Fragments in `queue` not yet acknowledged, cumulatively or selectively. */
  private unacknowledged = 0;
  /** Messages not yet delivered (waiting ones included). */
  private messages = 0;
  /**
   * Messages not yet cut into fragments, oldest first: a message becomes fragments (and its
   * text bytes) only when the window first lets it go. A long queue then holds an id and the
   * caller's string per message, not fragment objects and byte arrays for the GC to copy and
   * promote while it drains (50,000 queued at once in the throughput benchmark).
   */
  private readonly waitingIds = new Fifo<MessageId>();
  private readonly waitingBodies = new Fifo<string | Uint8Array>();
  private backoff = 0;
  /** When `pathChanged` last resent (ms). */
  private pathChangedAt = Number.NEGATIVE_INFINITY;
  /** Something was newly acknowledged since `pathChanged` last resent (or it never did). */
  private progressSincePathChange = true;
  /** Retransmission timeouts in a row with nothing newly acknowledged (a lingering close gives up on many). */
  stalledTimeouts = 0;
  /** The highest sequence number a selective acknowledgement has named: fragments well below it are lost. */
  private highestAcked = -1;
  /** The one retransmission timer (RFC 6298 5.1-5.7): runs while anything is in flight. */
  private rtoDeadline: number | undefined;
  queuedBytes = 0;
  /** Messages the last `onAck` delivered, in send order. Reused: read them before the next call. */
  readonly delivered: MessageId[] = [];
  /** What the last `takeNew` / `takeRetransmissions` returned. Reused, like `delivered`. */
  private readonly batch: OutgoingFragment[] = [];

  constructor(
    private readonly window: number,
    private readonly rtt: RttEstimator,
  ) {}

  /** Queues a message: its bytes, or its text and the text's UTF-8 length. */
  enqueue(messageId: MessageId, body: Uint8Array): void;
  enqueue(messageId: MessageId, body: string, byteLength: number): void;
  enqueue(messageId: MessageId, body: string | Uint8Array, byteLength?: number): void {
    this.messages++;
    this.queuedBytes += typeof body === 'string' ? (byteLength as number) : body.length;
    // Bytes with nothing waiting before them are cut at once (the round-trip path).
    if (typeof body !== 'string' && this.waitingIds.size === 0) {
      this.cut(messageId, body);
      return;
    }
    this.waitingIds.push(messageId);
    this.waitingBodies.push(body);
  }

  /** Whether a message queued now would wait (the window is full, or others wait before it). */
  get backlogged(): boolean {
    return (
      this.waitingIds.size > 0 || this.unsent < this.nextSeq || this.unsent >= this.unacked + this.window
    );
  }

  /** Cuts the oldest waiting message into fragments at the end of the queue; false if none waits. */
  private expandNext(): boolean {
    const messageId = this.waitingIds.shift();
    const body = this.waitingBodies.shift();
    if (messageId === undefined || body === undefined) return false;
    this.cut(messageId, typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
    return true;
  }

  /** Appends a message's fragments to the queue. */
  private cut(messageId: MessageId, bytes: Uint8Array): void {
    const count = Math.max(1, Math.ceil(bytes.length / MAX_FRAGMENT_BYTES));
    for (let index = 0; index < count; index++) {
      const payload =
        count === 1 ? bytes : bytes.subarray(index * MAX_FRAGMENT_BYTES, (index + 1) * MAX_FRAGMENT_BYTES);
      this.queue.push({
        seq: this.nextSeq++,
        messageId,
        index,
        count,
        payload,
        transmissions: 0,
        lastSentAt: 0,
        sacked: false,
      });
    }
    this.unacknowledged += count;
  }

  /** The fragment with sequence number `seq` the cumulative ack has not passed, if any. */
  private fragment(seq: number): OutgoingFragment | undefined {
    return seq >= this.queueStart ? this.queue[seq - this.queueStart] : undefined;
  }

  /** Fragments never sent that the window now allows, marked as sent at `now`. */
  takeNew(now: number): readonly OutgoingFragment[] {
    const out = emptied(this.batch);
    while (this.unsent < this.unacked + this.window) {
      if (this.unsent === this.nextSeq && !this.expandNext()) break;
      const fragment = this.fragment(this.unsent++);
      if (fragment) out.push(this.markSent(fragment, now));
    }
    if (out.length > 0 && this.rtoDeadline === undefined) this.rtoDeadline = now + this.timeout();
    return out;
  }

  /**
   * Applies an acknowledgement; the messages it delivered (the cumulative ack passed their last
   * fragment) are left in `delivered`, in send order. `ack` is the next sequence number the peer
   * expects; bit i of `sack` stands for ack + 1 + i; `ackDelayMs` is how long the peer held it
   * since the newest fragment it covers arrived. Returns whether it acknowledged anything new
   * (cumulatively or selectively: either is progress for the timer) or delivered anything.
   */
  onAck(ack: number, sack: number, ackDelayMs: number, now: number): boolean {
    const delivered = emptied(this.delivered);
    const before = this.unacknowledged;
    // One round-trip sample per acknowledgement, from the newest fragment it covers, and only if
    // that one is newly acknowledged and was sent once (QUIC's rule, and Karn's): the peer's
    // ack delay is measured from exactly that fragment's arrival.
    const newest = sack === 0 ? ack - 1 : ack + 32 - Math.clz32(sack);
    const newestFragment = newest < this.unsent ? this.fragment(newest) : undefined;
    if (newestFragment && newestFragment.transmissions === 1 && !newestFragment.sacked)
      this.rtt.sample(now - newestFragment.lastSentAt, ackDelayMs);
    const passed = Math.min(ack, this.unsent);
    for (let seq = this.unacked; seq < passed; seq++) this.pass(seq, delivered);
    if (passed > this.unacked) this.unacked = passed;
    for (let bit = 0; bit < 32 && sack >>> bit !== 0; bit++) {
      if ((sack >>> bit) & 1) this.markSacked(ack + 1 + bit);
    }
    if (sack !== 0) this.highestAcked = Math.max(this.highestAcked, newest);
    this.trim();
    // Anything newly acknowledged proves the path works again: stop backing off, restart the timer.
    // (A cumulative ack that only passes fragments already selectively acknowledged acknowledges
    // nothing new, but it delivers: that is progress too, and the caller must hear of it.)
    if (this.unacknowledged < before || delivered.length > 0) {
      this.backoff = 0;
      this.stalledTimeouts = 0;
      this.progressSincePathChange = true;
      this.rtoDeadline = this.unacked < this.unsent ? now + this.timeout() : undefined;
      return true;
    }
    return false;
  }

  /** The cumulative ack passed `seq` (below `unsent`): its message is delivered if it was the last fragment. */
  private pass(seq: number, delivered: MessageId[]): void {
    const fragment = this.queue[seq - this.queueStart];
    if (!fragment) return;
    this.queue[seq - this.queueStart] = undefined;
    if (!fragment.sacked) this.unacknowledged--;
    this.queuedBytes -= fragment.payload.length;
    if (fragment.index === fragment.count - 1) {
      this.messages--;
      delivered.push(fragment.messageId);
    }
  }

  /** A selective ack named `seq`: it arrived, so it is not resent; its message is not delivered yet. */
  private markSacked(seq: number): void {
    const fragment = seq < this.unsent ? this.fragment(seq) : undefined;
    if (!fragment || fragment.sacked) return;
    fragment.sacked = true;
    this.unacknowledged--;
  }

  /**
   * Drops the fragments the cumulative ack passed from the front of the queue: all of it once
   * the ack passed everything, else in one splice once they are most of it (amortised O(1) per
   * fragment).
   */
  private trim(): void {
    const queue = this.queue;
    if (this.unacked === this.nextSeq) {
      this.queueStart += queue.length;
      emptied(queue);
      return;
    }
    // Everything below `unacked` is passed: no need to look (scanning the holes from the
    // front on every ack was quadratic with a long queue: 4 % of a throughput profile).
    const head = this.unacked - this.queueStart;
    if (head >= 64 && head * 2 >= queue.length) {
      queue.splice(0, head);
      this.queueStart += head;
    }
  }

  /** The retransmission timeout with the session's backoff applied. */
  private timeout(): number {
    return this.rtt.backedOff(this.backoff);
  }

  /**
   * Fragments to send again now, never one selectively acknowledged. When the timer expires: the
   * whole flight the first time (the path may just have had a bad moment), then only the oldest
   * fragment, doubling the timeout each time. Besides, any fragment that later selectively
   * acknowledged ones show to be lost (at most once per round trip).
   */
  takeRetransmissions(now: number): readonly OutgoingFragment[] {
    const out = emptied(this.batch);
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
      const fragment = this.fragment(seq);
      if (!fragment || fragment.sacked) continue;
      const byTimer = expired && (first || wholeFlight);
      const bySack =
        fragment.seq + REORDER_THRESHOLD <= this.highestAcked && now - fragment.lastSentAt >= roundTrip;
      if (byTimer || bySack) out.push(this.markSent(fragment, now));
      first = false;
    }
    if (expired) {
      this.backoff = Math.min(MAX_BACKOFF_EXPONENT, this.backoff + 1);
      this.stalledTimeouts++;
      this.rtoDeadline = now + this.timeout();
    }
    return out;
  }

  /**
   * The channel moved to a newly validated path (roaming, or onto or off the relay): whatever is
   * unacknowledged goes again now, with the backoff the dead path built up forgotten (it may have
   * put the next try up to maxRto away). The liveness count stays as it is.
   */
  pathChanged(now: number): void {
    if (this.unacked >= this.unsent) return;
    // At most once a timeout: a peer's challenges cannot make us resend faster than a timer
    // without backoff would.
    if (now - this.pathChangedAt < this.rtt.rto) return;
    // And once until the peer acknowledges something: a peer that acknowledges nothing and
    // challenges us from its own address every timeout had the whole flight again each time,
    // for as long as it liked (32 MB out for 246 KB in over 60 s: a silent peer's timer, backing
    // off, sends 0.23 MB). A move that worked is acknowledged, and the next one resends again.
    if (!this.progressSincePathChange) return;
    this.progressSincePathChange = false;
    this.pathChangedAt = now;
    this.backoff = 0;
    this.rtoDeadline = now;
  }

  /** When the retransmission timer expires, or undefined with nothing in flight. */
  nextDeadline(): number | undefined {
    return this.rtoDeadline;
  }

  /** Every message not yet delivered (selectively acknowledged ones too), in send order; the sender is emptied. */
  drainUndelivered(): MessageId[] {
    const ids: MessageId[] = [];
    // Fragments are in send order, and a message's fragments are consecutive.
    for (const fragment of this.queue)
      if (fragment && ids[ids.length - 1] !== fragment.messageId) ids.push(fragment.messageId);
    for (let id = this.waitingIds.shift(); id !== undefined; id = this.waitingIds.shift()) ids.push(id);
    while (this.waitingBodies.shift() !== undefined);
    this.queueStart += this.queue.length;
    this.queue = [];
    this.unacknowledged = 0;
    this.messages = 0;
    this.queuedBytes = 0;
    this.unacked = this.unsent = this.nextSeq;
    this.rtoDeadline = undefined;
    return ids;
  }

  get pendingMessages(): number {
    return this.messages;
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

/**
 * `array`, emptied for reuse. Popping keeps the backing store; `length = 0` is a runtime call
 * that drops it, so the next push allocates again (this runs a few times per datagram).
 */
export function emptied<T>(array: T[]): T[] {
  while (array.length > 0) array.pop();
  return array;
}

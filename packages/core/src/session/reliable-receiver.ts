/**
 * The receiving half of reliable delivery: suppresses duplicates, holds early fragments until
 * the gap before them fills, reassembles messages in send order, and says what to acknowledge
 * (and how long the newest fragment it acknowledges has waited: the ack delay).
 */
import type { Text } from '../wire/messages.js';
import { emptied } from './reliable-sender.js';

export type ReceiveOutcome =
  /** New, and the next expected with nothing held early: an acknowledgement may wait a little. */
  | 'in_order'
  /** New, but early or filling a gap: the sender is waiting to hear about it, acknowledge at once. */
  | 'out_of_order'
  /** Already had it: the acknowledgement must have been lost, so acknowledge again. */
  | 'duplicate'
  /** Beyond the receive window: dropped without acknowledging; the sender will retransmit. */
  | 'out_of_window';

export interface AckFields {
  readonly ack: number;
  readonly sack: number;
  /** ms since the newest fragment this acknowledgement covers arrived. */
  readonly ackDelayMs: number;
}

const NOTHING_RECEIVED: AckFields = { ack: 0, sack: 0, ackDelayMs: 0 };

export class ReliableReceiver {
  /** The next sequence number expected: everything below it has arrived. */
  private next = 0;
  /** Fragments that arrived ahead of a gap, and when each arrived. */
  private readonly early = new Map<number, Text>();
  private readonly earlyAt = new Map<number, number>();
  /** When fragment next - 1 arrived. */
  private contiguousAt = 0;
  private partial: Uint8Array[] = [];
  private partialBytes = 0;
  private partialCount = 0;
  /** After a broken message: skip its remaining fragments (up to the next index 0) without more errors. */
  private discarding = false;
  /** Fragments received since the last acknowledgement was sent. */
  unacknowledged = 0;
  /** Messages completed by the last `receive`, in order. Reused: read them before the next call. */
  readonly completed: Uint8Array[] = [];
  /** Why the last `receive` dropped a (partial) message, if it did. */
  problem: string | undefined;

  constructor(
    private readonly window: number,
    private readonly maxMessageBytes: number,
  ) {}

  /** Whether `seq` already arrived (delivered or held early). */
  has(seq: number): boolean {
    return seq < this.next || this.early.has(seq);
  }

  /**
   * Takes one fragment. Complete messages go to `completed`; a message whose fragments do not
   * form one is dropped and `problem` says why (what waits behind it is still delivered).
   */
  receive(text: Text, now: number): ReceiveOutcome {
    emptied(this.completed);
    this.problem = undefined;
    const seq = text.seq;
    if (this.has(seq)) return 'duplicate';
    // The window counts the next expected fragment: next … next + window − 1 are taken.
    if (seq >= this.next + this.window) return 'out_of_window';
    this.unacknowledged++;
    if (seq !== this.next) {
      this.early.set(seq, text);
      this.earlyAt.set(seq, now);
      return 'out_of_order';
    }
    // Filling a gap counts as out of order too: the sender is waiting to hear about it.
    const inOrder = this.early.size === 0;
    this.next++;
    this.contiguousAt = now;
    this.append(text);
    // Drain everything now in order, even past a bad fragment: what waits behind it must not stall.
    for (let fragment = this.early.get(this.next); fragment; fragment = this.early.get(this.next)) {
      this.contiguousAt = this.earlyAt.get(this.next) ?? now;
      this.early.delete(this.next);
      this.earlyAt.delete(this.next);
      this.next++;
      this.append(fragment);
    }
    return inOrder ? 'in_order' : 'out_of_order';
  }

  /** Adds an in-order fragment to the message being rebuilt. */
  private append(fragment: Text): void {
    const index = fragment.fragmentIndex;
    if (index === 0) {
      // Index 0 always starts a new message; one half-built before it can never complete.
      if (this.partial.length > 0) this.fail(`fragment 0 where ${this.partial.length} was expected`);
      this.discarding = false;
      this.partialCount = fragment.fragmentCount;
    } else if (this.discarding) {
      return;
    } else if (index !== this.partial.length) {
      this.fail(`fragment ${index} where ${this.partial.length} was expected`);
      return;
    } else if (fragment.fragmentCount !== this.partialCount) {
      this.fail(`fragment count changed from ${this.partialCount} to ${fragment.fragmentCount}`);
      return;
    }
    this.partialBytes += fragment.payload.length;
    if (this.partialBytes > this.maxMessageBytes) {
      this.fail(`message longer than ${this.maxMessageBytes} bytes`);
      return;
    }
    if (fragment.fragmentCount === 1) {
      // The common case, a message in one fragment: no parts to gather.
      this.completed.push(fragment.payload);
      this.partialBytes = 0;
      return;
    }
    this.partial.push(fragment.payload);
    if (index === fragment.fragmentCount - 1) {
      this.completed.push(concat(this.partial, this.partialBytes));
      this.partial = [];
      this.partialBytes = 0;
    }
  }

  /** Drops the message being rebuilt, and its fragments still to come. */
  private fail(reason: string): void {
    this.problem ??= reason;
    this.partial = [];
    this.partialBytes = 0;
    this.discarding = true;
  }

  /**
   * The acknowledgement describing everything received so far, as of `now`. With nothing
   * received it covers no fragment, so there is no delay to report: 0 (PROTOCOL.md, ackDelay).
   */
  ackFields(now: number): AckFields {
    if (this.next === 0 && this.early.size === 0) return NOTHING_RECEIVED;
    let sack = 0;
    let newestAt = this.contiguousAt;
    if (this.early.size > 0) {
      for (let bit = 0; bit < 32; bit++) {
        const at = this.earlyAt.get(this.next + 1 + bit);
        if (at !== undefined) {
          sack |= 1 << bit;
          newestAt = at;
        }
      }
    }
    // ack 0 and sack 0 cover no fragment, even when some are held beyond the sack's 32: no delay.
    if (this.next === 0 && sack === 0) return NOTHING_RECEIVED;
    return { ack: this.next, sack: sack >>> 0, ackDelayMs: Math.max(0, now - newestAt) };
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

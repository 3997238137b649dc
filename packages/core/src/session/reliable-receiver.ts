/**
 * The receiving half of reliable delivery: suppresses duplicates, holds early fragments until
 * the gap before them fills, reassembles messages in send order, and says what to acknowledge.
 */
import type { Text } from '../wire/messages.js';

export type ReceiveOutcome =
  /** New in-order data: `messages` are complete texts, in order. */
  | { kind: 'accepted'; messages: Uint8Array[]; inOrder: boolean }
  /** Already had it: the acknowledgement must have been lost, so acknowledge again. */
  | { kind: 'duplicate' }
  /** Beyond the receive window: dropped; the sender will retransmit. */
  | { kind: 'out_of_window' }
  /** Fragments that do not form a message (a misbehaving peer): the partial message is dropped. */
  | { kind: 'protocol_error'; reason: string; messages: Uint8Array[] };

export class ReliableReceiver {
  /** The next sequence number expected: everything below it has arrived. */
  private next = 0;
  private readonly early = new Map<number, Text>();
  private partial: Uint8Array[] = [];
  private partialBytes = 0;
  private partialCount = 0;
  /** Sequence-ordered fragments received since the last acknowledgement was sent. */
  unacknowledged = 0;

  constructor(
    private readonly window: number,
    private readonly maxMessageBytes: number,
  ) {}

  receive(text: Text): ReceiveOutcome {
    if (text.seq < this.next || this.early.has(text.seq)) return { kind: 'duplicate' };
    if (text.seq >= this.next + this.window) return { kind: 'out_of_window' };
    this.unacknowledged++;
    // Filling a gap counts as out of order too: the sender is waiting to hear about it.
    const inOrder = text.seq === this.next && this.early.size === 0;
    this.early.set(text.seq, text);
    const messages: Uint8Array[] = [];
    let firstProblem: string | undefined;
    // Drain everything now in order, even past a bad fragment: what waits behind it must not stall.
    for (let fragment = this.early.get(this.next); fragment; fragment = this.early.get(this.next)) {
      this.early.delete(this.next++);
      const problem = this.append(fragment, messages);
      firstProblem ??= problem;
    }
    if (firstProblem) return { kind: 'protocol_error', reason: firstProblem, messages };
    return { kind: 'accepted', messages, inOrder };
  }

  /** Adds an in-order fragment to the message being rebuilt; returns a problem, if any. */
  private append(fragment: Text, complete: Uint8Array[]): string | undefined {
    const expectedIndex = this.partial.length;
    if (fragment.fragmentIndex !== expectedIndex) {
      this.resetPartial();
      return `fragment ${fragment.fragmentIndex} where ${expectedIndex} was expected`;
    }
    if (expectedIndex === 0) this.partialCount = fragment.fragmentCount;
    else if (fragment.fragmentCount !== this.partialCount) {
      this.resetPartial();
      return `fragment count changed from ${this.partialCount} to ${fragment.fragmentCount}`;
    }
    this.partialBytes += fragment.payload.length;
    if (this.partialBytes > this.maxMessageBytes) {
      this.resetPartial();
      return `message longer than ${this.maxMessageBytes} bytes`;
    }
    this.partial.push(fragment.payload);
    if (fragment.fragmentIndex === fragment.fragmentCount - 1) {
      complete.push(concat(this.partial, this.partialBytes));
      this.resetPartial();
    }
    return undefined;
  }

  private resetPartial(): void {
    this.partial = [];
    this.partialBytes = 0;
  }

  /** The acknowledgement fields describing everything received so far. */
  ackFields(): { ack: number; sack: number } {
    let sack = 0;
    if (this.early.size > 0) {
      for (let bit = 0; bit < 32; bit++) if (this.early.has(this.next + 1 + bit)) sack |= 1 << bit;
    }
    return { ack: this.next, sack: sack >>> 0 };
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

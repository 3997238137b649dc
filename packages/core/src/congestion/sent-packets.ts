/**
 * The packets sent in one packet-number space and not yet acknowledged or declared lost: a ring
 * of columns (typed arrays) indexed by packet number, so sending, acknowledging and losing a
 * packet allocate nothing and find it in O(1). Packet numbers are consecutive from 0; the ring
 * holds `[base, next)`, where `base` is the lowest packet still unresolved (everything below it
 * was acknowledged or lost and is forgotten), and doubles when that span outgrows it.
 *
 * The record of one packet, one owner per column: loss detection writes the send columns and
 * the state; the delivery-rate estimator writes its three columns (`delivered`,
 * `deliveredAt`, `firstSentAt`).
 */

/** Counted in bytes_in_flight (RFC 9002: ack-eliciting or padding). */
export const IN_FLIGHT = 1;
/** Elicits an acknowledgement (everything but ack-only packets). */
export const ACK_ELICITING = 2;
/** Sent while the sender was application-limited (draft-cheng's P.is_app_limited). */
export const APP_LIMITED = 4;
/** Resolved: acknowledged. */
export const ACKED = 8;
/** Resolved: declared lost. */
export const LOST = 16;
/**
 * A PMTU probe (RFC 8899; RFC 9000 §14.4): in flight like any packet, but its loss says the probed
 * size did not get through, not that the path is congested.
 */
export const PROBE = 32;
const RESOLVED = ACKED | LOST;

const INITIAL_CAPACITY = 256;

export class SentPackets {
  private mask = INITIAL_CAPACITY - 1;
  /** The lowest packet number held; every lower one is resolved and forgotten. */
  private lowest = 0;
  /** The next packet number to send. */
  private upcoming = 0;
  private sentAtColumn = new Float64Array(INITIAL_CAPACITY);
  private bytesColumn = new Uint32Array(INITIAL_CAPACITY);
  private flagsColumn = new Uint8Array(INITIAL_CAPACITY);
  private tagColumn = new Float64Array(INITIAL_CAPACITY);
  /** Delivery-rate columns (delivery-rate.ts writes them). */
  delivered = new Float64Array(INITIAL_CAPACITY);
  deliveredAt = new Float64Array(INITIAL_CAPACITY);
  firstSentAt = new Float64Array(INITIAL_CAPACITY);
  /** RFC 9002's bytes_in_flight. */
  bytesInFlight = 0;
  /** Ack-eliciting packets in flight (the PTO runs only while there is one). */
  ackElicitingInFlight = 0;

  /** The lowest unresolved packet number (or `next` when none is). */
  get base(): number {
    return this.lowest;
  }

  /** The packet number the next `add` gets. */
  get next(): number {
    return this.upcoming;
  }

  /** Whether `pn` is held and neither acknowledged nor lost. */
  isOutstanding(pn: number): boolean {
    return (
      pn >= this.lowest &&
      pn < this.upcoming &&
      ((this.flagsColumn[pn & this.mask] as number) & RESOLVED) === 0
    );
  }

  /** Records a packet; returns its packet number. `tag` is the caller's (what the packet carried). */
  add(sentAt: number, bytes: number, flags: number, tag: number): number {
    if (this.upcoming - this.lowest > this.mask) this.grow();
    const pn = this.upcoming++;
    const slot = pn & this.mask;
    this.sentAtColumn[slot] = sentAt;
    this.bytesColumn[slot] = bytes;
    this.flagsColumn[slot] = flags & (IN_FLIGHT | ACK_ELICITING | APP_LIMITED | PROBE);
    this.tagColumn[slot] = tag;
    if (flags & IN_FLIGHT) this.bytesInFlight += bytes;
    if (flags & ACK_ELICITING) this.ackElicitingInFlight++;
    return pn;
  }

  sentAt(pn: number): number {
    return this.sentAtColumn[pn & this.mask] as number;
  }

  bytes(pn: number): number {
    return this.bytesColumn[pn & this.mask] as number;
  }

  flags(pn: number): number {
    return this.flagsColumn[pn & this.mask] as number;
  }

  tag(pn: number): number {
    return this.tagColumn[pn & this.mask] as number;
  }

  /** The column slot of `pn` (for the delivery-rate columns). */
  slot(pn: number): number {
    return pn & this.mask;
  }

  /** Marks an outstanding packet acknowledged or lost (`state` is ACKED or LOST), out of flight. */
  resolve(pn: number, state: typeof ACKED | typeof LOST): void {
    const slot = pn & this.mask;
    const flags = this.flagsColumn[slot] as number;
    this.flagsColumn[slot] = flags | state;
    if (flags & IN_FLIGHT) this.bytesInFlight -= this.bytesColumn[slot] as number;
    if (flags & ACK_ELICITING) this.ackElicitingInFlight--;
  }

  /** Takes an outstanding packet out of the bytes in flight, still held (a path that changed). */
  leaveFlight(pn: number): void {
    const slot = pn & this.mask;
    const flags = this.flagsColumn[slot] as number;
    if ((flags & IN_FLIGHT) === 0) return;
    this.flagsColumn[slot] = flags & ~IN_FLIGHT;
    this.bytesInFlight -= this.bytesColumn[slot] as number;
  }

  /** Forgets the resolved packets at the front. */
  trim(): void {
    while (
      this.lowest < this.upcoming &&
      ((this.flagsColumn[this.lowest & this.mask] as number) & RESOLVED) !== 0
    )
      this.lowest++;
  }

  /** Doubles the ring, keeping each held packet at its packet number's new slot. */
  private grow(): void {
    const oldMask = this.mask;
    const capacity = (oldMask + 1) * 2;
    const mask = capacity - 1;
    const move = <A extends Float64Array | Uint32Array | Uint8Array>(from: A, to: A): A => {
      for (let pn = this.lowest; pn < this.upcoming; pn++) to[pn & mask] = from[pn & oldMask] as number;
      return to;
    };
    this.sentAtColumn = move(this.sentAtColumn, new Float64Array(capacity));
    this.bytesColumn = move(this.bytesColumn, new Uint32Array(capacity));
    this.flagsColumn = move(this.flagsColumn, new Uint8Array(capacity));
    this.tagColumn = move(this.tagColumn, new Float64Array(capacity));
    this.delivered = move(this.delivered, new Float64Array(capacity));
    this.deliveredAt = move(this.deliveredAt, new Float64Array(capacity));
    this.firstSentAt = move(this.firstSentAt, new Float64Array(capacity));
    this.mask = mask;
  }
}

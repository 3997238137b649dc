/**
 * What each packet of a path's stream space carried, by packet number, so that an
 * acknowledgement or a loss (loss-detection.ts reports packet numbers) reaches the stream it
 * concerns: a ring of columns beside loss detection's own (SentPackets), over the same span of
 * packet numbers, so recording and finding a packet allocate nothing.
 */

/** Stream bytes (and perhaps the fin). */
export const DATA = 1;
/** A control message (credit, reset, stop, limit): resent with its latest value when lost. */
export const CONTROL = 2;
/** A PMTU probe (the path's own, `length` its datagram size): never sent again. */
export const PROBE = 3;

/** The session's streams on a path, as the path sees them: they get their packets' fates. */
export interface FrameOwner {
  /** The session ended: its packets' fates concern nobody. */
  readonly ended: boolean;
  onDataAcked(stream: number, offset: number, length: number, fin: boolean): void;
  onDataLost(stream: number, offset: number, length: number, fin: boolean, now: number): void;
  onControlAcked(code: number, stream: number): void;
  onControlLost(code: number, stream: number, now: number): void;
}

const INITIAL_CAPACITY = 256;

export class SentFrames {
  private mask = INITIAL_CAPACITY - 1;
  private kinds = new Uint8Array(INITIAL_CAPACITY);
  private owners: (FrameOwner | undefined)[] = new Array(INITIAL_CAPACITY);
  private streams = new Float64Array(INITIAL_CAPACITY);
  private offsets = new Float64Array(INITIAL_CAPACITY);
  private lengths = new Uint32Array(INITIAL_CAPACITY);
  /** DATA: 1 if the fin went; CONTROL: the message code. */
  private extras = new Uint8Array(INITIAL_CAPACITY);

  /** Records packet `pn`; `base` is the lowest packet number still held by loss detection. */
  record(
    base: number,
    pn: number,
    kind: number,
    owner: FrameOwner,
    stream: number,
    offset: number,
    length: number,
    extra: number,
  ): void {
    if (pn - base > this.mask) this.grow(base, pn);
    const slot = pn & this.mask;
    this.kinds[slot] = kind;
    this.owners[slot] = owner;
    this.streams[slot] = stream;
    this.offsets[slot] = offset;
    this.lengths[slot] = length;
    this.extras[slot] = extra;
  }

  kind(pn: number): number {
    return this.kinds[pn & this.mask] as number;
  }

  /** DATA: the stream bytes `pn` carried; PROBE: its datagram size. */
  length(pn: number): number {
    return this.lengths[pn & this.mask] as number;
  }

  /** Forgets `pn` without telling anyone (a probe: the path takes its fate itself). */
  forget(pn: number): void {
    const slot = pn & this.mask;
    this.kinds[slot] = 0;
    this.owners[slot] = undefined;
  }

  /** Tells the owner of `pn` that it was acknowledged (`acked`) or lost, and forgets it. */
  settle(pn: number, acked: boolean, now: number): void {
    const slot = pn & this.mask;
    const kind = this.kinds[slot] as number;
    const owner = this.owners[slot];
    this.kinds[slot] = 0;
    this.owners[slot] = undefined;
    if (!owner || owner.ended) return;
    const stream = this.streams[slot] as number;
    const extra = this.extras[slot] as number;
    if (kind === DATA) {
      const offset = this.offsets[slot] as number;
      const length = this.lengths[slot] as number;
      if (acked) owner.onDataAcked(stream, offset, length, extra === 1);
      else owner.onDataLost(stream, offset, length, extra === 1, now);
    } else if (kind === CONTROL) {
      if (acked) owner.onControlAcked(extra, stream);
      else owner.onControlLost(extra, stream, now);
    }
  }

  /**
   * For a probe (RFC 9002 §6.2.4): tells the owner of the oldest outstanding packet in
   * [from, to) that it may be lost (without forgetting it), so its data goes again. Returns that
   * packet's number, or -1 if there is none.
   */
  resendOldest(from: number, to: number, outstanding: (pn: number) => boolean, now: number): number {
    for (let pn = from; pn < to; pn++) {
      if (!outstanding(pn)) continue;
      const slot = pn & this.mask;
      const owner = this.owners[slot];
      if (!owner || owner.ended) continue;
      const kind = this.kinds[slot] as number;
      const stream = this.streams[slot] as number;
      const extra = this.extras[slot] as number;
      if (kind === DATA)
        owner.onDataLost(
          stream,
          this.offsets[slot] as number,
          this.lengths[slot] as number,
          extra === 1,
          now,
        );
      else if (kind === CONTROL) owner.onControlLost(extra, stream, now);
      else continue;
      return pn;
    }
    return -1;
  }

  private grow(base: number, pn: number): void {
    const oldMask = this.mask;
    let capacity = (oldMask + 1) * 2;
    while (pn - base >= capacity) capacity *= 2;
    const mask = capacity - 1;
    const move = <A extends Float64Array | Uint32Array | Uint8Array>(from: A, to: A): A => {
      for (let n = base; n < pn; n++) to[n & mask] = from[n & oldMask] as number;
      return to;
    };
    const owners: (FrameOwner | undefined)[] = new Array(capacity);
    for (let n = base; n < pn; n++) owners[n & mask] = this.owners[n & oldMask];
    this.kinds = move(this.kinds, new Uint8Array(capacity));
    this.streams = move(this.streams, new Float64Array(capacity));
    this.offsets = move(this.offsets, new Float64Array(capacity));
    this.lengths = move(this.lengths, new Uint32Array(capacity));
    this.extras = move(this.extras, new Uint8Array(capacity));
    this.owners = owners;
    this.mask = mask;
  }
}

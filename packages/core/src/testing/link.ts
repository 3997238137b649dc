/**
 * One direction of a simulated path, on virtual time: a bottleneck of `bandwidth` bytes/s with a
 * drop-tail buffer of `buffer` bytes in front of it, then `delay` ms of propagation, and seeded
 * random loss. FIFO serialization: a datagram starts when the link is free, takes size /
 * bandwidth to serialize, and arrives `delay` later; one that would find more than `buffer`
 * bytes waiting is dropped at the tail. Pure TypeScript, no dependency on the engine, so the
 * virtual network can take it as its link model. Same seed, same losses, every run.
 */
import { seededRandom } from './seeded-random.js';

export interface LinkOptions {
  /** Bottleneck rate, bytes per second. */
  bandwidth: number;
  /** One-way propagation delay, ms. */
  delay: number;
  /** Drop-tail buffer, bytes (the bytes waiting, the one being serialized included). */
  buffer: number;
  /** Probability that a datagram is lost on the wire (after it used the link), 0 to 1. */
  loss?: number;
  /** Seed of the loss generator. */
  seed?: number;
}

export interface LinkStats {
  sent: number;
  delivered: number;
  deliveredBytes: number;
  /** Dropped because the buffer was full. */
  droppedFull: number;
  /** Lost at random. */
  droppedRandom: number;
}

export class Link<T> {
  readonly stats: LinkStats = { sent: 0, delivered: 0, deliveredBytes: 0, droppedFull: 0, droppedRandom: 0 };
  /** When the transmitter finishes the last datagram it accepted (ms). */
  private freeAt = 0;
  private readonly random: () => number;
  // A ring of datagrams on their way, in arrival order (FIFO with a constant delay).
  private arrivals = new Float64Array(1024);
  private sizes = new Float64Array(1024);
  private items: (T | undefined)[] = new Array(1024);
  private head = 0;
  private count = 0;

  constructor(readonly options: LinkOptions) {
    this.random = seededRandom(options.seed ?? 1);
  }

  /** Bytes waiting at `now`, the rest of the one being serialized included. */
  backlog(now: number): number {
    return (Math.max(0, this.freeAt - now) * this.options.bandwidth) / 1000;
  }

  /** How long (ms) a datagram given to the link at `now` waits before its serialization starts. */
  queueDelay(now: number): number {
    return Math.max(0, this.freeAt - now);
  }

  /** Offers a datagram; false if it was dropped (full buffer, or lost on the wire). */
  send(now: number, bytes: number, item: T): boolean {
    const at = this.admit(now, bytes);
    if (at === undefined) return false;
    if (this.count === this.arrivals.length) this.grow();
    const slot = (this.head + this.count++) % this.arrivals.length;
    this.arrivals[slot] = at;
    this.sizes[slot] = bytes;
    this.items[slot] = item;
    return true;
  }

  /**
   * Offers a datagram the caller carries itself (the virtual network's links): when it arrives,
   * or undefined if it was dropped. Counted as `send` counts; `delivered` is the caller's to count.
   */
  admit(now: number, bytes: number): number | undefined {
    this.stats.sent++;
    if (this.backlog(now) + bytes > this.options.buffer) {
      this.stats.droppedFull++;
      return undefined;
    }
    this.freeAt = Math.max(now, this.freeAt) + (bytes * 1000) / this.options.bandwidth;
    if (this.options.loss && this.random() < this.options.loss) {
      this.stats.droppedRandom++;
      return undefined;
    }
    return this.freeAt + this.options.delay;
  }

  /** When the next datagram arrives, Infinity if none is on its way. */
  nextArrival(): number {
    return this.count === 0 ? Number.POSITIVE_INFINITY : (this.arrivals[this.head] as number);
  }

  /** The next datagram if it has arrived by `now`. */
  receive(now: number): T | undefined {
    if (this.count === 0 || (this.arrivals[this.head] as number) > now) return undefined;
    const item = this.items[this.head];
    this.stats.delivered++;
    this.stats.deliveredBytes += this.sizes[this.head] as number;
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.arrivals.length;
    this.count--;
    return item;
  }

  private grow(): void {
    const length = this.arrivals.length;
    const arrivals = new Float64Array(length * 2);
    const sizes = new Float64Array(length * 2);
    const items: (T | undefined)[] = new Array(length * 2);
    for (let i = 0; i < this.count; i++) {
      const slot = (this.head + i) % length;
      arrivals[i] = this.arrivals[slot] as number;
      sizes[i] = this.sizes[slot] as number;
      items[i] = this.items[slot];
    }
    this.arrivals = arrivals;
    this.sizes = sizes;
    this.items = items;
    this.head = 0;
  }
}

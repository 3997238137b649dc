/**
 * How a client's relayed paths share its relay send budget (PROTOCOL.md, "Relay": pacing). The
 * rendezvous's budget R belongs to the registration, so everything a client sends through one
 * rendezvous must fit R in all: the caps of its relayed addresses always add up to at most
 * C = R × 1200 / 1232 (the inner bytes that spend R when full packets travel 32 bytes larger).
 *
 * A relayed address **takes part** from the packet that goes to it until it has sent nothing
 * for IDLE_SWEEPS sweeps in a row (a chat that moved to a direct path, a session that closed:
 * its share comes back within a second). Every SWEEP_MS each part's rate since the last sweep is
 * measured: a part that used less than 3/4 of its cap is **light** and asks for twice its rate
 * (acknowledgements of a download, a chat line), any other asks for all it can get, and none
 * for less than C / 32. C is shared max-min fairly over what they ask: a part that asks for less
 * than an equal share gets what it asks, the others share the rest equally, and what nobody
 * asked for is spread over all of them, so the caps always add up to exactly C and a lone part
 * has all of it. An address that starts taking part beside others is counted at once (its first
 * packet: the others' caps drop in the same call) and asks for C / 32: a chat line or a
 * heartbeat costs a bulk stream on another path next to nothing, and a new bulk stream uses its
 * C / 32 up within the first sweep and shares equally from then on.
 * An address not taking part is capped at C: its pacer's bucket holds about one packet at such
 * rates, and its first packet makes it a part.
 */
import type { Address } from '../address.js';

/** Parts are measured this often (ms), while there are any. */
export const SWEEP_MS = 500;
/** Sweeps in a row without a packet after which an address no longer takes part. */
export const IDLE_SWEEPS = 2;
/**
 * A part that used less than this fraction of its cap is light. Over 1/2, so that a light part
 * kept at twice its rate stays light while its rate holds (no flapping); under 1, so that one
 * that grows into its cap shares equally at the next sweep.
 */
const LIGHT_BELOW = 3 / 4;
/** A light part keeps at least C divided by this. */
const LIGHT_FLOOR_DIVISOR = 32;

interface Part {
  readonly address: Address;
  /** Inner bytes sent since the last sweep. */
  sent: number;
  /** What it asks for (bytes a second): twice its rate if it was light, else all it can get (C / 32 at least). */
  demand: number;
  idleSweeps: number;
  /** The cap last set on the address. */
  cap: number;
}

export class RelayShares {
  /** Parts by the port of their relayed address. */
  private readonly parts = new Map<number, Part>();
  private total: number | undefined;
  private sweptAt: number | undefined;
  private nextSweep: number | undefined;

  constructor(private readonly setCap: (address: Address, bytesPerSecond: number | undefined) => void) {}

  /** Addresses taking part (for tests and leak checks). */
  get size(): number {
    return this.parts.size;
  }

  has(port: number): boolean {
    return this.parts.has(port);
  }

  /** The cap an address not taking part has: all of C (undefined: no budget told, no cap). */
  get idleCap(): number | undefined {
    return this.total;
  }

  /** C, the inner bytes a second all relayed addresses may send together; undefined lifts every cap. */
  setTotal(bytesPerSecond: number | undefined): void {
    this.total = bytesPerSecond;
    if (bytesPerSecond === undefined) {
      for (const part of this.parts.values()) this.setCap(part.address, undefined);
      this.parts.clear();
      this.nextSweep = undefined;
      return;
    }
    this.share();
  }

  /** A packet of `bytes` goes to the relayed `address` (port `port`): a new part is counted at once. */
  sent(port: number, address: Address, bytes: number): void {
    if (this.total === undefined) return;
    const part = this.parts.get(port);
    if (part) {
      part.sent += bytes;
      return;
    }
    // Beside others it starts with C / 32; alone, it has all of C; either way the next sweep measures it.
    const demand = this.parts.size > 0 ? 0 : Number.POSITIVE_INFINITY;
    this.parts.set(port, { address, sent: bytes, demand, idleSweeps: 0, cap: this.total });
    this.share();
  }

  /** The address no longer exists (its alias was forgotten): it no longer takes part. */
  forget(port: number): void {
    if (this.parts.delete(port)) this.share();
  }

  /** Measures every part and shares C again; an address idle for IDLE_SWEEPS sweeps leaves. */
  sweep(now: number): void {
    const elapsed = this.sweptAt === undefined ? SWEEP_MS : Math.max(1, now - this.sweptAt);
    this.sweptAt = now;
    this.nextSweep = undefined;
    for (const [port, part] of this.parts) {
      part.idleSweeps = part.sent === 0 ? part.idleSweeps + 1 : 0;
      if (part.idleSweeps >= IDLE_SWEEPS) {
        this.parts.delete(port);
        this.setCap(part.address, this.total);
        continue;
      }
      const rate = (part.sent * 1000) / elapsed;
      part.demand = rate < part.cap * LIGHT_BELOW ? 2 * rate : Number.POSITIVE_INFINITY;
      part.sent = 0;
    }
    this.share();
  }

  /** When `sweep` is due: every SWEEP_MS from the first moment asked while there are parts. */
  next(now: number): number | undefined {
    if (this.parts.size === 0) {
      this.nextSweep = undefined;
      this.sweptAt = undefined;
      return undefined;
    }
    if (this.nextSweep === undefined) {
      this.nextSweep = now + SWEEP_MS;
      this.sweptAt ??= now;
    }
    return this.nextSweep;
  }

  /**
   * Sets every part's cap: C shared max-min fairly (water-filling) over the parts' demands, so a
   * part that wants less than an equal share keeps what it wants, and the others share the rest
   * equally. What no part wants is spread over them all: the caps always add up to C.
   */
  private share(): void {
    const total = this.total;
    if (total === undefined || this.parts.size === 0) return;
    const floor = total / LIGHT_FLOOR_DIVISOR;
    const byDemand = [...this.parts.values()].sort((x, y) => x.demand - y.demand);
    const caps = new Map<Part, number>();
    let rest = total;
    let left = byDemand.length;
    for (const part of byDemand) {
      const equal = rest / left;
      const cap = Math.min(Math.max(part.demand, floor), equal);
      caps.set(part, cap);
      rest -= cap;
      left--;
    }
    const spread = rest / this.parts.size;
    for (const [part, cap] of caps) {
      if (cap + spread === part.cap) continue;
      part.cap = cap + spread;
      this.setCap(part.address, part.cap);
    }
  }
}

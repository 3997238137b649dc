/**
 * Datagram Packetization Layer PMTU Discovery (RFC 8899) for one path: the largest datagram the
 * path is proven to carry (its PLPMTU, `size`), which the path's stream data may fill
 * (PROTOCOL.md, Datagram size). Every path starts at 1200 bytes (BASE_PLPMTU: every netchat
 * path carries it), and only a peer that takes large datagrams is ever probed.
 *
 * Theory of operation (RFC 8899 §5.2's states BASE, SEARCHING, SEARCH_COMPLETE, as QUIC uses
 * them): a search sends one probe at a time (a `pmtu_probe` padded to the size tried); a probe
 * acknowledged confirms its size, MAX_PROBES probes of one size lost say it is too large. It tries
 * 1452 first (most paths carry it, loopback among them), then halves the interval between the
 * largest size confirmed and the smallest that failed until it is under SEARCH_STEP bytes. A
 * search that ended below 1452 tries again RAISE_INTERVAL_MS later.
 *
 * Black holes (§4.3): a path may stop carrying what it carried (a route change, a tunnel). Large
 * packets (over 1200 bytes) then all vanish while small ones still arrive, so when
 * BLACK_HOLE_LOSSES large packets are declared lost with none acknowledged meanwhile, and a small
 * packet sent after the first of them was acknowledged, the size falls back to 1200 and the
 * search starts over. A congested path gets some of its large packets through (their
 * acknowledgements reset the count) or loses small ones too, and a cut one gets nothing through:
 * neither looks like a black hole (a burst of losses at the end of Startup, with nothing small
 * acknowledged, did look like one before the small packet was asked for). The path sends the
 * packets that a probe timeout asks for at 1200 bytes, so that after a black hole something small
 * is acknowledged (and the large ones are declared lost).
 *
 * Pure: time comes in as arguments.
 */
import { MAX_DATAGRAM_BYTES, MAX_LARGE_DATAGRAM_BYTES } from '../wire/header.js';

/** BASE_PLPMTU: what every netchat path carries (PROTOCOL.md, Transport). */
export const BASE_PLPMTU = MAX_DATAGRAM_BYTES;
/** MAX_PLPMTU: the largest size probed. */
export const MAX_PLPMTU = MAX_LARGE_DATAGRAM_BYTES;
/** MAX_PROBES (RFC 8899 §5.1.2): probes of one size lost before that size counts as too large. */
export const MAX_PROBES = 3;
/** The search ends when the next size to try would be fewer than this many bytes above the largest confirmed. */
export const SEARCH_STEP = 16;
/** PMTU_RAISE_TIMER (RFC 8899 §5.1.1, its recommended 600 s): a search that ended below MAX_PLPMTU tries again. */
export const RAISE_INTERVAL_MS = 600_000;
/** Large packets declared lost, none acknowledged meanwhile, that say the path stopped carrying them. */
export const BLACK_HOLE_LOSSES = 3;

export type PmtuState = 'disabled' | 'searching' | 'complete';

export class PmtuSearch {
  /** The PLPMTU: the largest datagram the path is proven to carry (bytes). */
  size = BASE_PLPMTU;
  state: PmtuState = 'disabled';
  readonly stats = { probesSent: 0, probesLost: 0, blackHoles: 0 };
  /** The smallest size whose probes were lost MAX_PROBES times (MAX_PLPMTU + 1: none). */
  private failed = MAX_PLPMTU + 1;
  /** The size the search tries now, and how many of its probes were lost. */
  private trying = MAX_PLPMTU;
  private lostProbes = 0;
  /** A probe is in flight: the next waits for its fate. */
  private outstanding = false;
  private raiseAt = Number.POSITIVE_INFINITY;
  /** Large packets declared lost since one was last acknowledged, the first of them, and whether a small one sent after it was acknowledged. */
  private largeLost = 0;
  private firstLargeLost = 0;
  private smallAckedSince = false;

  /** The peer takes large datagrams over this path: search (from 1200, at once). */
  enable(): void {
    if (this.state !== 'disabled') return;
    this.startOver();
  }

  /** No large datagrams here (the path is relayed, or the peer takes none): 1200 bytes, no probes. */
  disable(): void {
    this.state = 'disabled';
    this.size = BASE_PLPMTU;
    this.largeLost = 0;
  }

  /** The size of the probe to send now, or 0 for none (not searching, one in flight, or waiting to try larger sizes again). */
  probeSize(now: number): number {
    if (this.state === 'complete' && now >= this.raiseAt) {
      this.state = 'searching';
      this.failed = MAX_PLPMTU + 1;
      this.trying = MAX_PLPMTU;
      this.lostProbes = 0;
    }
    return this.state === 'searching' && !this.outstanding ? this.trying : 0;
  }

  onProbeSent(): void {
    this.outstanding = true;
    this.stats.probesSent++;
  }

  /** A probe of `size` was acknowledged: the path carries that size. */
  onProbeAcked(size: number, now: number): void {
    this.outstanding = false;
    if (this.state === 'disabled') return;
    if (size > this.size) this.size = size;
    this.largeLost = 0;
    if (this.state !== 'searching') return;
    if (size === this.trying) this.lostProbes = 0;
    this.next(now);
  }

  /** A probe of `size` was declared lost (a size too large, or a loss like any other: MAX_PROBES decide). */
  onProbeLost(size: number, now: number): void {
    this.outstanding = false;
    this.stats.probesLost++;
    if (this.state !== 'searching' || size !== this.trying) return;
    if (++this.lostProbes < MAX_PROBES) return;
    this.failed = Math.min(this.failed, size);
    this.lostProbes = 0;
    this.next(now);
  }

  /** A packet larger than BASE_PLPMTU (stream data) was acknowledged. */
  onLargeAcked(): void {
    this.largeLost = 0;
    this.smallAckedSince = false;
  }

  /** Packet `pn`, larger than BASE_PLPMTU (stream data), was declared lost. */
  onLargeLost(pn: number): void {
    if (this.largeLost++ === 0) {
      this.firstLargeLost = pn;
      this.smallAckedSince = false;
    }
  }

  /** Packet `pn`, of at most BASE_PLPMTU (not a probe), was acknowledged. */
  onSmallAcked(pn: number): void {
    if (this.largeLost > 0 && pn > this.firstLargeLost) this.smallAckedSince = true;
  }

  /**
   * After the fates an acknowledgement or a loss timeout brought: true if the path stopped
   * carrying large packets (a black hole). The size is then BASE_PLPMTU again and the search
   * starts over.
   */
  checkBlackHole(): boolean {
    if (this.largeLost < BLACK_HOLE_LOSSES || !this.smallAckedSince || this.size <= BASE_PLPMTU) return false;
    this.stats.blackHoles++;
    this.startOver();
    return true;
  }

  private startOver(): void {
    this.state = 'searching';
    this.size = BASE_PLPMTU;
    this.failed = MAX_PLPMTU + 1;
    this.trying = MAX_PLPMTU;
    this.lostProbes = 0;
    this.largeLost = 0;
    this.smallAckedSince = false;
    this.raiseAt = Number.POSITIVE_INFINITY;
  }

  /** The next size to try after a probe's fate, or the end of the search. */
  private next(now: number): void {
    if (this.size >= MAX_PLPMTU) {
      this.state = 'complete';
      this.raiseAt = Number.POSITIVE_INFINITY;
      return;
    }
    if (this.failed > MAX_PLPMTU) {
      this.trying = MAX_PLPMTU;
      return;
    }
    const middle = Math.floor((this.size + this.failed) / 2);
    if (middle - this.size < SEARCH_STEP) {
      this.state = 'complete';
      this.raiseAt = now + RAISE_INTERVAL_MS;
      return;
    }
    this.trying = middle;
  }
}

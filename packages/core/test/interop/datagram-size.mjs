// Independent netchat peer, written from PROTOCOL.md only (not from packages/core/src).
//
// A path's datagram size (PROTOCOL.md *Streams*, *Datagram size*): RFC 8899's search with
// `pmtu_probe`s (BASE 1200, SEARCHING, SEARCH_COMPLETE), one probe in flight, MAX_PROBES 3 losses
// fail a size, the next size half way between the largest confirmed and the smallest failed, the
// search ended when that is fewer than 16 bytes above the confirmed one, started again 600 s after
// ending below 1452; and the black-hole rule (3 large packets lost, none acknowledged between, a
// small one sent after the first of them acknowledged: back to 1200, search again). The path
// (path.mjs) sends the probes and tells this what became of them and of its large packets.

export const BASE_SIZE = 1200;
export const LARGE_SIZE = 1452;
const MAX_PROBES = 3;
const MIN_STEP = 16;
const RAISE_AFTER_MS = 600_000; // PMTU_RAISE_TIMER
const BLACK_HOLE_LOSSES = 3;

export class DatagramSize {
  constructor() {
    this.stats = { probesSent: 0, probesAcked: 0, probesLost: 0, searches: 0, blackHoles: 0 };
    this.reset();
  }

  /** Back to BASE, no search yet (a new path, or one that moved to another address). */
  reset() {
    this.size = BASE_SIZE; // the largest confirmed: what stream data fills
    this.failed = undefined; // the smallest failed size of this search
    this.probing = undefined; // the size being probed while searching
    this.losses = 0; // probes of `probing` declared lost
    this.probeInFlight = false;
    this.searching = false;
    this.searched = false; // a search began on this path (it starts once data wants to go)
    this.raiseAt = undefined;
    this.largeLost = 0; // large packets declared lost since a large one was acknowledged
    this.firstLargeLost = undefined; // the number of the first of them (numbers are in sending order)
    this.smallAckedSince = false; // a small packet sent after that one was acknowledged
  }

  /** Stream data wants to go to a peer that takes large packets: the first search begins. */
  wanted() {
    if (this.searched) return;
    this.searched = true;
    this.startSearch();
  }

  startSearch() {
    this.stats.searches++;
    this.searching = true;
    this.failed = undefined;
    this.probing = LARGE_SIZE;
    this.losses = 0;
    this.raiseAt = undefined;
  }

  /** The size of the probe to send now, or undefined (none due, or one in flight). */
  probeDue(now) {
    if (!this.searching && this.raiseAt !== undefined && now >= this.raiseAt) this.startSearch();
    return this.searching && !this.probeInFlight ? this.probing : undefined;
  }

  probeSent() {
    this.probeInFlight = true;
    this.stats.probesSent++;
  }

  probeAcked(size, now) {
    this.probeInFlight = false;
    this.stats.probesAcked++;
    this.largeLost = 0; // a large packet got through (PROTOCOL.md: a probe counts as one here)
    if (size > this.size) this.size = size;
    if (size === this.probing) this.nextSize(now);
  }

  /** A probe declared lost: never sent again, not a congestion event; MAX_PROBES of a size fail it. */
  probeLost(size, now) {
    this.probeInFlight = false;
    this.stats.probesLost++;
    if (size !== this.probing) return;
    this.losses++;
    if (this.losses < MAX_PROBES) return;
    this.failed = this.failed === undefined ? size : Math.min(this.failed, size);
    this.nextSize(now);
  }

  /** After a size's fate: half way between the largest confirmed and the smallest failed. */
  nextSize(now) {
    this.losses = 0;
    if (this.size >= LARGE_SIZE) {
      this.searching = false;
      this.probing = undefined;
      return;
    }
    const next = this.failed === undefined ? LARGE_SIZE : Math.floor((this.size + this.failed) / 2);
    if (next - this.size < MIN_STEP) {
      this.searching = false;
      this.probing = undefined;
      this.raiseAt = now + RAISE_AFTER_MS;
      return;
    }
    this.probing = next;
  }

  // ---- black holes ----------------------------------------------------------------------------------

  /** A packet acknowledged but a probe: `large` if stream data over BASE_SIZE, `packet` its number. */
  dataAcked(large, packet) {
    if (large) {
      this.largeLost = 0;
      this.firstLargeLost = undefined;
      this.smallAckedSince = false;
      return;
    }
    if (this.largeLost > 0 && packet > this.firstLargeLost) this.smallAckedSince = true;
    this.checkBlackHole();
  }

  /** A packet of stream data over BASE_SIZE declared lost (`packet` its number); never a probe. */
  largeDataLost(packet) {
    if (this.largeLost === 0 || packet < this.firstLargeLost) this.firstLargeLost = packet;
    this.largeLost++;
    this.checkBlackHole();
  }

  checkBlackHole() {
    if (this.largeLost < BLACK_HOLE_LOSSES || !this.smallAckedSince || this.size <= BASE_SIZE) return;
    this.stats.blackHoles++;
    this.reset();
    this.searched = true;
    this.startSearch();
  }
}

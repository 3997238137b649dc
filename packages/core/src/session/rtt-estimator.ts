/**
 * Round-trip time and retransmission timeout: RFC 6298's smoothing, with QUIC's (RFC 9002 §5)
 * handling of the peer's deliberate acknowledgement delay.
 */

/**
 * The longest a peer may hold back an acknowledgement (PROTOCOL.md: an in-order fragment is
 * acknowledged within 10 ms). A reported delay is never believed beyond it, and the timeout
 * always leaves room for it (QUIC's max_ack_delay).
 */
export const MAX_ACK_DELAY_MS = 10;
/** The clock's granularity (ms): the smallest variation term the timeout allows. */
const GRANULARITY_MS = 1;

export class RttEstimator {
  private smoothed: number | undefined;
  private variation = 0;
  private minimum = Number.POSITIVE_INFINITY;

  constructor(
    private readonly minRto: number,
    private readonly maxRto: number,
  ) {}

  /**
   * A round trip measured on something sent once (Karn's rule: never on a retransmission).
   * `ackDelay` is how long the peer says it held the acknowledgement back; it is taken off the
   * sample (at most MAX_ACK_DELAY_MS), but never below the smallest round trip seen, so a peer
   * cannot make the path look faster than it has ever been. (QUIC keeps the whole sample when the
   * subtraction would go below; we stop at the minimum instead, because our minimum often comes
   * from the handshake, which costs a few key exchanges more than a data round trip: QUIC's rule
   * would then keep the whole 5 ms ack delay in every loopback sample.)
   */
  sample(rtt: number, ackDelay = 0): void {
    if (rtt < this.minimum) this.minimum = rtt;
    const delay = Math.min(ackDelay, MAX_ACK_DELAY_MS);
    const adjusted = Math.max(this.minimum, rtt - delay);
    if (this.smoothed === undefined) {
      this.smoothed = adjusted;
      this.variation = adjusted / 2;
    } else {
      this.variation = 0.75 * this.variation + 0.25 * Math.abs(this.smoothed - adjusted);
      this.smoothed = 0.875 * this.smoothed + 0.125 * adjusted;
    }
  }

  /** The smoothed round trip, or undefined before the first sample. */
  get srtt(): number | undefined {
    return this.smoothed;
  }

  /** The smallest round trip measured, or undefined before the first sample. */
  get minRtt(): number | undefined {
    return this.smoothed === undefined ? undefined : this.minimum;
  }

  /**
   * 1 s before any sample (RFC 6298 2.1); then srtt + max(4 rttvar, granularity) + the peer's
   * maximum ack delay (QUIC's PTO: an acknowledgement held back on purpose is not a loss), within
   * the configured bounds.
   */
  get rto(): number {
    const raw =
      this.smoothed === undefined
        ? 1000
        : this.smoothed + Math.max(GRANULARITY_MS, 4 * this.variation) + MAX_ACK_DELAY_MS;
    return Math.min(this.maxRto, Math.max(this.minRto, raw));
  }
}

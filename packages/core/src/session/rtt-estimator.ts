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
const UNKNOWN = Number.POSITIVE_INFINITY;
/** The clock's granularity (ms): the smallest variation term the timeout allows. */
const GRANULARITY_MS = 1;

export class RttEstimator {
  private smoothed: number | undefined;
  private variation = 0;
  private minimum = UNKNOWN;
  /** Only the handshake's estimate so far. */
  private seededOnly = false;

  constructor(
    private readonly minRto: number,
    private readonly maxRto: number,
  ) {}

  /**
   * A round trip measured on something sent once (Karn's rule: never on a retransmission).
   * `ackDelay` is how long the peer says it held the acknowledgement back; it is taken off the
   * sample (believed up to MAX_ACK_DELAY_MS), but not below the smallest round trip answered at
   * once (no ack delay: heartbeat answers, immediate acks), so an inflated claim cannot make the
   * path look faster than it has been. QUIC takes its minimum over every raw sample; its first
   * ones are immediate handshake acks. Most of ours are delayed acks, and with their delay still
   * in, such a minimum would hold the whole 5 ms in every sample until the first heartbeat is
   * answered (25 s by default).
   */
  sample(rtt: number, ackDelay = 0): void {
    const delay = Math.min(ackDelay, MAX_ACK_DELAY_MS);
    let adjusted = rtt;
    if (delay === 0) {
      if (rtt < this.minimum) this.minimum = rtt;
    } else if (rtt - delay >= this.minimum) {
      adjusted = rtt - delay;
    } else if (this.minimum !== UNKNOWN) {
      adjusted = Math.min(rtt, this.minimum);
    } else if (rtt - delay > 0) {
      adjusted = rtt - delay;
    }
    // The first real sample replaces the handshake's estimate instead of averaging with it.
    if (this.seededOnly) this.smoothed = undefined;
    this.seededOnly = false;
    this.smooth(adjusted);
  }

  /**
   * The handshake's round trip, before any other sample: a first estimate, so a session knows
   * its RTT before it sends anything. The first real sample replaces it, and it is never a
   * minimum: it includes the key exchanges' work on both sides (milliseconds on a cold start),
   * more than any later round trip.
   */
  seed(rtt: number): void {
    if (this.smoothed !== undefined) return;
    this.smooth(rtt);
    this.seededOnly = true;
  }

  /**
   * Back to no estimate at all, as a new path starts (RFC 9000 §9.4: a peer that moved to
   * another host is reached over a path nothing was measured on).
   */
  reset(): void {
    this.smoothed = undefined;
    this.variation = 0;
    this.minimum = UNKNOWN;
    this.seededOnly = false;
  }

  private smooth(adjusted: number): void {
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

  /** The smallest round trip answered at once, or undefined before one was. */
  get minRtt(): number | undefined {
    return this.minimum === UNKNOWN ? undefined : this.minimum;
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

  /**
   * The RTO doubled `exponent` times, still within the maximum: on a loaded machine the RTO can
   * reach seconds, and sixteen times that would leave a lost fragment unsent for minutes.
   */
  backedOff(exponent: number): number {
    return Math.min(this.maxRto, this.rto * 2 ** exponent);
  }
}

/**
 * A round trip from the answer to a heartbeat (PROTOCOL.md: a heartbeat is answered at once with
 * an `ack`). Only a clean one counts: the heartbeat was the only one outstanding, no text was in
 * flight when it went, and the answer acknowledges no new text, so it can only be this answer.
 */
export class HeartbeatSampler {
  /** The oldest heartbeat not yet answered. */
  private sentAt: number | undefined;
  /** More than one heartbeat (or text) was outstanding: an answer cannot be matched to one. */
  private ambiguous = false;

  sent(now: number, textInFlight: boolean): void {
    if (this.sentAt === undefined) {
      this.sentAt = now;
      this.ambiguous = textInFlight;
    } else {
      this.ambiguous = true;
    }
  }

  /** An `ack` arrived; the sample it gives, if it is a clean answer (immediate: no ack delay to take off). */
  answered(now: number, acknowledgedText: boolean, textInFlight: boolean): number | undefined {
    const sentAt = this.sentAt;
    this.sentAt = undefined;
    if (sentAt === undefined || acknowledgedText || this.ambiguous || textInFlight) return undefined;
    return now - sentAt;
  }
}

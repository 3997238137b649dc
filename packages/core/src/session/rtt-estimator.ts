/** Round-trip time and retransmission timeout as RFC 6298 computes them. */
export class RttEstimator {
  private smoothed: number | undefined;
  private variation = 0;

  constructor(
    private readonly minRto: number,
    private readonly maxRto: number,
  ) {}

  /** A round trip measured on a datagram that was sent once (Karn's rule: never on a retransmission). */
  sample(rtt: number): void {
    if (this.smoothed === undefined) {
      this.smoothed = rtt;
      this.variation = rtt / 2;
    } else {
      this.variation = 0.75 * this.variation + 0.25 * Math.abs(this.smoothed - rtt);
      this.smoothed = 0.875 * this.smoothed + 0.125 * rtt;
    }
  }

  /** The smoothed round trip, or undefined before the first sample. */
  get srtt(): number | undefined {
    return this.smoothed;
  }

  /** 1 s before any sample (RFC 6298 2.1), then srtt + 4 rttvar, within the configured bounds. */
  get rto(): number {
    const raw = this.smoothed === undefined ? 1000 : this.smoothed + Math.max(1, 4 * this.variation);
    return Math.min(this.maxRto, Math.max(this.minRto, raw));
  }
}

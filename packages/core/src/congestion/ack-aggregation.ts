/**
 * The ack aggregation estimate (Linux bbr's extra_acked): how many more bytes were acknowledged
 * than the bandwidth estimate explains since the acks began running ahead of it. Acks that arrive
 * in bursts (delayed acks, an event loop's batching) must not starve the link, so BBR's window
 * holds this much more than its model.
 */
/**
 * The estimate is the max over two windows of this many rounds, at most this long
 * (ms) of sending. Linux allows 100 ms; but what the window holds beyond the model waits in the
 * receiver's queue whenever acks came in a burst because the receiver was not running, and a chat
 * line waits behind it. On loopback with a core kept busy by another process, 100 ms put a chat
 * line 20-60 ms behind the receiver's own timer lateness at p95 (78-116 ms against 55-59); 20 ms
 * kept it at that lateness (41-50 against 42-44) at the same rate. The simulated paths' acks come
 * in bursts of 16 packets at most, far under 20 ms of sending.
 */
export const EXTRA_ACKED_ROUNDS = 5;
export const EXTRA_ACKED_MAX_MS = 20;

export class AckAggregation {
  private epochStart = 0;
  private epochAcked = 0;
  private readonly extra = [0, 0];
  private index = 0;
  private rounds = 0;

  /** Sending resumed after an idle period: the next ack starts a new epoch. */
  restartEpoch(): void {
    this.epochAcked = 0;
  }

  /** An acknowledgement of `acked` bytes; `roundStart` when it began a round trip. */
  update(now: number, acked: number, roundStart: boolean, bandwidth: number, cwnd: number): void {
    if (acked <= 0) return;
    if (roundStart && ++this.rounds >= EXTRA_ACKED_ROUNDS) {
      this.rounds = 0;
      this.index ^= 1;
      this.extra[this.index] = 0;
    }
    let expected = (bandwidth * (now - this.epochStart)) / 1000;
    if (this.epochAcked <= expected) {
      this.epochAcked = 0;
      this.epochStart = now;
      expected = 0;
    }
    this.epochAcked += acked;
    const extra = Math.min(this.epochAcked - expected, cwnd);
    if (extra > (this.extra[this.index] as number)) this.extra[this.index] = extra;
  }

  /** What the window adds for aggregation at `bandwidth` (bytes/s): the estimate, capped. */
  allowance(bandwidth: number): number {
    const extra = Math.max(this.extra[0] as number, this.extra[1] as number);
    return Math.min(extra, (bandwidth * EXTRA_ACKED_MAX_MS) / 1000);
  }
}

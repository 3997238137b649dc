/**
 * The one small interface every congestion controller answers to (quinn's `Controller` trait):
 * loss detection tells it what was sent, acknowledged and lost; it answers how many bytes may be
 * in flight and, if it paces by itself (BBR), at what rate. Pure: the time comes in as `now`
 * (milliseconds, the engine's clock), nothing here reads a clock or touches a socket.
 *
 * Applies to a path (one channel: every session and stream to one peer address together), and
 * to the stream packet space only: text, acks, heartbeats and control keep their own rules.
 */

/** The largest datagram (PROTOCOL.md: 1200 bytes); windows are counted in bytes of datagrams. */
export const MAX_DATAGRAM_SIZE = 1200;
/** RFC 9002 §7.2: min(10 * max_datagram_size, max(2 * max_datagram_size, 14720)) = 12,000 bytes. */
export const INITIAL_WINDOW = Math.min(10 * MAX_DATAGRAM_SIZE, Math.max(2 * MAX_DATAGRAM_SIZE, 14_720));
/** RFC 9002 §7.2: kMinimumWindow = 2 * max_datagram_size. */
export const MINIMUM_WINDOW = 2 * MAX_DATAGRAM_SIZE;

/**
 * The path's round-trip estimate, as the controllers and loss detection read it. The session's
 * `RttEstimator` (session/rtt-estimator.ts) satisfies it as it is, so there is one RTT source.
 */
export interface RttSource {
  /** Feeds one sample (ms) and the peer's reported ack delay (ms). */
  sample(rtt: number, ackDelay: number): void;
  /** Smoothed round trip (ms), undefined before the first sample. */
  readonly srtt: number | undefined;
  /**
   * RFC 9002's PTO before backoff: smoothed_rtt + max(4 * rttvar, kGranularity) + max_ack_delay
   * (1 s before any sample), in ms.
   */
  readonly rto: number;
}

/** One newly acknowledged packet. The object is reused: read it during the call. */
export interface AckedPacket {
  /** When it was sent (ms). */
  sentAt: number;
  /** Its size in bytes. */
  bytes: number;
  /** The sender had nothing more to send, with room in the window, when it went (RFC 9002 §7.8). */
  appLimited: boolean;
}

/**
 * What one acknowledgement told, after each packet it newly acknowledged went through `onAck`
 * and any losses it revealed through `onCongestionEvent`. Reused, like AckedPacket.
 */
export interface AckSummary {
  /** RFC 9002 §5.1's latest_rtt (ms) if this ack gave a sample, else NaN. */
  latestRtt: number;
  /** The peer's ack delay (ms) for that sample, at most max_ack_delay; 0 without a sample. */
  ackDelay: number;
  /** Bytes this acknowledgement newly acknowledged. */
  ackedBytes: number;
  /** Bytes declared lost while processing it. */
  lostBytes: number;
  /** Bytes in flight before it, and after it (acknowledged and lost packets taken out). */
  priorInFlight: number;
  bytesInFlight: number;
  /** Total bytes delivered (acknowledged) on the path so far. */
  delivered: number;
  /**
   * `delivered` when the most recently sent packet this ack covers was sent (-1 if none): a
   * round trip ends when this reaches the `delivered` of the round's start (BBR's rounds).
   */
  priorDelivered: number;
  /** Delivery rate sample (bytes/s; draft-cheng-iccrg-delivery-rate-estimation), 0 if none. */
  deliveryRate: number;
  /** The sample was taken while the sender was application-limited (it may be too low). */
  rateAppLimited: boolean;
}

export interface CongestionController {
  /** A short name for benchmarks and logs. */
  readonly name: string;
  /**
   * A packet of `bytes` went into flight; `priorInFlight` is what was in flight before it, and
   * `appLimited` whether the sender was application-limited when it sent it.
   */
  onPacketSent(now: number, bytes: number, priorInFlight: number, appLimited: boolean): void;
  /** One packet newly acknowledged (in packet-number order within one acknowledgement). */
  onAck(now: number, packet: AckedPacket): void;
  /**
   * Packets were declared lost (RFC 9002 §7.3.2's OnCongestionEvent): `sentAt` is the send time
   * of the newest of them, `persistent` whether they prove persistent congestion (§7.6).
   */
  onCongestionEvent(now: number, sentAt: number, persistent: boolean, lostBytes: number): void;
  /** The end of one acknowledgement's processing. */
  onAckEnd(now: number, summary: AckSummary): void;
  /** Bytes that may be in flight. */
  window(): number;
  /** Bytes per second, if the algorithm sets its own pacing rate (BBR); else the pacer derives one. */
  pacingRate(): number | undefined;
}

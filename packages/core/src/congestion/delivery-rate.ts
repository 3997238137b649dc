/**
 * Delivery-rate estimation (draft-cheng-iccrg-delivery-rate-estimation, as Linux TCP and libudx's
 * udx_rate.c do it): each packet remembers how much had been delivered, and when, at the moment
 * it was sent; when it is acknowledged, the bytes delivered since, over the longer of the send
 * and the ack intervals, is a sample of the path's delivery rate. BBR's bandwidth model is built
 * from these samples. Bytes and milliseconds; the rate comes out in bytes per second.
 */
import type { AckSummary } from './controller.js';
import { APP_LIMITED, type SentPackets } from './sent-packets.js';

export class DeliveryRate {
  /** C.delivered: bytes acknowledged so far. */
  delivered = 0;
  /** C.delivered_time: when `delivered` last grew. */
  private deliveredAt = 0;
  /** C.first_sent_time: the send time of the packet that began the current sample's flight. */
  private firstSentAt = 0;
  /** C.app_limited: the `delivered` at which the current application-limited stretch ends; 0 if none. */
  private appLimitedUntil = 0;
  // The rate sample being built from one acknowledgement's packets (rs.*).
  private priorDelivered = -1;
  private priorAt = 0;
  private sampleAppLimited = false;
  private sendElapsed = 0;
  private ackElapsed = 0;

  /** Whether packets sent now are application-limited. */
  get appLimited(): boolean {
    return this.appLimitedUntil !== 0;
  }

  /**
   * The sender has nothing to send and room in the window: samples until what is in flight now
   * is delivered reflect the application, not the path (draft §3.4 / BBR's C.app_limited).
   */
  onAppLimited(bytesInFlight: number): void {
    this.appLimitedUntil = this.delivered + bytesInFlight || 1;
  }

  /** Stamps packet `pn` (just added) with the delivery state; `priorInFlight` is before it. */
  onPacketSent(sent: SentPackets, pn: number, now: number, priorInFlight: number): void {
    if (priorInFlight === 0) this.firstSentAt = this.deliveredAt = now;
    const slot = sent.slot(pn);
    sent.delivered[slot] = this.delivered;
    sent.deliveredAt[slot] = this.deliveredAt;
    sent.firstSentAt[slot] = this.firstSentAt;
  }

  /** Starts the sample of one acknowledgement. */
  beginAck(): void {
    this.priorDelivered = -1;
  }

  /** UpdateRateSample for one newly acknowledged packet (before it is forgotten). */
  onPacketAcked(sent: SentPackets, pn: number, now: number): void {
    const slot = sent.slot(pn);
    this.delivered += sent.bytes(pn);
    this.deliveredAt = now;
    const packetDelivered = sent.delivered[slot] as number;
    // The sample is taken from the most recently sent packet the ack covers.
    if (packetDelivered >= this.priorDelivered) {
      const sentAt = sent.sentAt(pn);
      this.priorDelivered = packetDelivered;
      this.priorAt = sent.deliveredAt[slot] as number;
      this.sampleAppLimited = (sent.flags(pn) & APP_LIMITED) !== 0;
      this.sendElapsed = sentAt - (sent.firstSentAt[slot] as number);
      this.ackElapsed = now - this.priorAt;
      this.firstSentAt = sentAt;
    }
  }

  /**
   * GenerateRateSample: fills the summary's `delivered`, `priorDelivered`, `deliveryRate` and
   * `rateAppLimited`. A sample over less than `minInterval` ms (the path's minimum round trip:
   * ack compression) is discarded, as the draft says.
   */
  endAck(summary: AckSummary, minInterval: number): void {
    if (this.appLimitedUntil !== 0 && this.delivered > this.appLimitedUntil) this.appLimitedUntil = 0;
    summary.delivered = this.delivered;
    summary.priorDelivered = this.priorDelivered;
    summary.deliveryRate = 0;
    summary.rateAppLimited = this.sampleAppLimited;
    if (this.priorDelivered < 0) return;
    const interval = Math.max(this.sendElapsed, this.ackElapsed);
    if (!(interval > 0) || interval < minInterval) return;
    summary.deliveryRate = ((this.delivered - this.priorDelivered) * 1000) / interval;
  }
}

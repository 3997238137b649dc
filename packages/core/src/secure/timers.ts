/**
 * The named timers of one channel, each with the one rule that says when it fires (as
 * session/timers.ts does for sessions). A channel keeps at most one deadline per name; its
 * next deadline is the smallest. A half-done responder handshake has one deadline only (its
 * expiry) and needs no table.
 */
import { NamedTimers } from '../named-timers.js';

export const CHANNEL_TIMER_NAMES = [
  /** initiator, before message 2: resend the init (backoff doubles up to handshakeRetryMax). */
  'initRetry',
  /** initiator: the final stayed unconfirmed for pendingHandshakeTtl; start the handshake over. */
  'restart',
  /** initiator, final sent and unconfirmed: resend handshake_final (every handshakeRetryInitial). */
  'finalRetry',
  /** initiator: handshakeTimeout passed without a confirmed handshake; close the channel. */
  'giveUp',
  /** a liveness check under way (liveness-check.ts): the next challenge, or the channel is silent. */
  'livenessCheck',
  /** no session used the channel for unusedChannelTtl; close it. */
  'unused',
] as const;
export type ChannelTimerName = (typeof CHANNEL_TIMER_NAMES)[number];

/** This channel's deadlines, taken in CHANNEL_TIMER_NAMES order. */
export class ChannelTimers extends NamedTimers<ChannelTimerName> {
  constructor() {
    super(CHANNEL_TIMER_NAMES);
  }
}

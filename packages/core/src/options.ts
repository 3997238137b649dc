/** Endpoint settings, validated once with zod when an endpoint is made. All durations in milliseconds. */
import { z } from 'zod';
import { errors } from './errors.js';
import { MAX_ACK_DELAY_MS } from './session/rtt-estimator.js';
import { MAX_DATAGRAM_BYTES, MAX_NICK_BYTES, MIN_HEARTBEAT_MS } from './wire/messages.js';

const duration = z.number().finite().positive();

export const EndpointOptions = z.strictObject({
  /** Sent with connect requests and accepts, shown to the peer. */
  nick: z
    .string()
    .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters')
    .refine(
      (nick) => new TextEncoder().encode(nick).length <= MAX_NICK_BYTES,
      `at most ${MAX_NICK_BYTES} bytes`,
    )
    .default(''),
  heartbeatInterval: z
    .number()
    .int()
    .min(MIN_HEARTBEAT_MS)
    .max(2 ** 32 - 1)
    .default(25_000),
  /**
   * As the responder of a session (we accepted its request), leave out a grid heartbeat when the
   * requester's heartbeat arrived since the previous one (PROTOCOL.md, Heartbeats and liveness:
   * answered intervals): an idle session then costs two datagrams an interval instead of four.
   * Off by default: the responder then measures no round trip while the chat is idle (a status
   * bar shows the last one). A rendezvous, with thousands of idle sessions, turns it on.
   */
  skipAnsweredHeartbeats: z.boolean().default(false),
  /** A peer silent for this many heartbeat intervals, plus half an interval of margin, is lost. */
  missLimit: z.number().int().min(1).max(1000).default(3),
  /** How long a connect request is retried before it is reported as no answer. */
  connectTimeout: duration.default(30_000),
  /** First connect-request retransmission; doubles up to `connectRetryMax`. */
  connectRetryInitial: duration.default(500),
  connectRetryMax: duration.default(2_000),
  /** Retransmission timeout bounds (RFC 6298 computes the value between them). */
  minRto: duration.default(200),
  maxRto: duration.default(10_000),
  /**
   * An in-order text fragment is acknowledged within this time... The protocol promises 10 ms
   * (max_ack_delay, which the peer's timeouts allow for); 5 leaves room for timers that fire late.
   */
  ackDelay: z.number().finite().min(0).max(MAX_ACK_DELAY_MS).default(5),
  /**
   * ...or as soon as this many in-order fragments wait. Fewer acks: more throughput (every ack
   * costs both sides a datagram); 16 still clocks out a 128-fragment window in 8 steps, and a
   * gap or a duplicate is acknowledged at once whatever this says. 16 against 8: about +8 % in
   * the throughput benchmark.
   */
  ackEvery: z.number().int().min(1).max(64).default(16),
  /** Text fragments in flight, unacknowledged, per session (and held out of order by a receiver). */
  window: z.number().int().min(1).max(1024).default(128),
  maxMessageBytes: z
    .number()
    .int()
    .min(1)
    .max(1024 * 1024)
    .default(64 * 1024),
  /** Bytes queued for one peer (not yet acknowledged) before `send` refuses more. */
  maxQueuedBytes: z
    .number()
    .int()
    .min(1)
    .default(1024 * 1024),
  /** Sessions of every state, incoming requests included. */
  maxSessions: z.number().int().min(1).default(1000),
  /** Sessions with any one peer address (IP and port), so one peer cannot take every slot. */
  maxSessionsPerPeer: z.number().int().min(1).default(4),
  /**
   * Requests from one host (an IPv4 address, or an IPv6 /64; each relayed peer counts as a host
   * of its own) waiting for the application's answer. A stranger with one address and many ports
   * could otherwise fill every slot with requests (and a person's screen with questions).
   */
  maxRequestsPerHost: z.number().int().min(1).default(32),
  /**
   * At shutdown (`closeAll`, and so `NetchatPeer.close`): the longest messages in flight may
   * linger before they fail. Closing one session (`close`) lingers instead while the peer is
   * alive and acknowledges (PROTOCOL.md, Closing), unless its caller says otherwise.
   */
  closeLinger: z.number().finite().min(0).default(3_000),
  /** Disconnects sent before giving up on an acknowledgement. */
  disconnectAttempts: z.number().int().min(1).max(20).default(4),
  /**
   * Take and open streams (README, Streams). Off by default: an application that never reads
   * streams must not invite a peer to send them (the peer is told we take none, at once).
   */
  streams: z.boolean().default(false),
  /**
   * Tell peers we take file offers (the `files` capability; PROTOCOL.md, Files: transfers). Only
   * with `streams`: an application that handles no offers (no FileLink) must not invite them.
   */
  files: z.boolean().default(false),
  /** The receive window each stream the peer opens starts with (bytes); it grows as we read fast. */
  streamWindow: z
    .number()
    .int()
    .min(MAX_DATAGRAM_BYTES)
    .max(2 ** 32 - 1)
    .default(256 * 1024),
  /** The most a stream's receive window grows to (bytes), and the most one stream we send holds. */
  maxStreamWindow: z
    .number()
    .int()
    .min(MAX_DATAGRAM_BYTES)
    .default(16 * 1024 * 1024),
  /** Streams the peer may have open to us at once (it may open more as ours finish). */
  maxIncomingStreams: z.number().int().min(0).max(65_535).default(32),
  /** The receive windows of one session's streams together stay within this (bytes): what a peer can make us hold. */
  streamReceiveBudget: z
    .number()
    .int()
    .min(MAX_DATAGRAM_BYTES)
    .default(64 * 1024 * 1024),
  /**
   * With streams: take data packets of up to 1452 bytes, and send stream data in them where the
   * peer takes them too and a probe proved the path carries them (PROTOCOL.md, Datagram size):
   * fewer, larger datagrams for the same bytes (1391 stream bytes each instead of 1139, for about
   * the same CPU a datagram). Off: every datagram stays within 1200 bytes. On by default since
   * two peers behind one simulated bottleneck share it as fairly with it as without: over ten
   * seeds at worst 0.798 / 0.805 / 0.905 (100 Mbit/s, 1 Gbit/s, 10 Mbit/s) against 0.827 / 0.786
   * / 0.885 with 1200-byte datagrams, the benchmark's seed 0.90 or more on every path
   * (PERFORMANCE.md). A relayed path, an old peer and a path that does not carry them keep
   * 1200.
   */
  largeDatagrams: z.boolean().default(true),
  /** The congestion controller of each path (PROTOCOL.md, Congestion control and pacing). */
  congestionController: z.enum(['bbr', 'newreno', 'ledbat++']).default('bbr'),
});
export type EndpointOptions = z.infer<typeof EndpointOptions>;
export type EndpointOptionsInput = z.input<typeof EndpointOptions>;

export function resolveOptions(input: EndpointOptionsInput = {}): EndpointOptions {
  const parsed = EndpointOptions.safeParse(input);
  if (!parsed.success)
    throw errors.invalidOptions(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || 'options'}: ${issue.message}`).join('; '),
    );
  return parsed.data;
}

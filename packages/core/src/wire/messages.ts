/**
 * Every session message netchat sends, defined once. The order of fields in each definition is
 * their order on the wire (all integers big-endian). Since protocol version 2 these travel
 * only inside encrypted `data` packets (see packets.ts). PROTOCOL.md describes the same layout.
 */
import { z } from 'zod';
import { makeCodec } from './codec.js';
import { define } from './define.js';
import { enum8, rest, str8, u16, u32 } from './fields.js';
import { HEADER_BYTES, MAX_LARGE_MESSAGE_BYTES, MAX_MESSAGE_DATAGRAM_BYTES, MESSAGE_VERSION } from './header.js';
import * as streams from './stream-messages.js';

export { define, type Fields, type MessageDefinition } from './define.js';
export {
  HEADER_BYTES,
  MAGIC,
  MAX_DATAGRAM_BYTES,
  MAX_LARGE_DATAGRAM_BYTES,
  MAX_LARGE_MESSAGE_BYTES,
  MAX_MESSAGE_DATAGRAM_BYTES,
  MESSAGE_VERSION,
  PACKET_OVERHEAD_BYTES,
} from './header.js';

/** Session id, seq, ack, sack bitmap (4 bytes each), ack delay, fragment index and count (2 each). */
export const TEXT_OVERHEAD_BYTES = HEADER_BYTES + 4 * 4 + 3 * 2;
export const MAX_FRAGMENT_BYTES = MAX_MESSAGE_DATAGRAM_BYTES - TEXT_OVERHEAD_BYTES;
export const MAX_NICK_BYTES = 32;

export const DECLINE_REASONS = ['declined', 'busy', 'not_allowed', 'too_many_sessions'] as const;
export type DeclineReason = (typeof DECLINE_REASONS)[number];

// Nicks are shown on other people's terminals: no control characters, so no escape sequences.
const nick = str8(MAX_NICK_BYTES, { pattern: /^[^\p{Cc}]*$/u, message: 'nick contains control characters' });

const session = u32;
/** Cumulative acknowledgement: the next sequence number expected, so every lower one has arrived. */
const ack = u32;
/** Bit i (least significant first) set: sequence number ack + 1 + i has arrived too. */
const sack = u32;
/**
 * How long the acknowledgement was held back: from the arrival of the newest fragment it covers
 * (the highest `sack` bit, else ack − 1) to sending it, in units of ACK_DELAY_UNIT_US,
 * saturating at 65535. The sender takes it off its round-trip sample (as QUIC's ack_delay).
 */
const ackDelay = u16;
/** 8 µs: QUIC's default ack_delay_exponent (3). u16 then spans 0.5 s, far above any honest delay. */
export const ACK_DELAY_UNIT_US = 8;
const ACK_DELAY_MAX_UNITS = 0xffff;

/** ms to the wire's ackDelay units, rounded, saturating. */
export function ackDelayToWire(ms: number): number {
  return Math.min(ACK_DELAY_MAX_UNITS, Math.max(0, Math.round((ms * 1000) / ACK_DELAY_UNIT_US)));
}

/** The wire's ackDelay units to ms. */
export function ackDelayFromWire(units: number): number {
  return (units * ACK_DELAY_UNIT_US) / 1000;
}

export const Text = define(
  'text',
  1,
  {
    session,
    seq: u32,
    ack,
    sack,
    ackDelay,
    fragmentIndex: u16,
    fragmentCount: u16,
    payload: rest(1, MAX_FRAGMENT_BYTES),
  },
  (value) =>
    value.fragmentCount === 0 || value.fragmentIndex >= value.fragmentCount
      ? 'fragmentIndex must be below fragmentCount'
      : undefined,
);
export const Heartbeat = define('heartbeat', 2, { session, ack, sack, ackDelay });
/**
 * The heartbeat interval the sender wants, in ms. Both peers use the smaller of the two offered,
 * so they agree on when a heartbeat is missed. The floor keeps a peer from making us flood it.
 */
export const MIN_HEARTBEAT_MS = 50;
const heartbeatMs = { ...u32, schema: u32.schema.pipe(z.number().min(MIN_HEARTBEAT_MS)) };
export const ConnectRequest = define('connect_request', 3, { session, heartbeatMs, nick });
export const Accept = define('accept', 4, { session, heartbeatMs, nick });
export const Decline = define('decline', 5, {
  session,
  reason: enum8(DECLINE_REASONS),
  detail: str8(200, { pattern: /^[^\p{Cc}]*$/u, message: 'detail contains control characters' }),
});
export const Disconnect = define('disconnect', 6, { session });
export const Ack = define('ack', 7, { session, ack, sack, ackDelay });
export const DisconnectAck = define('disconnect_ack', 8, { session });
/** What a presence message says the sender is doing: nothing in particular, or typing to us. */
export const ACTIVITIES = ['idle', 'typing'] as const;
export type Activity = (typeof ACTIVITIES)[number];
/**
 * The sender's current nick and whether it is typing. Unreliable, like a heartbeat: never
 * retransmitted, never acknowledged; the next one (or a message) corrects a lost one. So that a
 * lost `idle` does not leave "typing" shown for ever, `typing` expires (PRESENCE_TYPING_EXPIRY_MS).
 */
export const Presence = define('presence', 9, { session, activity: enum8(ACTIVITIES), nick });
/** A typing sender refreshes its `typing` presence at most this often (ms). */
export const PRESENCE_TYPING_REFRESH_MS = 3_000;
/**
 * A receiver stops showing "typing" this long (ms) after the last `typing` presence: two refresh
 * periods and some, so one lost refresh does not make the indicator flicker.
 */
export const PRESENCE_TYPING_EXPIRY_MS = 7_000;

export const MESSAGE_DEFINITIONS = [
  Text,
  Heartbeat,
  ConnectRequest,
  Accept,
  Decline,
  Disconnect,
  Ack,
  DisconnectAck,
  Presence,
  ...streams.STREAM_MESSAGE_DEFINITIONS,
] as const;

export type Text = z.infer<typeof Text.schema>;
export type Heartbeat = z.infer<typeof Heartbeat.schema>;
export type ConnectRequest = z.infer<typeof ConnectRequest.schema>;
export type Accept = z.infer<typeof Accept.schema>;
export type Decline = z.infer<typeof Decline.schema>;
export type Disconnect = z.infer<typeof Disconnect.schema>;
export type Ack = z.infer<typeof Ack.schema>;
export type DisconnectAck = z.infer<typeof DisconnectAck.schema>;
export type Presence = z.infer<typeof Presence.schema>;

/** Any datagram, discriminated by `type`. */
export const Datagram = z.discriminatedUnion('type', [
  Text.schema,
  Heartbeat.schema,
  ConnectRequest.schema,
  Accept.schema,
  Decline.schema,
  Disconnect.schema,
  Ack.schema,
  DisconnectAck.schema,
  Presence.schema,
  streams.Features.schema,
  streams.StreamData.schema,
  streams.StreamAck.schema,
  streams.StreamCredit.schema,
  streams.StreamReset.schema,
  streams.StreamStop.schema,
  streams.StreamLimit.schema,
  streams.PmtuProbe.schema,
]);
export type Datagram = z.infer<typeof Datagram>;
export type DatagramType = Datagram['type'];
export {
  Features,
  PmtuProbe,
  StreamAck,
  StreamCredit,
  StreamData,
  StreamLimit,
  StreamReset,
  StreamStop,
} from './stream-messages.js';

// Each message bounds its own length (text to 1168 bytes); only stream_data and pmtu_probe may be
// longer, in the large datagrams of a peer that takes them (the secure layer drops the others first).
const messageCodec = makeCodec<Datagram>(MESSAGE_VERSION, MESSAGE_DEFINITIONS, MAX_LARGE_MESSAGE_BYTES);
/** A session message as bytes (magic, MESSAGE_VERSION, code, fields). */
export const encodeDatagram = messageCodec.encode;
/** Bytes to a session message, or why they are not one. Never throws. */
export const decodeDatagram = messageCodec.decode;

/** @netchat/core: the public API. Everything not exported here is private to the package. */
export {
  type Address,
  formatAddress,
  normalizeHost,
  type PeerSpec,
  parsePeerSpec,
  parsePort,
} from './address.js';
export { Endpoint, type EndpointDependencies, type EndpointStats, type Transmit } from './endpoint.js';
export { errors, NetchatError, type NetchatErrorCode } from './errors.js';
export type { EventBase, EventOf, MessageId, NetchatEvent, NetchatEventType, SessionId } from './events.js';
export { NetchatPeer, type PeerEvents, type PeerOptions } from './node/netchat-peer.js';
export { BindError } from './node/udp-socket.js';
export { EndpointOptions, type EndpointOptionsInput, resolveOptions } from './options.js';
export type { SessionInfo, SessionState } from './session/session.js';
export { terminalSafe } from './terminal-text.js';
export { type DecodeResult, decodeDatagram, encodeDatagram } from './wire/codec.js';
export {
  Accept,
  Ack,
  ConnectRequest,
  DECLINE_REASONS,
  Datagram,
  type DatagramType,
  Decline,
  type DeclineReason,
  Disconnect,
  DisconnectAck,
  HEADER_BYTES,
  Heartbeat,
  MAGIC,
  MAX_DATAGRAM_BYTES,
  MAX_FRAGMENT_BYTES,
  MAX_NICK_BYTES,
  MIN_HEARTBEAT_MS,
  PROTOCOL_VERSION,
  Text,
} from './wire/messages.js';

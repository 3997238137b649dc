/** @netchat/core: the public API. Everything not exported here is private to the package. */
export {
  type Address,
  checkPeerSpec,
  formatAddress,
  normalizeHost,
  type PeerSpec,
  parsePeerSpec,
  parsePort,
  sameAddress,
} from './address.js';
export { Endpoint, type EndpointDependencies, type EndpointStats, type Transmit } from './endpoint.js';
export { errors, NetchatError, type NetchatErrorCode } from './errors.js';
export type {
  CloseReason,
  EventBase,
  FailReason,
  EventOf,
  MessageId,
  NetchatEvent,
  NetchatEventType,
  PeerFeatures,
  PeerIdentity,
  SessionId,
  StreamCancelReason,
  StreamDirection,
  StreamId,
} from './events.js';
export type { PathInfo } from './streams/endpoint-streams.js';
export type { StreamInfo } from './streams/stream-set.js';
export {
  ackRangeCount,
  encodeAckRanges,
  FEATURE_STREAMS,
  FEATURES_ASK,
  Features,
  MAX_STREAM_PAYLOAD_BYTES,
  StreamAck,
  StreamCredit,
  StreamData,
  StreamLimit,
  StreamReset,
  StreamStop,
} from './wire/stream-messages.js';
export {
  type AdapterStats,
  NetchatPeer,
  type PeerEvents,
  type PeerOptions,
  type PeerStats,
} from './node/netchat-peer.js';
export { BindError } from './node/udp-socket.js';
export { EndpointOptions, type EndpointOptionsInput, resolveOptions } from './options.js';
export type { CloseOptions, Linger, Route, SessionInfo, SessionState } from './session/session.js';
export { terminalSafe } from './terminal-text.js';
export { type Codec, type DecodeResult, makeCodec } from './wire/codec.js';
export {
  COOKIE_BYTES,
  CookieReply,
  DATA_HEADER_BYTES,
  Data,
  decodePacket,
  encodePacket,
  HandshakeFinal,
  HandshakeInit,
  HandshakeResponse,
  PACKET_VERSION,
  type Packet,
} from './wire/packets.js';
export { dataHeader, EPOCH_PACKETS, REKEY_AFTER_MS } from './secure/channel.js';
export {
  blake2b,
  fingerprint,
  generateKeyPair,
  type KeyPair,
  keyPairFromSecret,
  open as openSealed,
  rekey,
  seal,
  toHex,
} from './secure/crypto.js';
export { REPLAY_WINDOW, ReplayWindow } from './secure/replay-window.js';
export { PROLOGUE, type SecureStats } from './secure/secure-transport.js';
export { TokenBuckets } from './token-buckets.js';
export {
  ACTIVITIES,
  Accept,
  Ack,
  type Activity,
  ConnectRequest,
  DECLINE_REASONS,
  Datagram,
  type DatagramType,
  Decline,
  type DeclineReason,
  decodeDatagram,
  Disconnect,
  DisconnectAck,
  encodeDatagram,
  HEADER_BYTES,
  Heartbeat,
  MAGIC,
  MAX_DATAGRAM_BYTES,
  MAX_FRAGMENT_BYTES,
  MAX_MESSAGE_DATAGRAM_BYTES,
  PACKET_OVERHEAD_BYTES,
  MESSAGE_VERSION,
  MAX_NICK_BYTES,
  MIN_HEARTBEAT_MS,
  PRESENCE_TYPING_EXPIRY_MS,
  PRESENCE_TYPING_REFRESH_MS,
  Presence,
  Text,
} from './wire/messages.js';
export {
  IdentityError,
  identityPath,
  type LoadedIdentity,
  loadIdentity,
  netchatHome,
} from './node/identity-store.js';
export {
  assessTrust,
  describeTrust,
  type KnownPeer,
  KnownPeers,
  type PeerTrust,
  type Sighting,
  type TrustAssessment,
  type TrustLevel,
} from './node/known-peers.js';
export type { ChannelView, EndpointExtension, EndpointHost } from './rendezvous/extension.js';
export { fingerprintBytes, fingerprintText, isFingerprint } from './rendezvous/fingerprint.js';
export {
  ACCEPT_FROM,
  type AcceptFrom,
  addressFromWire,
  addressToWire,
  decodeRendezvous,
  encodeRendezvous,
  Introduce,
  IntroduceFailed,
  Introduction,
  RENDEZVOUS_VERSION,
  Register,
  Registered,
  type RendezvousMessage,
} from './rendezvous/messages.js';
export {
  type IntroduceFailure,
  RendezvousClient,
  type RendezvousClientOptions,
  type RendezvousUpdate,
} from './rendezvous/client.js';
export {
  DEFAULT_RENDEZVOUS_SERVER_OPTIONS,
  RendezvousServer,
  type RendezvousServerOptions,
  type RendezvousServerStats,
} from './rendezvous/server.js';
export { RendezvousLink, type RendezvousLinkOptions, serveRendezvous } from './node/rendezvous-link.js';
export { isRelayed, RELAY_HOST, relayAddress } from './rendezvous/relay.js';

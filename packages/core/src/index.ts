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
/** The host a per-host limit counts a peer against: IPv4 address, IPv6 /64, or a relayed peer as itself. */
export { requestHost } from './endpoint-admission.js';
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
export type { OpenStreamOptions, StreamInfo } from './streams/stream-set.js';
export {
  ackRangeCount,
  encodeAckRanges,
  FEATURE_FILES,
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
export type { AdapterStats } from './node/datagram-out.js';
export {
  NetchatPeer,
  type PeerEvents,
  type PeerOptions,
  type PeerStats,
} from './node/netchat-peer.js';
export { BindError } from './node/udp-socket.js';
export { isLoopback as isLoopbackHost } from './node/local-address.js';
export { EndpointOptions, type EndpointOptionsInput, resolveOptions } from './options.js';
export type { CloseOptions, Linger, Route, SessionInfo, SessionState } from './session/session.js';
export { sizesApart, sizeText } from './size-text.js';
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
  type KnownPeer,
  KnownPeers,
  type KnownPeersOptions,
  type PeerTrust,
  SIGHTING_SAVES,
  type Sighting,
} from './node/known-peers.js';
export { MAX_UNMARKED_PEERS } from './node/known-peers-file.js';
export {
  assessTrust,
  describeTrust,
  peerName,
  type TrustAssessment,
  type TrustLevel,
} from './node/trust-words.js';
export {
  type FileWriter,
  fileProblem,
  type SaveFailure,
  trySave,
  writeFileAtomically,
} from './node/home-files.js';
export { makeFolder } from './node/make-folder.js';
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
  FAILURE_REASONS,
  type FailureReason,
  RENDEZVOUS_VERSION,
  Register,
  Registered,
  RegisterFailed,
  type RendezvousMessage,
} from './rendezvous/messages.js';
export {
  type IntroduceFailure,
  RendezvousClient,
  type RendezvousClientOptions,
  type RendezvousClientStats,
  type RendezvousUpdate,
} from './rendezvous/client.js';
export {
  DEFAULT_RELAY_BYTES_PER_SECOND,
  DEFAULT_RENDEZVOUS_SERVER_OPTIONS,
  RendezvousServer,
  type RendezvousServerOptions,
  type RendezvousServerStats,
  relayRate,
} from './rendezvous/server.js';
export { RendezvousLink, type RendezvousLinkOptions, serveRendezvous } from './node/rendezvous-link.js';
export { isRelayed, RELAY_HOST, relayAddress } from './rendezvous/relay.js';

// Files (issue 20, step 1): the building blocks of file transfer below its protocol.
export {
  ContentHasher,
  contentHash,
  HASH_BYTES,
  STATE_BYTES as HASH_STATE_BYTES,
  STATE_FORMAT as HASH_STATE_FORMAT,
} from './files/content-hash.js';
export { type FileFailure, FileTransferError, fileErrors } from './files/file-errors.js';
export { fitName, splitExtension, utf8Bytes } from './files/name-parts.js';
export {
  isReserved,
  MAX_NAME_BYTES,
  MAX_PATH_BYTES,
  MAX_PATH_DEPTH,
  type NameRefusal,
  type SafePath,
  safeName,
  safeRelativePath,
} from './files/names.js';
export {
  type CheckedFile,
  checkOffer,
  OFFER_LIMITS,
  type OfferCheck,
  type OfferedFile,
  type OfferProblem,
} from './files/offer-limits.js';
export { type ProgressOptions, ProgressEstimator, type ProgressSnapshot } from './files/progress.js';
export { MAX_COPY_NUMBER, numberedName, uniqueName } from './files/unique-name.js';
export {
  MAX_SKIPPED_LISTED,
  type SkippedEntry,
  type SkipReason,
  type WalkedFile,
  type WalkOptions,
  type WalkResult,
  walkFolder,
} from './node/directory-walk.js';
export {
  type DownloadFolderInputs,
  type DownloadFolderSource,
  downloadFolder,
  type PreparedDownloadFolder,
  prepareDownloadFolder,
  type ResolvedDownloadFolder,
  resolveDownloadFolder,
  userDirsDownload,
  userDirsPath,
} from './node/download-folder.js';
export { FileSource, type FileSourceOptions } from './node/file-source.js';
export {
  MAX_FILES as MAX_OUTGOING_FILES,
  MAX_OFFERS as MAX_OUTGOING_OFFERS,
  MAX_OFFERS_PER_PEER as MAX_OUTGOING_OFFERS_PER_PEER,
  OUTGOING_TRANSFERS_FILE,
  OutgoingFile,
  OutgoingOffer,
  OutgoingTransfers,
  type OutgoingTransfersOptions,
} from './node/outgoing-transfers.js';
export { PartialFile, type PartialIo, type ReceivedFile } from './node/partial-file.js';
export { PlacedFile } from './node/placed-file.js';
export { type PartialKey, partialId } from './node/partial-state.js';
export {
  type PartialInfo,
  PartialStore,
  type PartialStoreOptions,
  type RoomCheck,
} from './node/partial-store.js';

// Files (issue 20, step 2): the transfer protocol on streams, sans-IO, and its node adapter.
export type {
  FileEvent,
  FileEventOf,
  FileEventType,
  FileState,
  QueuedWhy,
  TransferDirection,
  TransferFailure,
  TransferFileInfo,
  TransferId,
  TransferInfo,
  TransferState,
} from './files/file-events.js';
export { FileTransfers } from './files/file-transfers.js';
export { OFFER_QUEUE } from './files/offer-queue.js';
export type { OfferInput } from './files/sending.js';
export type { StorageOutcome, StorageRequest, StorageRequestKind } from './files/storage-requests.js';
export type { StreamPort } from './files/stream-port.js';
export {
  type FileTransferOptions,
  type FileTransferStats,
  STREAM_CODES as FILE_STREAM_CODES,
} from './files/transfer-context.js';
export { TRANSFER_LIMITS, type TransferLimits } from './files/transfer-limits.js';
export {
  Accept as FileAccept,
  CancelReceive,
  CancelSend,
  Data as FileData,
  DECLINE_REASONS as OFFER_DECLINE_REASONS,
  Decline as OfferDecline,
  decodeRecord,
  encodeRecord,
  FILES_VERSION,
  type FileRecord,
  type FileRecordType,
  FileFailed,
  FileVerdict,
  frame as frameRecord,
  MAX_RECORD_BYTES,
  Offer,
  type OfferDeclineReason,
  OfferFile,
  RECORD_DEFINITIONS,
  SEND_FAILURES,
  type SendFailure,
  type Verdict,
  VERDICTS,
  Want,
} from './files/records.js';
export {
  type AcceptOptions,
  type AcceptOutcome,
  FEATURES_WAIT_MS,
  FileLink,
  type FileLinkEvents,
  type FileLinkOptions,
  type LinkEvent,
} from './node/file-link.js';
export { DiskStorage, type SourceFile, type StorageStats } from './node/file-storage.js';
export {
  type HashProgress,
  type PreparedFile,
  type PreparedOffer,
  prepareOffer,
} from './node/offer-paths.js';

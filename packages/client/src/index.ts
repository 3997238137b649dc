/** @netchat/client: the chat logic the people-facing front-ends share. */
export { ACTION_PREFIX, actionOf, actionText } from './actions.js';
export { ChatClient, type ClientSettings, type ClientTimers, type ClientUpdate } from './chat-client.js';
export {
  ChatHistory,
  type ChatHistoryOptions,
  DEFAULT_MAX_BYTES_PER_PEER,
  HISTORY_ON_BY_DEFAULT,
  type HistoryCursor,
  HistoryEntry,
  type HistoryPage,
  type HistoryStats,
} from './chat-history.js';
export { matchContacts } from './contacts.js';
export { type Conversation, type ConversationState, type EndReason, neverOpened } from './conversation.js';
export { isSettled, type MessageStatus, type OutgoingMessage } from './outgoing-message.js';
export { type PeerPort, portOf, type TrustStore } from './peer-port.js';
export {
  isPeerTyping,
  PRESENCE_TYPING_EXPIRY_MS,
  PRESENCE_TYPING_REFRESH_MS,
  type PresenceUpdate,
} from './presence.js';
export {
  expandHome,
  quotePath,
  type ShellSplit,
  type ShellWord,
  shellWords,
  splitShellWords,
} from './shell-words.js';
export * as texts from './texts.js';
export type { Notice } from './texts.js';
export { RequestQueue, type WaitingRequest } from './waiting-request.js';
export { FILE_END_LINES, fileEndNotice } from './file-end-lines.js';
export type { FilePort } from './file-port.js';
export {
  allVerified,
  type FileFailureNote,
  type FileOutcome,
  hasEnded,
  type Transfer,
  type TransferPhase,
} from './transfer.js';
export {
  type OfferResult,
  type TransferAnswer,
  Transfers,
  type TransfersSettings,
  type TransferUpdate,
} from './transfers.js';
export {
  type Contact,
  isNamedTarget,
  resolveTarget,
  sameAddress,
  type Target,
  type TargetContext,
  type TargetProblem,
  type TargetProblemCode,
  type TargetResult,
  withFinder,
} from './peer-target.js';
export { peerName } from '@netchat/core';
export {
  type StorageSources,
  type StorageWarning,
  type StoredThing,
  storageWarningText,
  watchStorage,
} from './storage-warnings.js';

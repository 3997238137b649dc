/** @netchat/client: the chat logic the people-facing front-ends share. */
export { ChatClient, type ClientSettings, type ClientUpdate } from './chat-client.js';
export { type Conversation, type ConversationState, type EndReason, neverOpened } from './conversation.js';
export { isSettled, type MessageStatus, type OutgoingMessage } from './outgoing-message.js';
export type { PeerPort, TrustStore } from './peer-port.js';
export * as texts from './texts.js';
export type { Notice } from './texts.js';
export { RequestQueue, type WaitingRequest } from './waiting-request.js';
export { type Contact, isNamedTarget, parseTarget, withFinder } from './peer-target.js';

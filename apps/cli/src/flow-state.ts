/**
 * Where the chat flow stands (see chat-flow.ts for the machine): waiting for a line naming a
 * peer, waiting for the peer's answer, asking the person about a request, in a chat, or quitting.
 */
import type { Conversation, WaitingRequest } from '@netchat/client';

export type FlowState =
  | { name: 'idle' }
  | { name: 'connecting'; conversation: Conversation }
  | { name: 'asking'; request: WaitingRequest }
  | { name: 'chatting'; conversation: Conversation }
  | { name: 'quitting' };

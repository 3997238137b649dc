/**
 * What a typed line does in each state of the chat flow: at `Start chat with?` it names a peer
 * (or quits); while our request waits only `cancel` is taken; at a request's question it is y or
 * n; in a chat it is a message, a command, or the answer to a file offer's question. The flow
 * owns the state and its changes; this reads the line and asks the flow for them.
 */
import type { ChatClient, Conversation, Target, WaitingRequest } from '@netchat/client';
import { texts } from '@netchat/client';
import { COMMANDS_HINT, readChatLine, runChatCommand } from './chat-commands.js';
import type { FileFlow } from './file-flow.js';
import type { FlowConsole, FlowOptions } from './flow-console.js';
import { type FlowOutcome, notSentReason } from './flow-outcome.js';
import type { FlowState } from './flow-state.js';
import type { FlowView } from './flow-view.js';
import { MAX_LINE_BYTES } from './line-cap.js';
import { readAnswer, readStartLine } from './prompt-lines.js';

/** What a line may ask of the flow. */
export interface LineTarget {
  state(): FlowState;
  /** A script: its lines are only ever messages for the one peer named by --connect. */
  script(): boolean;
  connect(target: Target): void;
  quit(): void;
  becomeIdle(): void;
  decline(request: WaitingRequest, reason: 'declined' | 'busy', detail: string): void;
  /** The chat's prompt again, if `conversation` is still the one the flow is in. */
  promptAgainIn(conversation: Conversation): void;
}

export interface LineParts {
  readonly client: ChatClient;
  readonly out: FlowConsole;
  readonly view: FlowView;
  readonly outcome: FlowOutcome;
  readonly options: FlowOptions;
  readonly files: FileFlow | undefined;
}

export class TypedLines {
  constructor(
    private readonly flow: LineTarget,
    private readonly parts: LineParts,
  ) {}

  /**
   * One line, as typed: `text` is a message's exact text; `command` the same, trimmed, for
   * everything else. `endedChat`: the chat it was begun for ended under the person's fingers.
   */
  take(text: string, endedChat: Conversation | undefined): void {
    const s = this.flow.state();
    const command = text.trim();
    switch (s.name) {
      case 'idle':
        this.onStartLine(command, endedChat);
        return;
      case 'connecting':
        if (command === 'cancel') this.parts.client.cancel(s.conversation);
        else
          this.parts.outcome.notSent(
            text,
            'waiting',
            `still waiting for ${texts.spaced(s.conversation.target)} to answer`,
            undefined,
            'Type "cancel" to stop waiting.',
          );
        return;
      case 'asking':
        this.onAnswer(command, s.request);
        return;
      case 'chatting':
        this.onChatLine(text, s.conversation);
        return;
      case 'quitting':
        return;
    }
  }

  private onStartLine(text: string, ended: Conversation | undefined): void {
    const { contacts, rendezvous = false, ownFingerprint } = this.parts.options;
    const line = readStartLine(text, { contacts: contacts?.() ?? [], rendezvous, ownFingerprint });
    if (line.name === 'exit') this.flow.quit();
    else if (line.name === 'connect') this.flow.connect(line.target);
    else {
      // A line meant for a chat that ended as it was typed: say so, rather than "invalid address".
      if (line.name === 'invalid' && ended) {
        const who = texts.who(ended.peer ?? ended.target, ended.nick);
        this.parts.outcome.notSent(text, 'chat_ended', `the chat with ${who} had ended`);
      } else if (line.name === 'invalid') this.parts.out.warn(line.message);
      this.flow.becomeIdle();
    }
  }

  private onAnswer(text: string, request: WaitingRequest): void {
    const answer = readAnswer(text);
    if (answer === 'yes') this.parts.client.accept(request);
    else if (answer === 'no') {
      this.flow.decline(request, 'declined', '');
      this.parts.out.say('Connection declined.');
      this.flow.becomeIdle();
    } else {
      this.parts.out.warn('Please answer y or n.');
      this.parts.view.answerPrompt(request);
    }
  }

  private onChatLine(text: string, conversation: Conversation): void {
    const { client, out, outcome, files, options } = this.parts;
    if (files?.asking) {
      // The line answers the offer's question (y/n); the flow prompts again once it is answered.
      files.answer(text);
      return;
    }
    const command = readChatLine(text);
    if (command.name === 'exit') {
      client.close(conversation);
      return;
    }
    if (command.name === 'unknown') {
      // A script's line is counted as not sent (its exit code says so); a person is told what to type.
      if (this.flow.script())
        outcome.notSent(command.text, 'unknown_command', command.detail, conversation, COMMANDS_HINT);
      else out.warn(`Not sent: ${command.detail}. ${COMMANDS_HINT}`);
    } else if (command.name === 'send' || command.name === 'transfers' || command.name === 'cancel') {
      if (files) files.run(command, conversation);
      else out.warn('File transfer is not available in this run.');
    } else if (command.name !== 'message') runChatCommand(out, options.history, conversation, command);
    else
      try {
        client.send(conversation, command.text);
      } catch (error) {
        outcome.notSent(
          command.text,
          notSentReason(error),
          tooLongDetail(command.text, error, !options.interactive),
          conversation,
        );
      }
    this.flow.promptAgainIn(conversation);
  }
}

/**
 * The engine's words for a text it refused; a piped line cut at MAX_LINE_BYTES (line-cap.ts) was
 * longer than what reached it, so "message of 1048576 bytes" would understate it.
 */
function tooLongDetail(text: string, error: unknown, piped: boolean): string {
  const words = (error as Error).message;
  if (!piped || notSentReason(error) !== 'too_large' || Buffer.byteLength(text) < MAX_LINE_BYTES)
    return words;
  return words.replace(
    /^message of \d+ bytes/,
    `a line of ${MAX_LINE_BYTES} bytes or more (read only to there)`,
  );
}

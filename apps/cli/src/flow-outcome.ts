/**
 * How a run of the CLI ends, as it goes: the exit code (README, "Exit codes"), every message line
 * that ends undelivered (it makes the code non-zero), and the events only this side knows of
 * (`--json`: accepted, declined by us, closed by us, cancelled, unreachable, not_sent,
 * interrupted). The flow says what happened; this keeps the account and words the events.
 */
import { constants } from 'node:os';
import type { Conversation, OutgoingMessage, WaitingRequest } from '@netchat/client';
import { neverOpened, texts } from '@netchat/client';
import type { Address, DeclineReason } from '@netchat/core';
import type { LocalEvent, NotSentReason } from './json-events.js';

/** How the program ends; see README "Exit codes". */
export const EXIT = {
  /** Everything asked for happened: every message line was delivered. */
  ok: 0,
  /** A script's chat never opened: no answer, declined, a bad address. */
  notConnected: 3,
  /** A message was not delivered (not confirmed, or never sent), or a script's chat ended before its input did. */
  notDelivered: 4,
  /** A signal stopped a request that waited, or a script before its input ended: 128 + the signal's number. */
  interrupted: (signal: NodeJS.Signals) => 128 + (constants.signals[signal] ?? 0),
} as const;

/** Where the outcome's words and events go (the flow's console). */
export interface OutcomeOutput {
  warn(line: string): void;
  event(event: LocalEvent): void;
}

export class FlowOutcome {
  private code: number = EXIT.ok;
  /** Message lines that ended without being delivered. */
  private undelivered = 0;

  constructor(private readonly out: OutcomeOutput) {}

  /** The exit code: the first reason not to exit 0, else 4 if a message was not delivered. */
  exitCode(): number {
    return this.code === EXIT.ok && this.undelivered > 0 ? EXIT.notDelivered : this.code;
  }

  /** The first reason not to exit 0 is the one reported. */
  fail(code: number): void {
    if (this.code === EXIT.ok) this.code = code;
  }

  interrupted(signal: NodeJS.Signals): void {
    this.fail(EXIT.interrupted(signal));
    this.out.event({ type: 'interrupted', signal });
  }

  /** A line meant as a message that never left: said (a warning), counted, and an event. */
  notSent(text: string, reason: NotSentReason, detail: string, conversation?: Conversation, hint = ''): void {
    this.out.warn(`Not sent: ${detail}.${hint ? ` ${hint}` : ''}`);
    this.undelivered++;
    this.out.event({
      type: 'not_sent',
      reason,
      detail,
      ...lineOf(text),
      ...(conversation && where(conversation)),
    });
  }

  /**
   * A script has one peer: when its chat cannot open (exit 3), or ends before the input does
   * (exit 4; not when we closed it), the lines not yet taken have nowhere to go: each is not sent.
   */
  scriptChatEnded(c: Conversation, lines: { readonly done: boolean; takeAll(): string[] }): void {
    if (neverOpened(c)) {
      this.fail(EXIT.notConnected);
      this.dropped(lines.takeAll(), 'not_connected', 'the chat never opened');
    } else if (c.ended?.kind !== 'closed' && !lines.done) {
      this.fail(EXIT.notDelivered);
      this.dropped(lines.takeAll(), 'chat_ended', 'the chat ended before it could be sent');
    }
  }

  /** Lines read and never taken (a script whose chat did not open, a program stopped): each is not sent. */
  dropped(lines: readonly string[], reason: NotSentReason, detail: string): void {
    for (const text of lines) {
      this.undelivered++;
      this.out.event({ type: 'not_sent', reason, detail, ...lineOf(text) });
    }
  }

  /**
   * A message settled without a confirmation: said, counted; one that never left is an event
   * here (one the engine had is its `failed` event already).
   */
  notDelivered(message: OutgoingMessage): void {
    this.out.warn(texts.notDeliveredText(message));
    this.undelivered++;
    if (message.status === 'not_sent')
      this.out.event({
        type: 'not_sent',
        reason: 'chat_ended',
        detail: 'the chat ended before it could be sent',
        ...lineOf(message.text),
        ...where(message.conversation),
      });
  }

  /** We accepted a request: the same fields as the asker's `accepted`. */
  accepted(conversation: Conversation, request: WaitingRequest): void {
    if (conversation.session === undefined) return;
    const { peer, nick, publicKey, fingerprint } = request;
    this.out.event({ type: 'accepted', session: conversation.session, peer, nick, publicKey, fingerprint });
  }

  /** We declined a request: answered n, quitting, busy, or refused (not_allowed: a verified peer's nick). */
  declined(request: WaitingRequest, reason: DeclineReason, detail: string): void {
    this.out.event({
      type: 'declined',
      session: request.session,
      peer: request.peer,
      reason,
      detail,
      by: 'local',
    });
  }

  /** The end of a conversation that only this side knows of (the peer's side are core events). */
  ended(c: Conversation): void {
    const why = c.ended;
    const target = texts.spaced(c.target);
    if (why?.kind === 'closed' && c.session !== undefined && c.peer)
      this.out.event({ type: 'closed', session: c.session, peer: c.peer, reason: 'local' });
    else if (why?.kind === 'cancelled') this.out.event({ type: 'cancelled', target, ...where(c) });
    else if (why?.kind === 'unreachable')
      this.out.event({ type: 'unreachable', target, detail: why.message });
    else if (why?.kind === 'duplicate' || why?.kind === 'wrong_key')
      this.out.event({ type: 'unreachable', target, detail: texts.endedNotice(c).text });
  }
}

/**
 * A line longer than this can never be a message (65,536 bytes is the largest), so a `not_sent`
 * event has no use for all of it: a piped line cut at 1 MiB made a 1 MiB event a script had to
 * read whole. Shorter lines come whole, so a script can send them again.
 */
export const NOT_SENT_WHOLE_MAX_BYTES = 65_536;
/** How much of a longer line the event keeps: enough to tell which line it was. */
export const NOT_SENT_HEAD_CHARACTERS = 256;

/** A `not_sent` event's `text`: the line, or its start with `truncated` and the line's `bytes`. */
export function lineOf(text: string): { text: string; truncated?: true; bytes?: number } {
  const bytes = Buffer.byteLength(text);
  if (bytes <= NOT_SENT_WHOLE_MAX_BYTES) return { text };
  // Whole code points only: a cut through a surrogate pair would not be valid JSON text for many readers.
  const head = Array.from(text.slice(0, NOT_SENT_HEAD_CHARACTERS * 2))
    .slice(0, NOT_SENT_HEAD_CHARACTERS)
    .join('');
  return { text: head, truncated: true, bytes };
}

/** The engine's refusal of a text, as a reason a script can test. */
export function notSentReason(error: unknown): NotSentReason {
  const code = (error as { code?: unknown }).code;
  if (code === 'MESSAGE_TOO_LARGE') return 'too_large';
  if (code === 'SESSION_NOT_OPEN') return 'chat_ended';
  return typeof code === 'string' ? code.toLowerCase() : 'refused';
}

/** The session and peer of a conversation, as far as they are known. */
function where(c: Conversation): { session?: number; peer?: Address } {
  return {
    ...(c.session !== undefined && { session: c.session }),
    ...(c.peer !== undefined && { peer: c.peer }),
  };
}

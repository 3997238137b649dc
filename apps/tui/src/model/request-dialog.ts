/**
 * The request dialog: which waiting request it asks about (the oldest one not put aside with
 * Esc), and what it says. Requests come when they come, often while the person is typing, so
 * the dialog never takes ordinary keys: typing goes on into the draft, and a request is answered
 * only on purpose, with Alt+Y / Alt+N (as irssi and weechat make requests explicit commands),
 * `/accept` or `/decline`. The view takes those keys only once the dialog has been on screen for
 * DIALOG_ARM_MS, so a key pressed before it could be seen (a second Alt+Y meant for the request
 * before) never answers it.
 */
import { type texts as Texts, texts, type WaitingRequest } from '@netchat/client';
import { type SessionId, terminalSafe } from '@netchat/core';

/** How long the dialog is on screen before Alt+Y, Alt+N or Esc answer it. */
export const DIALOG_ARM_MS = 500;

/** The keys that answer it, as the dialog and the help say them. */
export const DIALOG_KEYS = 'Alt+Y yes, Alt+N no, Esc later';

export class RequestDialog {
  /** Requests whose dialog was put aside with Esc: answered later with /accept N. */
  private readonly dismissed = new Set<SessionId>();

  constructor(private readonly requests: () => readonly WaitingRequest[]) {}

  /** The request the dialog asks about, if any. */
  get request(): WaitingRequest | undefined {
    return this.requests().find((r) => !this.dismissed.has(r.session));
  }

  /** Esc: leaves the request waiting (for /accept N); the dialog moves on to the next one. */
  dismiss(): WaitingRequest | undefined {
    const request = this.request;
    if (request) this.dismissed.add(request.session);
    return request;
  }

  /** The request was answered or went away. */
  forget(session: SessionId): void {
    this.dismissed.delete(session);
  }
}

/** What the dialog says: who asks, what is known of its key, and how to answer. */
export function dialogNotices(request: WaitingRequest, nick: string): Texts.Notice[] {
  return [
    { text: texts.requestFromText(request.peer), warning: false },
    ...(request.nick ? [{ text: `Nick: ${nick}`, warning: false }] : []),
    // What to do about a new key is on the home tab: the dialog keeps to what answering needs.
    ...texts.trustNotices(request.trust, false),
  ];
}

/**
 * The same, in fewer words, for a dialog too small for them all (40×10 leaves it six rows of 38
 * columns): the address and the nick on one line, a new key just `(new)`, and the warning of a
 * known nick on a new key without its last sentence. Nothing a person needs to answer is left
 * out, and the home tab has the whole texts.
 */
export function shortDialogNotices(request: WaitingRequest, nick: string): Texts.Notice[] {
  const trust = request.trust;
  const from = {
    text: `From: ${texts.spaced(request.peer)}${request.nick ? ` (${nick})` : ''}`,
    warning: false,
  };
  if (trust.level === 'known') return [from, ...texts.trustNotices(trust)];
  const key = { text: `Fingerprint: ${trust.fingerprint} (new)`, warning: false };
  if (trust.level === 'new') return [from, key];
  const claimed = terminalSafe(trust.nick);
  const warning = `WARNING: not the key of the ${claimed} you know (${trust.knownFingerprint ?? ''}).`;
  return [from, { text: warning, warning: true }, key];
}

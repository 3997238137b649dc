/**
 * What becomes of a peer's request as it arrives: refused (a new key with a verified peer's
 * nick: `not_allowed`; at capacity or closing: `busy`), accepted at once (`acceptAll`), or queued
 * for the person's answer.
 *
 * One more case, for a peer that crashed and came back on another port (or whose address
 * changed as it restarted): its request comes from the key of a chat we still hold open, from
 * another address. The engine probes that chat at once and loses it within 2 × RTO if the peer is
 * gone (PROTOCOL.md, *Channels, restarts and limits*). Declining the request as busy meanwhile
 * would turn the person away from a chat with themselves, so at capacity such a request is
 * **held**: let in as any other once that chat ends, or declined busy after HOLD_REQUEST_MS if
 * the chat goes on (the same key on a second device). At most one request is held for a key: a
 * newer one from that key (from yet another address) replaces it, and the older is declined busy
 * at once. A held request its sender withdraws is forgotten, never shown.
 */
import type { DeclineReason, SessionId } from '@netchat/core';
import {
  backgroundTimers,
  type ClientSettings,
  type ClientTimers,
  type ClientUpdate,
} from './client-update.js';
import type { PeerPort } from './peer-port.js';
import type { RequestQueue, WaitingRequest } from './waiting-request.js';

/** How long a request from the key of a chat still open waits for that chat to end. */
export const HOLD_REQUEST_MS = 10_000;

export interface AdmissionContext {
  readonly port: PeerPort;
  readonly requests: RequestQueue;
  /** Conversations (connecting or open) and waiting requests now. */
  load(): number;
  /** Whether a conversation with this key is open. */
  chattingWith(publicKey: string): boolean;
  /** Opens the conversation of a request accepted at once. */
  openAuto(request: WaitingRequest): void;
  emit(update: ClientUpdate): void;
}

export class RequestAdmission {
  /** Requests held for an open chat with their key to end, by session, with their timers. */
  private readonly held = new Map<SessionId, { request: WaitingRequest; timer: unknown }>();

  /** The client is closing: every request is refused from now on. */
  private refusing = false;
  private readonly timers: ClientTimers;

  constructor(
    private readonly settings: Pick<ClientSettings, 'capacity' | 'acceptAll' | 'timers'>,
    private readonly ctx: AdmissionContext,
  ) {
    this.timers = settings.timers ?? backgroundTimers;
  }

  /** A request as it arrives (trust already assessed). */
  admit(request: WaitingRequest): void {
    const ctx = this.ctx;
    if (request.trust.level === 'impersonation' && request.trust.verified) {
      // A new key with the nick of a peer whose key the user verified: refused, as SSH refuses a changed host key.
      this.refuse(request, 'not_allowed', '');
      return;
    }
    const full = ctx.load() >= (this.settings.capacity ?? Number.POSITIVE_INFINITY);
    if (!this.refusing && full && ctx.chattingWith(request.publicKey)) {
      this.hold(request);
      return;
    }
    if (this.refusing || full) {
      this.refuse(request, 'busy', this.refusing ? 'closing' : 'in another chat');
      return;
    }
    if (this.settings.acceptAll) {
      ctx.port.accept(request.session);
      ctx.openAuto(request);
      return;
    }
    ctx.requests.add(request);
    ctx.emit({ type: 'request', request });
  }

  /** A chat with `publicKey` ended: the requests held for it are admitted as if they arrived now. */
  chatEnded(publicKey: string | undefined): void {
    if (publicKey === undefined || this.ctx.chattingWith(publicKey)) return;
    for (const [session, { request, timer }] of [...this.held]) {
      if (request.publicKey !== publicKey) continue;
      this.timers.clear(timer);
      this.held.delete(session);
      this.admit(request);
    }
  }

  /** A held request whose session went away (withdrawn, expired): forgotten. Whether it was held. */
  forget(session: SessionId): boolean {
    const entry = this.held.get(session);
    if (!entry) return false;
    this.timers.clear(entry.timer);
    this.held.delete(session);
    return true;
  }

  /** Closing: new requests are refused from now on, and every held one is declined (busy, closing). */
  refuseAll(): void {
    this.refusing = true;
    for (const [session, { timer }] of [...this.held]) {
      this.timers.clear(timer);
      this.held.delete(session);
      this.ctx.port.decline(session, 'busy', 'closing');
    }
  }

  private hold(request: WaitingRequest): void {
    // One held a key: the newest is the program that came back; an older one from that key is
    // declined at once. Without this a stranger with an open chat held a request in core and
    // here for each address it asked from (40 hosts: 40 for 10 s, asked again at each chat end).
    for (const [session, older] of [...this.held]) {
      if (older.request.publicKey !== request.publicKey) continue;
      this.timers.clear(older.timer);
      this.held.delete(session);
      this.refuse(older.request, 'busy', 'in another chat');
    }
    const timer = this.timers.set(() => {
      if (!this.held.delete(request.session)) return;
      this.refuse(request, 'busy', 'in another chat');
    }, HOLD_REQUEST_MS);
    this.held.set(request.session, { request, timer });
  }

  private refuse(request: WaitingRequest, reason: DeclineReason, detail: string): void {
    this.ctx.port.decline(request.session, reason, detail);
    this.ctx.emit({ type: 'request_refused', request, reason, detail });
  }
}

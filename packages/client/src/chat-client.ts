/**
 * The chat logic both people-facing front-ends share, with no terminal in it: conversations and
 * their states, the queue of waiting requests, each sent message's fate, and trust on first use.
 * Feed it the peer's events with `handle`; it answers with `ClientUpdate`s to its listeners.
 *
 * Requests: a request waits in the queue for `accept` or `decline`, unless the client is at
 * capacity (then it is declined as busy at once) or accepts all (`acceptAll`, --yes).
 * Messages: `send` hands a text to the peer, or holds it back while the peer's send queue is full
 * and sends it as room comes (so input read faster than the network is never dropped); a `room`
 * update says the backlog has drained. Every message ends `delivered`, `not_confirmed` (sent,
 * never acknowledged) or `not_sent` (the chat ended before it could go).
 * Presence: `setNick` reaches every open conversation's peer; `notifyTyping` / `stopTyping` tell
 * one peer we type (paced here); the peer's nick changes and typing come as `PresenceUpdate`s to
 * `subscribePresence` listeners (a separate channel, so exhaustive `ClientUpdate` switches in
 * front-ends stay valid), its typing expiring on the client's own timer.
 */
import {
  type Address,
  assessTrust,
  checkPeerSpec,
  type DeclineReason,
  type EventOf,
  formatAddress,
  type NetchatEvent,
  NetchatError,
  type PeerSpec,
  type SessionId,
} from '@netchat/core';
import type { ChatHistory } from './chat-history.js';
import type { Conversation, EndReason } from './conversation.js';
import type { OutgoingMessage } from './outgoing-message.js';
import type { PeerPort, TrustStore } from './peer-port.js';
import { isPeerTyping, PRESENCE_TYPING_EXPIRY_MS, type PresenceUpdate, typingNoticeDue } from './presence.js';
import { isNamedTarget } from './peer-target.js';
import { RequestQueue, type WaitingRequest } from './waiting-request.js';

export type ClientUpdate =
  /** A request waits for `accept` or `decline`. */
  | { readonly type: 'request'; readonly request: WaitingRequest }
  /** A request was declined at once: the client is at capacity, or closing. */
  | { readonly type: 'request_refused'; readonly request: WaitingRequest }
  /** A waiting request went away before it was answered. */
  | {
      readonly type: 'request_gone';
      readonly request: WaitingRequest;
      readonly why: 'withdrawn' | 'expired' | 'peer_restarted';
    }
  | {
      readonly type: 'opened';
      readonly conversation: Conversation;
      /** `connected`: our request was accepted; `accepted`: we accepted theirs; `auto`: by acceptAll. */
      readonly how: 'connected' | 'accepted' | 'auto';
      /** The peer's request, when it asked (`accepted`, `auto`). */
      readonly request?: WaitingRequest;
    }
  /** The conversation ended, or (see `neverOpened`) its request failed; `conversation.ended` says why. */
  | { readonly type: 'ended'; readonly conversation: Conversation }
  | { readonly type: 'message'; readonly conversation: Conversation; readonly text: string }
  | { readonly type: 'delivered'; readonly message: OutgoingMessage }
  /** The message is settled without a confirmation: `status` is `not_confirmed` or `not_sent`. */
  | { readonly type: 'not_delivered'; readonly message: OutgoingMessage }
  /** The backlog of a conversation has drained: everything typed so far has been handed to the peer. */
  | { readonly type: 'room'; readonly conversation: Conversation }
  | { readonly type: 'heartbeat_sent'; readonly conversation: Conversation }
  | { readonly type: 'heartbeat_missed'; readonly conversation: Conversation; readonly count: number };

export interface ClientSettings {
  /** Accept every request (--yes) while there is capacity. */
  acceptAll?: boolean;
  /**
   * How many conversations (connecting or open) and waiting requests at once; a request beyond
   * that is declined as busy. The line client has 1; the TUI no limit.
   */
  capacity?: number;
  /** The client's clock in ms (for `WaitingRequest.since`, and typing: notices and expiry). */
  clock?: () => number;
  /** The timer that ends a peer's typing when it expires; setTimeout (unref'd) by default. */
  timers?: ClientTimers;
  /** Where conversations are logged (messages both ways), if anywhere; it has its own on/off. */
  history?: ChatHistory;
}

/** One timer at a time, in ms of real time; injectable so tests run on virtual time. */
export interface ClientTimers {
  set(run: () => void, delayMs: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: ClientTimers = {
  set(run, delayMs) {
    const timer = setTimeout(run, delayMs);
    // A typing indicator must never keep a program alive.
    timer.unref?.();
    return timer;
  },
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class ChatClient {
  readonly requests = new RequestQueue();
  /** The conversations connecting or open, in the order they began (ended ones leave the list). */
  readonly conversations: Conversation[] = [];
  private readonly inFlight = new Map<number, OutgoingMessage>();
  /** Messages that failed because their chat is ending: reported after the `ended` that says why. */
  private readonly failing = new Map<Conversation, OutgoingMessage[]>();
  private readonly listeners: ((update: ClientUpdate) => void)[] = [];
  private readonly presenceListeners: ((update: PresenceUpdate) => void)[] = [];
  private readonly timers: ClientTimers;
  private typingTimer: unknown;
  private typingTimerAt: number | undefined;
  private nextConversationId = 1;
  private nextMessageId = 1;
  private refusing = false;
  private readonly clock: () => number;

  constructor(
    private readonly port: PeerPort,
    private readonly trustStore: TrustStore,
    private readonly settings: ClientSettings = {},
  ) {
    this.clock = settings.clock ?? (() => Date.now());
    this.timers = settings.timers ?? realTimers;
  }

  /** Calls `listener` with every update, in order. */
  subscribe(listener: (update: ClientUpdate) => void): void {
    this.listeners.push(listener);
  }

  /** Calls `listener` with every presence update (a peer's nick change, its typing), in order. */
  subscribePresence(listener: (update: PresenceUpdate) => void): void {
    this.presenceListeners.push(listener);
  }

  // ---- what the person does -------------------------------------------------------------------

  /**
   * Our nick from now on: sent with later requests and accepts, and at once (unreliably, in a
   * `presence`) to every open conversation's peer. Throws INVALID_ARGUMENT for a nick that
   * cannot go on the wire (over 32 bytes, control characters), and changes nothing then.
   */
  setNick(nick: string): void {
    if (!this.port.setNick) throw new NetchatError('INVALID_ARGUMENT', 'this peer cannot change its nick');
    this.port.setNick(nick);
  }

  /**
   * The person typed in this conversation (call it on every keystroke that edits the draft):
   * tells the peer at once, then at most once per PRESENCE_TYPING_REFRESH_MS. Returns whether a
   * notice went out. Nothing for a conversation that is not open.
   */
  notifyTyping(conversation: Conversation, now = this.clock()): boolean {
    if (conversation.state !== 'open' || conversation.session === undefined) return false;
    if (!typingNoticeDue(conversation, now) || !this.port.setTyping) return false;
    if (!this.port.setTyping(conversation.session, true)) return false;
    conversation.typingSentAt = now;
    return true;
  }

  /**
   * The person stopped typing without sending (cleared the draft, left the tab): one `idle`
   * notice, if the peer was told we type. Sending a message needs no call: it ends typing.
   */
  stopTyping(conversation: Conversation): void {
    if (conversation.typingSentAt === undefined) return;
    conversation.typingSentAt = undefined;
    if (conversation.state === 'open' && conversation.session !== undefined)
      this.port.setTyping?.(conversation.session, false);
  }

  /** Whether the peer of this conversation is typing at `now` (at most PRESENCE_TYPING_EXPIRY_MS after its last notice). */
  peerTyping(conversation: Conversation, now = this.clock()): boolean {
    return isPeerTyping(conversation, now);
  }

  /**
   * Asks a peer to chat. The conversation starts `connecting` at once; `opened` or `ended`
   * follows (`ended` with `unreachable` if the address cannot be used).
   */
  connect(target: PeerSpec): Conversation {
    const conversation = this.add('outgoing', target);
    void this.dial(conversation);
    return conversation;
  }

  /** Withdraws a request still waiting for its answer. */
  cancel(conversation: Conversation): void {
    if (conversation.state !== 'connecting') return;
    if (conversation.session !== undefined) this.port.closeSession(conversation.session);
    this.end(conversation, { kind: 'cancelled' });
  }

  accept(request: WaitingRequest): Conversation {
    this.requests.take(request.session);
    this.port.accept(request.session);
    return this.openIncoming(request, 'accepted');
  }

  decline(request: WaitingRequest, reason: DeclineReason = 'declined', detail = ''): void {
    if (!this.requests.take(request.session)) return;
    this.port.decline(request.session, reason, detail);
  }

  /**
   * Sends `text` in an open conversation, now or (while the peer's send queue is full) as soon as
   * there is room. Throws NetchatError for what can never be sent (empty, too large, not open).
   */
  send(conversation: Conversation, text: string): OutgoingMessage {
    if (conversation.state !== 'open' || conversation.session === undefined)
      throw new NetchatError('SESSION_NOT_OPEN', `the chat is ${conversation.state}, not open`);
    // The message ends our typing at the peer (PROTOCOL.md, Presence): the next keystroke tells it again.
    conversation.typingSentAt = undefined;
    const message: OutgoingMessage = {
      id: this.nextMessageId++,
      conversation,
      text,
      status: 'pending',
      messageId: undefined,
      reason: undefined,
    };
    if (conversation.backlog.length > 0 || !this.handOver(message)) conversation.backlog.push(message);
    // Logged once accepted (sent or held back); one the peer refused (empty, too large) threw above.
    this.settings.history?.append(conversation, 'out', text);
    return message;
  }

  /** Whether everything sent in this conversation has been handed to the peer (no backlog). */
  hasRoom(conversation: Conversation): boolean {
    return conversation.backlog.length === 0;
  }

  /** Closes a conversation (withdraws it, if still connecting). Messages in flight may still be confirmed. */
  close(conversation: Conversation): void {
    if (conversation.state === 'connecting') {
      this.cancel(conversation);
      return;
    }
    if (conversation.state !== 'open') return;
    if (conversation.session !== undefined) this.port.closeSession(conversation.session);
    this.end(conversation, { kind: 'closed' });
  }

  /** Closes every conversation, declines every waiting request, and refuses new ones from now on. */
  closeAll(): void {
    this.refusing = true;
    for (const request of [...this.requests.list()]) this.decline(request, 'busy', 'closing');
    for (const conversation of [...this.conversations]) this.close(conversation);
  }

  /** Messages not yet settled (delivered or reported), in every conversation. */
  unsettled(): OutgoingMessage[] {
    const held = this.conversations.flatMap((c) => c.backlog);
    return [...held, ...this.inFlight.values()].sort((a, b) => a.id - b.id);
  }

  // ---- what the peer does ---------------------------------------------------------------------

  /** One peer event. Every type is handled: the compiler flags a new one. */
  handle(e: NetchatEvent): void {
    switch (e.type) {
      case 'request':
        this.onRequest(e);
        return;
      case 'accepted':
        this.onAccepted(e);
        return;
      case 'declined': {
        const c = this.connecting(e.session);
        if (c) this.end(c, { kind: 'declined', reason: e.reason, detail: e.detail });
        return;
      }
      case 'no_answer': {
        const c = this.connecting(e.session);
        if (c) this.end(c, { kind: 'no_answer' });
        return;
      }
      case 'message': {
        const c = this.open(e.session);
        if (!c) return;
        c.missed = 0;
        this.settings.history?.append(c, 'in', e.text);
        // Its message is what the peer was typing.
        this.peerStoppedTyping(c);
        c.peer = e.peer; // where the peer is now: it roamed, or a relayed chat went direct
        this.emit({ type: 'message', conversation: c, text: e.text });
        return;
      }
      case 'presence':
        this.onPresence(e);
        return;
      case 'delivered':
      case 'failed':
        this.onOutcome(e);
        return;
      case 'heartbeat_sent': {
        const c = this.open(e.session);
        if (c) this.emit({ type: 'heartbeat_sent', conversation: c });
        return;
      }
      case 'heartbeat_missed': {
        const c = this.open(e.session);
        if (!c) return;
        c.missed = e.count;
        this.emit({ type: 'heartbeat_missed', conversation: c, count: e.count });
        return;
      }
      case 'lost':
        this.onGone(e.session, 'expired', { kind: 'lost', missed: e.missed });
        return;
      case 'request_expired':
        this.onGone(e.session, 'expired', { kind: 'lost', missed: 0 });
        return;
      case 'closed':
        this.onGone(
          e.session,
          e.reason === 'peer_restarted' ? 'peer_restarted' : 'withdrawn',
          e.reason === 'peer_restarted' ? { kind: 'peer_restarted' } : { kind: 'peer_closed' },
        );
        return;
      // Streams (issue 19): the chat's endpoint does not take them (option `streams` off), so
      // none of these ever comes.
      case 'features':
      case 'stream_opened':
      case 'stream_readable':
      case 'stream_writable':
      case 'stream_finished':
      case 'stream_cancelled':
      case 'streams_available':
        return;
      default: {
        const unhandled: never = e;
        void unhandled;
      }
    }
  }

  // ---- internals ------------------------------------------------------------------------------

  private async dial(conversation: Conversation): Promise<void> {
    // Every outcome comes after `connect` returned, so the caller can hold the conversation first.
    await Promise.resolve();
    try {
      const target = conversation.target;
      // A fingerprint is found through the rendezvous; an address is looked up (no extra await: callers count ticks).
      if (!isNamedTarget(target)) checkPeerSpec(target);
      const address = await (isNamedTarget(target)
        ? this.find(target.host)
        : this.port.resolve(target.host, target.port));
      if (conversation.state !== 'connecting') return;
      conversation.peer = address;
      const session = this.port.connectTo(address);
      // An immediate answer (the peer was already asking us) may have opened it already.
      conversation.session ??= session;
    } catch (error) {
      if (conversation.state !== 'connecting') return;
      this.end(conversation, { kind: 'unreachable', message: (error as Error).message });
    }
  }

  /** The peer with this fingerprint, through the rendezvous: resolves at the moment to connect. */
  private find(fingerprint: string): Promise<Address> {
    if (!this.port.find)
      return Promise.reject(new Error('no rendezvous configured (--rendezvous HOST:PORT)'));
    return this.port.find(fingerprint);
  }

  private onRequest(e: EventOf<'request'>): void {
    const request: WaitingRequest = {
      session: e.session,
      peer: e.peer,
      nick: e.nick,
      publicKey: e.publicKey,
      fingerprint: e.fingerprint,
      trust: assessTrust(e.fingerprint, e.nick, this.trustStore.check(e.publicKey, e.nick)),
      since: this.clock(),
    };
    const load = this.conversations.length + this.requests.size;
    if (this.refusing || load >= (this.settings.capacity ?? Number.POSITIVE_INFINITY)) {
      this.port.decline(e.session, 'busy', this.refusing ? 'closing' : 'in another chat');
      this.emit({ type: 'request_refused', request });
      return;
    }
    if (this.settings.acceptAll) {
      this.port.accept(e.session);
      this.openIncoming(request, 'auto');
      return;
    }
    this.requests.add(request);
    this.emit({ type: 'request', request });
  }

  private onAccepted(e: EventOf<'accepted'>): void {
    // Our connect may have answered a request the peer had already sent us: it is no longer waiting.
    this.requests.take(e.session);
    const conversation =
      this.conversations.find((c) => c.state === 'connecting' && c.session === e.session) ??
      this.conversations.find(
        (c) =>
          c.state === 'connecting' &&
          c.session === undefined &&
          c.peer !== undefined &&
          formatAddress(c.peer) === formatAddress(e.peer),
      );
    if (!conversation) return;
    conversation.session = e.session;
    conversation.peer = e.peer;
    conversation.nick = e.nick;
    conversation.publicKey = e.publicKey;
    conversation.trust = assessTrust(e.fingerprint, e.nick, this.trustStore.check(e.publicKey, e.nick));
    conversation.state = 'open';
    // Chatting with a key is trusting it from now on (trust on first use), seen here and now.
    this.trustStore.remember(e.publicKey, e.nick, e.fingerprint, { address: e.peer });
    this.emit({ type: 'opened', conversation, how: 'connected' });
  }

  private openIncoming(request: WaitingRequest, how: 'accepted' | 'auto'): Conversation {
    const conversation = this.add('incoming', request.peer);
    conversation.peer = request.peer;
    conversation.session = request.session;
    conversation.nick = request.nick;
    conversation.publicKey = request.publicKey;
    conversation.trust = request.trust;
    conversation.state = 'open';
    this.trustStore.remember(request.publicKey, request.nick, request.fingerprint, { address: request.peer });
    this.emit({ type: 'opened', conversation, how, request });
    return conversation;
  }

  private onGone(
    session: SessionId,
    requestWhy: 'withdrawn' | 'expired' | 'peer_restarted',
    why: EndReason,
  ): void {
    const request = this.requests.take(session);
    if (request) {
      this.emit({ type: 'request_gone', request, why: requestWhy });
      return;
    }
    const conversation = this.conversations.find((c) => c.state !== 'ended' && c.session === session);
    if (conversation) this.end(conversation, why);
  }

  private onPresence(e: EventOf<'presence'>): void {
    const c = this.open(e.session);
    if (!c) return;
    c.missed = 0;
    if (e.nick !== c.nick) this.onPeerNick(c, e.nick);
    if (!e.typing) {
      this.peerStoppedTyping(c);
      return;
    }
    const was = c.peerTypingUntil !== undefined;
    c.peerTypingUntil = this.clock() + PRESENCE_TYPING_EXPIRY_MS;
    this.armTypingTimer();
    if (!was) this.emitPresence({ type: 'typing', conversation: c, typing: true });
  }

  /**
   * The peer calls itself something else now. Its key stays what the handshake proved; the new
   * nick is remembered for it, unless another known key has that nick (then it is flagged).
   */
  private onPeerNick(c: Conversation, nick: string): void {
    const previous = c.nick;
    c.nick = nick;
    const conflict =
      nick === ''
        ? []
        : (this.trustStore.list?.() ?? [])
            .filter((p) => p.publicKey !== c.publicKey && p.nick === nick)
            .map((p) => p.fingerprint);
    if (conflict.length === 0 && c.publicKey !== undefined && c.trust)
      this.trustStore.remember(c.publicKey, nick, c.trust.fingerprint, c.peer ? { address: c.peer } : {});
    this.emitPresence(
      conflict.length > 0
        ? { type: 'nick', conversation: c, previous, nick, conflict }
        : { type: 'nick', conversation: c, previous, nick },
    );
  }

  private peerStoppedTyping(c: Conversation): void {
    if (c.peerTypingUntil === undefined) return;
    c.peerTypingUntil = undefined;
    this.emitPresence({ type: 'typing', conversation: c, typing: false });
  }

  /** One timer, for the earliest expiry of a peer's typing. */
  private armTypingTimer(): void {
    let at: number | undefined;
    for (const c of this.conversations)
      if (c.peerTypingUntil !== undefined && (at === undefined || c.peerTypingUntil < at))
        at = c.peerTypingUntil;
    if (at === this.typingTimerAt) return;
    if (this.typingTimer !== undefined) this.timers.clear(this.typingTimer);
    this.typingTimer = undefined;
    this.typingTimerAt = at;
    if (at !== undefined)
      this.typingTimer = this.timers.set(() => this.onTypingTimer(), Math.max(0, at - this.clock()));
  }

  private onTypingTimer(): void {
    this.typingTimer = undefined;
    this.typingTimerAt = undefined;
    const now = this.clock();
    for (const c of [...this.conversations])
      if (c.peerTypingUntil !== undefined && c.peerTypingUntil <= now) this.peerStoppedTyping(c);
    this.armTypingTimer();
  }

  private onOutcome(e: EventOf<'delivered'> | EventOf<'failed'>): void {
    const message = this.inFlight.get(e.messageId);
    if (!message) return;
    this.inFlight.delete(e.messageId);
    if (e.type === 'delivered') {
      message.status = 'delivered';
      this.emit({ type: 'delivered', message });
    } else {
      message.status = 'not_confirmed';
      message.reason = e.reason;
      const conversation = message.conversation;
      if (e.reason !== 'closed' && conversation.state !== 'ended') {
        // The engine fails the messages first, then says the chat is lost or closed: tell it in that order.
        this.failing.set(conversation, [...(this.failing.get(conversation) ?? []), message]);
        return;
      }
      this.emit({ type: 'not_delivered', message });
    }
    if (e.type === 'delivered') this.flush(message.conversation);
  }

  /** Hands held-back texts to the peer while it has room. */
  private flush(conversation: Conversation): void {
    if (conversation.backlog.length === 0 || conversation.state !== 'open') return;
    while (conversation.backlog.length > 0) {
      const next = conversation.backlog[0] as OutgoingMessage;
      if (!this.handOver(next)) return;
      conversation.backlog.shift();
    }
    this.emit({ type: 'room', conversation });
  }

  /** Sends one message now; false if the peer's send queue is full. Other errors are thrown. */
  private handOver(message: OutgoingMessage): boolean {
    try {
      message.messageId = this.port.send(message.conversation.session as SessionId, message.text);
    } catch (error) {
      // By code, not class: the peer may come from another copy of core.
      if ((error as { code?: unknown }).code === 'SEND_QUEUE_FULL') return false;
      throw error;
    }
    this.inFlight.set(message.messageId, message);
    return true;
  }

  private end(conversation: Conversation, why: EndReason): void {
    conversation.state = 'ended';
    conversation.ended = why;
    conversation.missed = 0;
    // An ended chat has no one typing in it ('ended' says so): no update of its own.
    conversation.peerTypingUntil = undefined;
    conversation.typingSentAt = undefined;
    this.conversations.splice(this.conversations.indexOf(conversation), 1);
    this.armTypingTimer();
    const held = conversation.backlog.splice(0);
    const failed = this.failing.get(conversation) ?? [];
    this.failing.delete(conversation);
    this.emit({ type: 'ended', conversation });
    for (const message of failed) this.emit({ type: 'not_delivered', message });
    for (const message of held) {
      message.status = 'not_sent';
      this.emit({ type: 'not_delivered', message });
    }
  }

  private add(direction: Conversation['direction'], target: PeerSpec | Address): Conversation {
    const conversation: Conversation = {
      id: this.nextConversationId++,
      direction,
      target: { host: target.host, port: target.port },
      peer: undefined,
      session: undefined,
      nick: '',
      publicKey: undefined,
      trust: undefined,
      state: 'connecting',
      ended: undefined,
      missed: 0,
      backlog: [],
      peerTypingUntil: undefined,
      typingSentAt: undefined,
    };
    this.conversations.push(conversation);
    return conversation;
  }

  private connecting(session: SessionId): Conversation | undefined {
    return this.conversations.find((c) => c.state === 'connecting' && c.session === session);
  }

  private open(session: SessionId): Conversation | undefined {
    return this.conversations.find((c) => c.state === 'open' && c.session === session);
  }

  private emit(update: ClientUpdate): void {
    for (const listener of this.listeners) listener(update);
  }

  private emitPresence(update: PresenceUpdate): void {
    for (const listener of this.presenceListeners) listener(update);
  }
}

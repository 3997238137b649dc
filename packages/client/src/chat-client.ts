/**
 * The chat logic both people-facing front-ends share, with no terminal in it: conversations and
 * their states, the queue of waiting requests, and trust on first use. Feed it the peer's events
 * with `handle`; it answers with `ClientUpdate`s to its listeners. Four parts have files of
 * their own: dialling (`dialler.ts`: look-up, one chat per peer, the answer), what becomes of a
 * request (`request-admission.ts`: queued for `accept` or `decline`, refused, accepted at once,
 * or held while the old chat of a peer that came back is probed), each message's fate
 * (`message-fates.ts`) and presence (`presence.ts`: typing and nicks).
 * Messages: `send` hands a text to the peer, or holds it back while the peer's send queue is full
 * and sends it as room comes; a `room` update says the backlog has drained. Every message ends
 * `delivered`, `not_confirmed` (sent, never acknowledged) or `not_sent` (the chat ended first).
 * Presence: `setNick` reaches every open conversation's peer; `notifyTyping` / `stopTyping` tell
 * one peer we type (paced); the peer's nick changes and typing come as `PresenceUpdate`s to
 * `subscribePresence` listeners (a separate channel, so exhaustive `ClientUpdate` switches in
 * front-ends stay valid), its typing expiring on the client's own timer.
 */
import {
  type Address,
  assessTrust,
  type DeclineReason,
  type EventOf,
  type NetchatEvent,
  type PeerSpec,
  type SessionId,
} from '@netchat/core';
import { backgroundTimers, type ClientSettings, type ClientUpdate } from './client-update.js';
import { type Conversation, type EndReason, newConversation } from './conversation.js';
import { Dialler, wrongKey } from './dialler.js';
import { EndedConversations } from './ended-conversations.js';
import { MessageFates } from './message-fates.js';
import type { OutgoingMessage } from './outgoing-message.js';
import type { PeerPort, TrustStore } from './peer-port.js';
import type { Target } from './peer-target.js';
import { isPeerTyping, PresenceTracker, type PresenceUpdate } from './presence.js';
import { RequestAdmission } from './request-admission.js';
import { RequestQueue, type WaitingRequest } from './waiting-request.js';

export type { ClientSettings, ClientTimers, ClientUpdate } from './client-update.js';

export class ChatClient {
  readonly requests = new RequestQueue();
  /** The conversations connecting or open, in the order they began (ended ones leave the list). */
  readonly conversations: Conversation[] = [];
  private readonly listeners: ((update: ClientUpdate) => void)[] = [];
  private readonly fates: MessageFates;
  private readonly presence: PresenceTracker;
  private readonly dialler: Dialler;
  /** The latest ended conversation with each peer key: what a new one with that peer continues. */
  private readonly ended = new EndedConversations();
  private nextConversationId = 1;
  private readonly clock: () => number;
  /** What becomes of each request as it arrives (refused, accepted, queued, or held). */
  private readonly admission: RequestAdmission;

  constructor(
    private readonly port: PeerPort,
    private readonly trustStore: TrustStore,
    private readonly settings: ClientSettings = {},
  ) {
    this.clock = settings.clock ?? (() => Date.now());
    const conversations = () => this.conversations;
    this.admission = new RequestAdmission(settings, {
      port,
      requests: this.requests,
      load: () => this.conversations.length + this.requests.size,
      chattingWith: (key) => this.conversations.some((c) => c.state === 'open' && c.publicKey === key),
      openAuto: (request) => this.openIncoming(request, 'auto'),
      emit: (u) => this.emit(u),
    });
    this.fates = new MessageFates(port, (u) => this.emit(u));
    this.presence = new PresenceTracker({
      port,
      trustStore,
      clock: this.clock,
      timers: settings.timers ?? backgroundTimers,
      conversations,
    });
    this.dialler = new Dialler({
      port,
      conversations,
      oneChatPerPeer: settings.oneChatPerPeer ?? false,
      end: (c, why) => this.end(c, why),
    });
  }

  /** Calls `listener` with every update, in order. */
  subscribe(listener: (update: ClientUpdate) => void): void {
    this.listeners.push(listener);
  }

  /** Calls `listener` with every presence update (a peer's nick change, its typing), in order. */
  subscribePresence(listener: (update: PresenceUpdate) => void): void {
    this.presence.subscribe(listener);
  }

  // ---- what the person does -------------------------------------------------------------------

  /**
   * Our nick from now on: sent with later requests and accepts, and at once (unreliably, in a
   * `presence`) to every open conversation's peer. Throws INVALID_ARGUMENT for a nick that
   * cannot go on the wire (over 32 bytes, control characters), and changes nothing then.
   */
  setNick(nick: string): void {
    this.presence.setNick(nick);
  }

  /**
   * The person typed in this conversation (call it on every keystroke that edits the draft):
   * tells the peer at once, then at most once per PRESENCE_TYPING_REFRESH_MS. Returns whether a
   * notice went out. Nothing for a conversation that is not open.
   */
  notifyTyping(conversation: Conversation, now = this.clock()): boolean {
    return this.presence.notifyTyping(conversation, now);
  }

  /**
   * The person stopped typing without sending (cleared the draft, left the tab): one `idle`
   * notice, if the peer was told we type. Sending a message needs no call: it ends typing.
   */
  stopTyping(conversation: Conversation): void {
    this.presence.stopTyping(conversation);
  }

  /** Whether the peer of this conversation is typing at `now` (at most PRESENCE_TYPING_EXPIRY_MS after its last notice). */
  peerTyping(conversation: Conversation, now = this.clock()): boolean {
    return isPeerTyping(conversation, now);
  }

  /**
   * Asks a peer to chat: an address, or a `Target` from `resolveTarget` (a peer known by key
   * opens only with that key). The conversation starts `connecting` at once; `opened` or `ended`
   * follows: `unreachable` if the address cannot be used, `duplicate` (with the existing
   * conversation; with `oneChatPerPeer`) if that peer is already in a chat or a request with us,
   * `wrong_key` if another key answered (its session is closed at once).
   */
  connect(target: PeerSpec | Target): Conversation {
    const spec = 'kind' in target ? target.spec : target;
    const expected =
      'kind' in target && target.kind === 'key'
        ? { fingerprint: target.fingerprint, nick: target.nick }
        : undefined;
    const conversation = this.add('outgoing', spec, expected);
    void this.dialler.dial(conversation);
    return conversation;
  }

  /**
   * The conversation (connecting or open) already with the peer `conversation` asks for, other
   * than itself: the same key, or the same address (once known, or as typed). One chat per peer.
   */
  duplicateOf(conversation: Conversation): Conversation | undefined {
    return this.dialler.duplicateOf(conversation);
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
    const message = this.fates.send(conversation, text);
    // The message ends our typing at the peer (PROTOCOL.md, Presence): the next keystroke tells it again.
    this.presence.sentMessage(conversation);
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
    this.admission.refuseAll();
    for (const request of [...this.requests.list()]) this.decline(request, 'busy', 'closing');
    for (const conversation of [...this.conversations]) this.close(conversation);
  }

  /** Messages not yet settled (delivered or reported), in every conversation. */
  unsettled(): OutgoingMessage[] {
    return this.fates.unsettled(this.conversations);
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
        this.settings.history?.append(c, 'in', e.text);
        // Its message is what the peer was typing.
        this.presence.peerStoppedTyping(c);
        c.peer = e.peer; // where the peer is now: it roamed, or a relayed chat went direct
        this.emit({ type: 'message', conversation: c, text: e.text });
        return;
      }
      case 'presence': {
        const c = this.open(e.session);
        if (!c) return;
        this.presence.onPresence(c, e);
        return;
      }
      case 'delivered':
      case 'failed':
        this.fates.onOutcome(e);
        return;
      case 'heartbeat_sent': {
        const c = this.open(e.session);
        if (c) this.emit({ type: 'heartbeat_sent', conversation: c });
        return;
      }
      case 'heartbeat_missed': {
        const c = this.open(e.session);
        if (c) this.emit({ type: 'heartbeat_missed', conversation: c, count: e.count });
        return;
      }
      case 'lost':
        // A waiting request that is lost has expired; an open chat's peer fell silent.
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
      // Streams carry file transfers: a FileLink on the same peer takes these events (and
      // without files, the option `streams` is off and none comes).
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

  private onRequest(e: EventOf<'request'>): void {
    this.admission.admit({
      session: e.session,
      peer: e.peer,
      nick: e.nick,
      publicKey: e.publicKey,
      fingerprint: e.fingerprint,
      trust: assessTrust(e.fingerprint, e.nick, this.trustStore.check(e.publicKey, e.nick)),
      since: this.clock(),
    });
  }

  private onAccepted(e: EventOf<'accepted'>): void {
    // Our connect may have answered a request the peer had already sent us: it is no longer waiting.
    this.requests.take(e.session);
    const conversation = this.dialler.answered(e);
    if (!conversation) return;
    conversation.session = e.session;
    conversation.peer = e.peer;
    const trust = assessTrust(e.fingerprint, e.nick, this.trustStore.check(e.publicKey, e.nick));
    const wrong = wrongKey(conversation, e, trust);
    if (wrong) {
      this.port.closeSession(e.session);
      this.end(conversation, { kind: 'wrong_key', ...wrong, got: e.fingerprint });
      return;
    }
    conversation.nick = e.nick;
    conversation.publicKey = e.publicKey;
    conversation.trust = trust;
    conversation.state = 'open';
    // Chatting with a key is trusting it from now on (trust on first use), seen here and now.
    this.trustStore.remember(e.publicKey, e.nick, e.fingerprint, { address: e.peer });
    this.emit({ type: 'opened', conversation, how: 'connected', resumes: this.ended.resumed(e.publicKey) });
    this.dialler.withdrawRequestsTo(conversation);
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
    this.emit({ type: 'opened', conversation, how, request, resumes: this.ended.resumed(request.publicKey) });
    this.dialler.withdrawRequestsTo(conversation);
    return conversation;
  }

  /** The session ended from the peer's side: a waiting request went away, or a conversation ended. */
  private onGone(
    session: SessionId,
    requestWhy: 'withdrawn' | 'expired' | 'peer_restarted',
    why: EndReason,
  ): void {
    if (this.admission.forget(session)) return;
    const request = this.requests.take(session);
    if (request) {
      this.emit({ type: 'request_gone', request, why: requestWhy });
      return;
    }
    const conversation = this.conversations.find((c) => c.state !== 'ended' && c.session === session);
    if (conversation) this.end(conversation, why);
  }

  private end(conversation: Conversation, why: EndReason): void {
    conversation.state = 'ended';
    conversation.ended = why;
    this.conversations.splice(this.conversations.indexOf(conversation), 1);
    this.ended.ended(conversation);
    this.presence.ended(conversation);
    const unsettled = this.fates.ended(conversation);
    this.emit({ type: 'ended', conversation });
    for (const message of unsettled) this.emit({ type: 'not_delivered', message });
    // A request from this peer held while its old chat was probed may come in now.
    this.admission.chatEnded(conversation.publicKey);
  }

  private add(
    direction: Conversation['direction'],
    target: PeerSpec | Address,
    expected?: Conversation['expected'],
  ): Conversation {
    const conversation = newConversation(this.nextConversationId++, direction, target, expected);
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
}

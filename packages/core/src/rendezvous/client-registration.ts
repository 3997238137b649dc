/**
 * A client's session with its rendezvous, and its registration on it: the session is opened
 * (again after a back-off when it ends), `register` goes when the rendezvous accepts it and is
 * resent every second (keeping its request number) until answered, and the session is doubted
 * when an answer is missing.
 *
 * Doubt is cheap and quick: a request unanswered for a second, or a heartbeat after which
 * nothing came back for HEARTBEAT_ANSWER_MS, makes the client probe the session (a heartbeat
 * that must be answered within two RTOs, as a key seen from a new address is probed). A
 * rendezvous that restarted has lost our channel and answers nothing on it, so the session is
 * lost within a second or two and a new one registers us again.
 */
import type { Address } from '../address.js';
import type { NetchatEvent, SessionId } from '../events.js';
import type { ClientTimers } from './client-timers.js';
import type { EndpointHost } from './extension.js';
import { REQUEST_RETRY_MS } from './introductions.js';
import {
  type AcceptFrom,
  addressFromWire,
  encodeRendezvous,
  KEY_BYTES,
  MAX_LISTED_KEYS,
  type Registered,
  type RegisterFailed,
  type RelayRate,
} from './messages.js';

/**
 * Back-off before a new session when the one with the rendezvous ended: doubling up to the max,
 * and back to the first once a session lasted RECONNECT_MAX_MS. Not at once when one is accepted:
 * a rendezvous that accepted us and ended the session at once, again and again, had us open a
 * new one (a handshake, a registration, two lines to the person) every second (230 lines in 2
 * minutes: test/rendezvous-hostile-registration.test.ts).
 */
export const RECONNECT_INITIAL_MS = 1_000;
export const RECONNECT_MAX_MS = 30_000;
/** After `register_failed` (`full`), the next try. */
export const REGISTER_REFUSED_RETRY_MS = 30_000;
/** A session with the rendezvous is probed at most this often for want of an answer. */
export const PROBE_EVERY_MS = 5_000;
/**
 * After each heartbeat to the rendezvous (answered at once by an `ack`), anything from it must
 * arrive within this long, or the session is probed: a rendezvous that restarted (and lost our
 * channel) is found out at our next heartbeat, not after the miss limit.
 */
export const HEARTBEAT_ANSWER_MS = 2_000;

export interface RegistrationTerms {
  server: Address;
  acceptFrom: AcceptFrom;
  listedKeys: readonly Uint8Array[];
}

/** What happens to the registration, for the client to act on. */
export interface RegistrationListener {
  /** Registered (again): our relay tag and key, where the rendezvous sees us, and whether it is news. */
  registered(
    given: { tag: number; key: Uint8Array; publicAddress: Address; first: boolean },
    now: number,
  ): void;
  /** The rendezvous does not hold our registration (any more). */
  forgotten(): void;
  /** The rendezvous refused to register us. */
  refused(reason: RegisterFailed['reason'], retryIn: number): void;
  /** The rendezvous told its relay budget (bytes a second, outer bytes; 0: no relay). */
  relayRate(bytesPerSecond: number): void;
  /** The session ended; a new one in `retryIn` ms. */
  ended(retryIn: number, wasRegistered: boolean, announce: boolean): void;
}

export class ClientRegistration {
  /** Probes of our session for want of an answer, and registrations made again when told we are unknown. */
  probes = 0;
  reregistrations = 0;
  private session: SessionId | undefined;
  private channelId: number | undefined;
  private registered = false;
  /** When the rendezvous last registered us anew (not a refresh of a registration it held). */
  private registeredAt: number | undefined;
  private publicAddress: Address | undefined;
  /** The request number of the registration under way: its resends keep it. */
  private request: number | undefined;
  private sent = 0;
  private reconnectGap = RECONNECT_INITIAL_MS;
  /** When the rendezvous accepted our session (undefined: not accepted, or ended). */
  private acceptedAt: number | undefined;
  private probedAt: number | undefined;
  /** When the oldest heartbeat to the rendezvous still awaiting an answer went out. */
  private heartbeatAt: number | undefined;
  /** The relay budget the rendezvous told on this session; undefined until told. */
  private relayRate: number | undefined;

  constructor(
    private readonly host: EndpointHost,
    private readonly timers: ClientTimers,
    private readonly terms: RegistrationTerms,
    private readonly nextRequest: () => number,
    private readonly listener: RegistrationListener,
  ) {}

  get isRegistered(): boolean {
    return this.registered;
  }

  /** Whether we are registered, and were registered anew less than `ms` ago. */
  registeredWithin(ms: number, now: number): boolean {
    return this.registered && this.registeredAt !== undefined && now - this.registeredAt < ms;
  }

  /** The channel of our open session with the rendezvous, if any. */
  get channel(): number | undefined {
    return this.channelId;
  }

  get observedAddress(): Address | undefined {
    return this.publicAddress;
  }

  /** Opens the session with the rendezvous; registration follows when it is accepted. */
  start(now: number): void {
    this.session = this.host.connect(this.terms.server, now);
  }

  /** An event of our session with the rendezvous. */
  onEvent(event: NetchatEvent, now: number): void {
    if (event.session !== this.session) return;
    if (event.type === 'heartbeat_sent') {
      // The oldest unanswered heartbeat counts: later ones (probes after a miss come every I/8)
      // must not push its deadline on.
      if (this.timers.get('answer') !== undefined) return;
      this.heartbeatAt = now;
      this.timers.set('answer', now + HEARTBEAT_ANSWER_MS);
    } else if (event.type === 'accepted') {
      this.channelId = this.host.channelOf(event.session)?.id;
      this.acceptedAt = now;
      this.register(now, true);
    } else if (
      event.type === 'declined' ||
      event.type === 'no_answer' ||
      event.type === 'lost' ||
      event.type === 'closed'
    ) {
      this.ended(now);
    }
  }

  /** Sends `register`: a new registration (`fresh`, a new request number) or a resend of the one under way. */
  register(now: number, fresh = false): void {
    if (this.channelId === undefined) return;
    if (fresh || this.request === undefined) {
      this.request = this.nextRequest();
      this.sent = 0;
    } else if (this.sent > 0) {
      this.doubt(now); // a second unanswered: is the rendezvous still there?
    }
    const keys = this.terms.listedKeys.slice(0, MAX_LISTED_KEYS);
    const joined = new Uint8Array(keys.length * KEY_BYTES);
    keys.forEach((key, i) => {
      joined.set(key, i * KEY_BYTES);
    });
    const bytes = encodeRendezvous({
      type: 'register',
      request: this.request,
      acceptFrom: this.terms.acceptFrom,
      keys: joined,
    });
    this.sent++;
    if (this.host.sendControl(this.channelId, bytes, now))
      this.timers.set('register', now + REQUEST_RETRY_MS);
    // The relay budget, asked with every register until told (a rendezvous that predates the
    // question drops it, counted, and our relayed paths go unpaced, as before).
    if (this.relayRate === undefined)
      this.host.sendControl(
        this.channelId,
        encodeRendezvous({ type: 'relay_rate_request', request: this.request }),
        now,
      );
  }

  /** The rendezvous told its relay budget (bytes a second; 0: no relay). */
  onRelayRate(message: RelayRate): void {
    this.relayRate = message.bytesPerSecond;
    this.listener.relayRate(message.bytesPerSecond);
  }

  onRegistered(message: Registered, now: number): void {
    if (message.request !== this.request) return; // a late copy, or an older registration's
    this.request = undefined;
    this.timers.set('register', undefined);
    this.publicAddress = addressFromWire(message.ip, message.port);
    const first = !this.registered;
    if (first) this.registeredAt = now;
    this.registered = true;
    this.listener.registered(
      { tag: message.tag, key: Uint8Array.from(message.relayKey), publicAddress: this.publicAddress, first },
      now,
    );
  }

  onRegisterFailed(message: RegisterFailed, now: number): void {
    if (message.request !== this.request) return;
    this.request = undefined;
    this.forget();
    this.timers.set('register', now + REGISTER_REFUSED_RETRY_MS);
    this.listener.refused(message.reason, REGISTER_REFUSED_RETRY_MS);
  }

  /** The rendezvous says it does not know us (it restarted, or forgot us): register again now. */
  onUnknown(now: number): void {
    if (this.request !== undefined) return; // registering again already
    this.reregistrations++;
    this.forget();
    this.register(now, true);
  }

  /** Nothing came back since our oldest unanswered heartbeat: doubt the session. */
  answerDue(now: number): void {
    const heard = this.channelId === undefined ? undefined : this.host.lastHeard(this.channelId);
    if (this.heartbeatAt !== undefined && (heard === undefined || heard < this.heartbeatAt)) this.doubt(now);
  }

  /** A request of ours went unanswered: probe the session (at most every PROBE_EVERY_MS). */
  doubt(now: number): void {
    if (this.session === undefined) return;
    if (this.probedAt !== undefined && now - this.probedAt < PROBE_EVERY_MS) return;
    this.probedAt = now;
    this.probes++;
    this.host.probe(this.session, now);
  }

  private forget(): void {
    this.registered = false;
    this.listener.forgotten();
  }

  private ended(now: number): void {
    const wasRegistered = this.registered;
    // A session that lasted starts the back-off over; one ended soon after it opened does not.
    if (this.acceptedAt !== undefined && now - this.acceptedAt >= RECONNECT_MAX_MS)
      this.reconnectGap = RECONNECT_INITIAL_MS;
    this.acceptedAt = undefined;
    this.session = undefined;
    this.channelId = undefined;
    this.request = undefined;
    this.probedAt = undefined;
    this.heartbeatAt = undefined;
    this.relayRate = undefined;
    this.forget();
    this.timers.set('register', undefined);
    this.timers.set('answer', undefined);
    this.timers.set('reconnect', now + this.reconnectGap);
    // Told once while it keeps failing: when it was registered, or at the first failure.
    this.listener.ended(
      this.reconnectGap,
      wasRegistered,
      wasRegistered || this.reconnectGap === RECONNECT_INITIAL_MS,
    );
    this.reconnectGap = Math.min(RECONNECT_MAX_MS, this.reconnectGap * 2);
  }
}

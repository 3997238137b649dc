/**
 * A client's introductions: the `introduce` requests it is waiting on (resent every second,
 * failed after five), and the introductions it will act on at the moment the rendezvous named.
 *
 * The rendezvous is trusted with nothing it can abuse: an introduction is acted on only if the
 * client asked for it (a `requester` one answers a request of ours, and names the key we asked
 * for) or accepts it (an `introduced` one names a key our `introductions` setting accepts), only
 * if it names an address a datagram can go to, and punches go out at a bounded rate. Whatever
 * a hostile rendezvous sends, it cannot make a client send handshakes to arbitrary addresses
 * faster than PUNCH_RATE, or to addresses no socket can reach.
 */
import { isIP } from 'node:net';
import type { Address } from '../address.js';
import { equalBytes, fingerprint, toHex } from '../secure/crypto.js';
import { TokenBuckets } from '../token-buckets.js';
import { fingerprintBytes } from './fingerprint.js';
import { type AcceptFrom, addressFromWire, type Introduction } from './messages.js';

/** Gaps between resent requests (register, introduce) while unanswered (ms). */
export const REQUEST_RETRY_MS = 1_000;
/** An introduction not answered by then fails. */
export const INTRODUCE_TIMEOUT_MS = 5_000;
/**
 * Within this long of our registration an `unavailable` answer is asked again each second, until
 * the request's timeout: a rendezvous that just started (or restarted) knows only who has
 * registered so far, and the peer asked for may be a second or two behind us (lab: 3.5 to 4.9 s
 * after a restart, and more when both waited for a rendezvous not yet up). A `rate_limited` one
 * too: the rendezvous reads 5 requests a second from one host, and users behind one address who
 * all ask again each second spend it (4 users a moment ahead of their friends: 2 refused for
 * good; 8: all 8), while one asked again a second later is read when its turn comes.
 */
export const FRESH_REGISTRATION_MS = 10_000;
/** Introductions others asked for, kept scheduled at most. */
export const MAX_SCHEDULED_PUNCHES = 16;
/** Punches a second, and the burst: an introduced peer punches once per introduction. */
export const PUNCH_RATE = { perSecond: 1, burst: 4 } as const;

/** Why an introduction is not acted on (counted by the client; a requester's is reported too). */
export type IgnoredBecause =
  | 'unasked' // a requester introduction, or a `not_registered`, for no request of ours waiting (or a copy)
  | 'wrong_key' // it names a key whose fingerprint is not the one we asked for
  | 'not_accepted' // an introduced one from a key our setting does not accept
  | 'bad_address' // an address no datagram can go to (port 0, unspecified, multicast, broadcast, wrong IP version)
  | 'punch_rate'; // past the punch rate, or too many scheduled

export interface PendingRequest {
  readonly request: number;
  readonly fingerprint: Uint8Array;
  readonly bytes: Uint8Array;
  readonly deadline: number;
  resendAt: number;
  /** Resent at least once: no answer came in a second. */
  resent: boolean;
  /** Answered so (the latest) and asked again: it fails so at its timeout, not as unanswered. */
  refused: 'unavailable' | 'rate_limited' | undefined;
  /** The resend due is one we chose (after `refused`), not one for want of an answer. */
  askingAgain: boolean;
  /**
   * `not_registered` came for it since its last timed resend: we register again at most once a
   * REQUEST_RETRY_MS for it, not for every copy a hostile rendezvous repeats, nor again for the
   * send that follows our new registration (that loop registered 32 times in 5 s:
   * test/rendezvous-hostile-registration.test.ts).
   */
  toldUnregistered: boolean;
}

export interface IntroductionTerms {
  acceptFrom: AcceptFrom;
  listedKeys: readonly Uint8Array[];
  /** Whether our socket can send to an address at all (its IP version); everything, if not given. */
  canReach?: (address: Address) => boolean;
}

interface ScheduledStart {
  readonly at: number;
  readonly introduction: Introduction;
  readonly address: Address;
}

export class Introductions {
  private readonly pending = new Map<number, PendingRequest>();
  private starts: ScheduledStart[] = [];
  private listed = new Set<string>();
  private readonly punches = new TokenBuckets(PUNCH_RATE.perSecond, PUNCH_RATE.burst, 1);

  constructor(private terms: IntroductionTerms) {
    this.accept(terms);
  }

  /** New terms (the `introductions` setting changed). */
  accept(terms: IntroductionTerms): void {
    this.terms = terms;
    this.listed = new Set(terms.listedKeys.map(toHex));
  }

  /** Whether our terms accept introductions to the peer with this key (anyone, or a key we listed). */
  accepts(key: Uint8Array): boolean {
    return this.terms.acceptFrom === 'anyone' || this.listed.has(toHex(key));
  }

  get waiting(): number {
    return this.pending.size;
  }

  /** Waits for the answer to an introduce request just sent. */
  ask(request: number, wanted: Uint8Array, bytes: Uint8Array, now: number): void {
    this.pending.set(request, {
      request,
      fingerprint: wanted,
      bytes,
      deadline: now + INTRODUCE_TIMEOUT_MS,
      resendAt: now + REQUEST_RETRY_MS,
      resent: false,
      refused: undefined,
      askingAgain: false,
      toldUnregistered: false,
    });
  }

  /**
   * `not_registered` came for a request: true if it is one of ours, waiting, and the first such
   * answer since its last timed resend (register again); false for a request never made, or a copy.
   */
  toldUnregistered(request: number): boolean {
    const pending = this.pending.get(request);
    if (!pending || pending.toldUnregistered) return false;
    pending.toldUnregistered = true;
    return true;
  }

  /**
   * `unavailable` or `rate_limited` came for a request: asks again in a second if it still has that
   * long before its timeout (true), else leaves it to be settled now (false).
   */
  askAgain(request: number, reason: 'unavailable' | 'rate_limited', now: number): boolean {
    const pending = this.pending.get(request);
    if (!pending || now + REQUEST_RETRY_MS >= pending.deadline) return false;
    pending.refused = reason;
    pending.askingAgain = true;
    pending.resendAt = now + REQUEST_RETRY_MS;
    return true;
  }

  /** An answer came: the request, if it was still waiting. */
  answered(request: number): PendingRequest | undefined {
    const pending = this.pending.get(request);
    this.pending.delete(request);
    return pending;
  }

  /** Every request still waiting (to send again once registered again). */
  waitingRequests(): PendingRequest[] {
    return [...this.pending.values()];
  }

  /**
   * Requests past their timeout (forgotten now), and those due for a resend (rescheduled);
   * `unanswered`: some resend is for want of an answer (not one asked again after a refusal).
   */
  due(now: number): { expired: PendingRequest[]; resend: PendingRequest[]; unanswered: boolean } {
    const expired: PendingRequest[] = [];
    const resend: PendingRequest[] = [];
    let unanswered = false;
    for (const pending of this.pending.values()) {
      if (now >= pending.deadline) {
        this.pending.delete(pending.request);
        expired.push(pending);
      } else if (now >= pending.resendAt) {
        pending.resendAt = now + REQUEST_RETRY_MS;
        pending.resent = true;
        if (!pending.askingAgain) unanswered = true;
        pending.askingAgain = false;
        pending.toldUnregistered = false;
        resend.push(pending);
      }
    }
    return { expired, resend, unanswered };
  }

  nextRequestDeadline(): number | undefined {
    let next: number | undefined;
    for (const p of this.pending.values()) {
      const at = Math.min(p.deadline, p.resendAt);
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  /**
   * An introduction from our rendezvous: scheduled for its moment, or why it is ignored. For a
   * `requester` one the request it answers is settled either way.
   */
  onIntroduction(message: Introduction, now: number): IgnoredBecause | undefined {
    const address = addressFromWire(message.ip, message.port);
    if (message.role === 'requester') {
      const pending = this.answered(message.request);
      if (!pending) return 'unasked';
      // The rendezvous named the key; the handshake will prove it. A key that does not match the
      // fingerprint asked for means a lying rendezvous: no connect.
      const named = fingerprintBytes(fingerprint(message.key));
      if (!named || !equalBytes(named, pending.fingerprint)) return 'wrong_key';
      if (!this.usable(address)) return 'bad_address';
    } else {
      if (!this.accepts(message.key)) return 'not_accepted';
      if (!this.usable(address)) return 'bad_address';
      if (this.starts.length >= MAX_SCHEDULED_PUNCHES || !this.punches.tryTake('punch', now))
        return 'punch_rate';
    }
    this.starts.push({ at: now + message.startIn, introduction: message, address });
    return undefined;
  }

  /** The introductions whose moment came, taken out of the schedule. */
  takeDueStarts(now: number): { introduction: Introduction; address: Address }[] {
    const due = this.starts.filter((s) => s.at <= now);
    if (due.length > 0) this.starts = this.starts.filter((s) => s.at > now);
    return due;
  }

  nextStart(): number | undefined {
    let next: number | undefined;
    for (const s of this.starts) if (next === undefined || s.at < next) next = s.at;
    return next;
  }

  private usable(address: Address): boolean {
    return usableAddress(address) && (this.terms.canReach?.(address) ?? true);
  }
}

/**
 * Whether a datagram can be sent to `address` at all: a port other than 0, and an IP address
 * that names one host (not unspecified, multicast, broadcast or reserved).
 */
export function usableAddress(address: Address): boolean {
  if (!Number.isInteger(address.port) || address.port < 1 || address.port > 65_535) return false;
  const host = address.host;
  if (isIP(host) === 4) {
    const first = Number(host.split('.')[0]);
    // 0.0.0.0/8 "this network", 224/4 multicast, 240/4 reserved (255.255.255.255 broadcast in it).
    return first !== 0 && first < 224;
  }
  if (isIP(host) === 6) {
    const lower = host.toLowerCase();
    // :: unspecified, ff00::/8 multicast.
    return lower !== '::' && !lower.startsWith('ff');
  }
  return false;
}

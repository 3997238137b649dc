/**
 * Finding a peer again (PROTOCOL.md, *Finding a peer again*): when a chat's peer falls silent, its
 * NAT may have mapped it anew, and behind our own NAT, which lets in only what we sent to, nothing
 * from its new address reaches us. The rendezvous knows where it is now (the peer's heartbeats
 * move its registration there). So the client asks to be introduced to that peer again, at most
 * once per REFIND_EVERY_MS per peer and within REFIND_RATE in all, and keeps to itself the
 * answers to those requests: the application asked for nothing. A refind the budget refuses
 * waits its turn (one per peer, oldest first), so chats that keep falling silent cannot take the
 * whole budget and starve another chat's refind (a friend who moved), each silence asking once.
 */
import { toHex } from '../secure/crypto.js';
import { TokenBuckets } from '../token-buckets.js';

/** The least time between two requests for the same silent peer (ms): a miss is counted once an interval. */
export const REFIND_EVERY_MS = 1_000;
/**
 * Refinds in all: 2 a second, in bursts of 4. A stranger who opens many sessions and falls silent
 * on all of them gets no more out of us, well under what a netchat rendezvous reads from one host
 * (5 a second, bursts of 10), so our own user's requests are not refused for it.
 */
export const REFIND_RATE = { perSecond: 2, burst: 4 } as const;
/** Peers waiting for their turn at most (a chat's each: the session limit bounds them; the oldest is dropped). */
export const MAX_WAITING_REFINDS = 256;

export class Refinds {
  /** When we last asked for each peer (its static key, hex); forgotten once REFIND_EVERY_MS old. */
  private readonly lastAsked = new Map<string, number>();
  private readonly budget = new TokenBuckets(REFIND_RATE.perSecond, REFIND_RATE.burst, 1);
  /** Our outstanding requests that are refinds. */
  private readonly requests = new Set<number>();
  /** Peers refused by the budget, by key (hex), to the channel of their chat; the Map's order is their turn. */
  private readonly waiting = new Map<string, number>();
  /** When the next token comes for the peers waiting. */
  private retryAt: number | undefined;

  /**
   * Whether to ask now for the peer with `key`, whose chat is on `channel`; if so, it counts as
   * asked. Refused by the budget, or with other peers waiting before it, it waits its turn (`due`).
   */
  shouldAsk(key: Uint8Array, channel: number, now: number): boolean {
    this.forgetAsked(now);
    const hex = toHex(key);
    if (this.lastAsked.has(hex) || this.waiting.has(hex)) return false;
    if (this.waiting.size === 0 && this.budget.tryTake('all', now)) {
      this.lastAsked.set(hex, now);
      return true;
    }
    if (this.waiting.size >= MAX_WAITING_REFINDS)
      this.waiting.delete(this.waiting.keys().next().value as string);
    this.waiting.set(hex, channel);
    this.retryAt ??= now + 1_000 / REFIND_RATE.perSecond;
    return false;
  }

  /**
   * The waiting peers whose turn came, oldest first, as the budget gives tokens: `ask` asks for
   * each (by its chat's channel). A chat `open` no longer has is dropped without a token.
   */
  due(now: number, open: (channel: number) => boolean, ask: (channel: number) => void): void {
    this.retryAt = undefined;
    this.forgetAsked(now);
    for (const [hex, channel] of this.waiting) {
      if (!open(channel)) {
        this.waiting.delete(hex);
        continue;
      }
      if (!this.budget.tryTake('all', now)) break;
      this.waiting.delete(hex);
      this.lastAsked.set(hex, now);
      ask(channel);
    }
    if (this.waiting.size > 0) this.retryAt = now + 1_000 / REFIND_RATE.perSecond;
  }

  /** When `due` should run next: a token for the peers waiting. */
  next(): number | undefined {
    return this.retryAt;
  }

  /** Peers waiting their turn (bounded by MAX_WAITING_REFINDS). */
  get waitingCount(): number {
    return this.waiting.size;
  }

  /** The introduce request made for a silent peer. */
  asked(request: number): void {
    this.requests.add(request);
  }

  /** Whether `request` is a refind still waiting for its answer. */
  has(request: number): boolean {
    return this.requests.has(request);
  }

  /** Whether `request` was a refind (answered now: it is forgotten). */
  settle(request: number): boolean {
    return this.requests.delete(request);
  }

  private forgetAsked(now: number): void {
    for (const [peer, at] of this.lastAsked) if (now - at >= REFIND_EVERY_MS) this.lastAsked.delete(peer);
  }
}

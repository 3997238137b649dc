/**
 * Finding a peer again (PROTOCOL.md, *Finding a peer again*): when a chat's peer falls silent, its
 * NAT may have mapped it anew, and behind our own NAT, which lets in only what we sent to, nothing
 * from its new address reaches us. The rendezvous knows where it is now (the peer's heartbeats
 * move its registration there). So the client asks to be introduced to that peer again, at most
 * once per REFIND_EVERY_MS per peer and within REFIND_RATE in all, and keeps to itself the
 * answers to those requests: the application asked for nothing.
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

export class Refinds {
  /** When we last asked for each peer (its static key, hex); forgotten once REFIND_EVERY_MS old. */
  private readonly lastAsked = new Map<string, number>();
  private readonly budget = new TokenBuckets(REFIND_RATE.perSecond, REFIND_RATE.burst, 1);
  /** Our outstanding requests that are refinds. */
  private readonly requests = new Set<number>();

  /** Whether to ask for the peer with `key` now; if so, it counts as asked. */
  shouldAsk(key: Uint8Array, now: number): boolean {
    for (const [peer, at] of this.lastAsked) if (now - at >= REFIND_EVERY_MS) this.lastAsked.delete(peer);
    const hex = toHex(key);
    if (this.lastAsked.has(hex) || !this.budget.tryTake('all', now)) return false;
    this.lastAsked.set(hex, now);
    return true;
  }

  /** The introduce request made for a silent peer. */
  asked(request: number): void {
    this.requests.add(request);
  }

  /** Whether `request` was a refind (answered now: it is forgotten). */
  settle(request: number): boolean {
    return this.requests.delete(request);
  }
}

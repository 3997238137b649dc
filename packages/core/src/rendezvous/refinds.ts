/**
 * Finding a peer again (PROTOCOL.md, *Finding a peer again*): when a chat's peer falls silent, its
 * NAT may have mapped it anew, and behind our own NAT, which lets in only what we sent to, nothing
 * from its new address reaches us. The rendezvous knows where it is now (the peer's heartbeats
 * move its registration there). So the client asks to be introduced to that peer again, at most
 * once per REFIND_EVERY_MS per peer and for at most MAX_REFINDING peers in any REFIND_WINDOW_MS,
 * and keeps to itself the answers to those requests: the application asked for nothing.
 */
import { toHex } from '../secure/crypto.js';

/** The least time between two requests for the same silent peer (ms): a miss is counted once an interval. */
export const REFIND_EVERY_MS = 1_000;
/**
 * Peers asked for in any REFIND_WINDOW_MS, at most: a stranger who opens many sessions and falls
 * silent on all of them gets 16 requests in 5 s out of us (3.2 a second), under what a netchat
 * rendezvous reads from one host (5 a second), so our own user's requests are not refused for it.
 */
export const MAX_REFINDING = 16;
export const REFIND_WINDOW_MS = 5_000;

export class Refinds {
  /** When we last asked for each peer (its static key, hex), asked within the window only. */
  private readonly lastAsked = new Map<string, number>();
  /** When each request of the window went, oldest first. */
  private readonly askedAt: number[] = [];
  /** Our outstanding requests that are refinds. */
  private readonly requests = new Set<number>();

  /** Whether to ask for the peer with `key` now; if so, it counts as asked. */
  shouldAsk(key: Uint8Array, now: number): boolean {
    while (this.askedAt.length > 0 && now - (this.askedAt[0] as number) >= REFIND_WINDOW_MS)
      this.askedAt.shift();
    for (const [peer, at] of this.lastAsked) if (now - at >= REFIND_WINDOW_MS) this.lastAsked.delete(peer);
    const hex = toHex(key);
    const last = this.lastAsked.get(hex);
    if (last !== undefined && now - last < REFIND_EVERY_MS) return false;
    if (this.askedAt.length >= MAX_REFINDING) return false;
    this.lastAsked.set(hex, now);
    this.askedAt.push(now);
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

/**
 * An open chat that loses its path goes on through the relay (PROTOCOL.md, *Relay*: falling back
 * to the relay, re-pairing): when an introduction names a peer we chat with, with a relay tag, its
 * relayed address is tested on the chat's own channel, with a path challenge. Only the peer's
 * answer, through the relay, moves the channel (secure/'s path validation, as roaming moves it),
 * so a rendezvous cannot steer a chat anywhere its peer does not answer.
 *
 * - A chat on a relayed address whose peer now has another relay tag (the peer, or the rendezvous,
 *   registered anew: the old tag's pair is gone) is challenged at its new relayed address at once.
 * - A chat on a direct address is given RELAY_FALLBACK_MS to find its peer directly (the refind's
 *   own challenge to the address named): only if the chat is still silent then (a heartbeat
 *   interval missed, and nothing heard since the introduction was acted on) does the challenge
 *   go to the relayed address. An idle chat that hears nothing because nothing is said never
 *   moves, whatever a rendezvous sends.
 *
 * At most MAX_FALLBACKS are waiting (the oldest is dropped), one per channel.
 */
import { type Address, sameAddress } from '../address.js';
import type { EndpointHost } from './extension.js';
import { RELAY_HOST } from './relay.js';

/** How long a silent direct chat is given to be found directly before the relay is tried (ms). */
export const RELAY_FALLBACK_MS = 1_000;
/** Fallbacks waiting at most (one per channel; the oldest goes first). */
export const MAX_FALLBACKS = 16;

interface Fallback {
  readonly channel: number;
  readonly relayed: Address;
  readonly at: number;
  /** When the channel last heard its peer as the fallback was planned: anything later cancels it. */
  readonly heard: number | undefined;
}

export interface RelayFallbackStats {
  /** Silent direct chats whose relayed address was challenged. */
  relayFallbacks: number;
  /** Relayed chats challenged at their peer's new relayed address (a new registration's tag). */
  relayRepairs: number;
}

export class RelayFallback {
  readonly stats: RelayFallbackStats = { relayFallbacks: 0, relayRepairs: 0 };
  private waiting: Fallback[] = [];

  constructor(private readonly host: EndpointHost) {}

  /** An introduction named the peer of the open chat on `channel`, reachable through the relay at `relayed`. */
  offer(channel: number, current: Address, relayed: Address, now: number): void {
    if (current.host === RELAY_HOST) {
      if (!sameAddress(current, relayed) && this.host.probeAt(channel, relayed, now))
        this.stats.relayRepairs++;
      return;
    }
    // Asked again (a refind each missed interval): the first plan's time stands, never put off.
    const planned = this.waiting.find((f) => f.channel === channel);
    this.waiting = this.waiting.filter((f) => f !== planned);
    const at = planned?.at ?? now + RELAY_FALLBACK_MS;
    this.waiting.push({
      channel,
      relayed,
      at,
      heard: planned ? planned.heard : this.host.lastHeard(channel),
    });
    if (this.waiting.length > MAX_FALLBACKS) this.waiting.shift();
  }

  /** The fallbacks whose time came: each chat still silent on a direct address tries the relay. */
  due(now: number): void {
    const due = this.waiting.filter((f) => f.at <= now);
    if (due.length === 0) return;
    this.waiting = this.waiting.filter((f) => f.at > now);
    for (const fallback of due) {
      const channel = this.host.openChannel(fallback.channel);
      if (!channel || channel.address.host === RELAY_HOST) continue;
      if (this.host.lastHeard(fallback.channel) !== fallback.heard || !this.host.chatSilent(fallback.channel))
        continue;
      if (this.host.probeAt(fallback.channel, fallback.relayed, now)) this.stats.relayFallbacks++;
    }
  }

  next(): number | undefined {
    let next: number | undefined;
    for (const f of this.waiting) if (next === undefined || f.at < next) next = f.at;
    return next;
  }

  get size(): number {
    return this.waiting.length;
  }
}

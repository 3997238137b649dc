/**
 * A relayed chat someone else asked for is claimed (PROTOCOL.md, *Relay*: pairs). The rendezvous
 * keeps a client's own relay pairs in a full share, but a pair the client did not ask for gives
 * way to a newer introduction once 30 s old (relay-pairs.ts, tenure): without a claim, strangers
 * who ask for a client that takes introductions from anyone, and relay a packet each, took the
 * pair of a chat its user had accepted, in use, and the chat stalled until its silence was
 * noticed and it asked again (38 s with the default heartbeats). So once our application has
 * accepted a relayed chat whose pair we did not ask for, we ask for its peer ourselves: the same
 * pair, refreshed, now ours.
 *
 * Only while such chats can appear: for CLAIM_FOR_MS after an introduction of someone asking for
 * us with a relay tag, the chats are looked over every CLAIM_EVERY_MS (well inside the tenure).
 */
import { type Address, formatAddress } from '../address.js';
import type { ChannelView, EndpointHost } from './extension.js';
import { RELAY_HOST } from './relay.js';

/** How often relayed chats are looked over for one to claim (ms). */
export const CLAIM_EVERY_MS = 5_000;
/** For how long after someone asked for us with a relay tag (ms). */
export const CLAIM_FOR_MS = 60_000;

export class RelayClaims {
  /** The relayed addresses (peers' relayed addresses) of pairs we asked for. */
  private readonly ours = new Set<string>();
  private until: number | undefined;
  private nextAt: number | undefined;

  constructor(private readonly host: EndpointHost) {}

  /** An introduction with a relay tag: ours (we asked) makes the pair ours; another's starts the look-overs. */
  introduced(requester: boolean, relayed: Address, now: number): void {
    if (requester) {
      this.ours.add(formatAddress(relayed));
      return;
    }
    this.until = now + CLAIM_FOR_MS;
    this.nextAt ??= now + CLAIM_EVERY_MS;
  }

  /**
   * The accepted relayed chats whose pair is not ours yet (`ask` asks for each peer, and says
   * whether it did: within the refind rate, else the next look-over tries again). Addresses of
   * chats gone are forgotten here, so the set holds at most one per chat.
   */
  due(now: number, ask: (chat: ChannelView) => boolean): void {
    if (this.nextAt === undefined || now < this.nextAt) return;
    const chats = this.host.chatChannels().filter((c) => c.address.host === RELAY_HOST);
    const current = new Set(chats.map((c) => formatAddress(c.address)));
    for (const address of this.ours) if (!current.has(address)) this.ours.delete(address);
    for (const chat of chats) {
      const address = formatAddress(chat.address);
      if (this.ours.has(address) || !this.host.admitted(chat.id)) continue;
      if (ask(chat)) this.ours.add(address);
    }
    this.nextAt = this.until !== undefined && now < this.until ? now + CLAIM_EVERY_MS : undefined;
  }

  next(): number | undefined {
    return this.nextAt;
  }
}

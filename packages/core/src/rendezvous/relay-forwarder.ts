/**
 * The rendezvous's relay: forwards a client's relay packet to the peer it was introduced to.
 *
 * A packet is forwarded only if, in this order (cheapest first, so a flood of forgeries costs
 * little): it decodes; its `from` names a registration; its counter is new for that
 * registration and its MAC is valid under that registration's relay key (so it is the
 * registered client's, whatever address it came from); its `to` names a registration paired
 * with the sender; both still have an open session with us; its inner packet is a netchat
 * packet (handshake or data); and both the sender's sending budget and the receiver's
 * receiving budget hold its bytes. Budgets belong to registrations, not to pairs: however often
 * or with however many peers a client is introduced, it sends and receives at most
 * `bytesPerSecond` through the relay (no N² amplification).
 *
 * The forwarded packet is the same inner packet under the receiver's tag, counter and key: the
 * same size, sent to the receiver's proven address. Nothing is ever answered.
 */
import { ReplayWindow } from '../secure/replay-window.js';
import type { EndpointHost } from './extension.js';
import type { Registration, RegistrationTable } from './registration-table.js';
import type { RelayPairs } from './relay-pairs.js';
import { authentic, decodeRelay, isNetchatPacket, looksLikeRelay, sealRelay } from './relay.js';

export interface RelayBudget {
  /** Bytes a second one client may send through the relay, and as many it may receive; 0: no relay. */
  bytesPerSecond: number;
  /** The most a budget holds (a burst), in bytes. */
  burstBytes: number;
}

export interface RelayStats {
  /** Packets (and their bytes, as forwarded) relayed between introduced pairs. */
  relayed: number;
  relayedBytes: number;
  /** Relay packets dropped, in all; then by why. */
  relayDropped: number;
  /** Not decodable, or an inner packet that is not a netchat handshake or data packet. */
  relayMalformed: number;
  /** A bad MAC or a counter seen before: not from the registered client (forged, or a copy). */
  relayForged: number;
  /** From or to no registration, or between clients not introduced (or no longer allowed). */
  relayUnpaired: number;
  /** Over the sender's or the receiver's budget. */
  relayOverBudget: number;
}

/** Counters are u32 and never wrap. */
const MAX_COUNTER = 0xffff_ffff;

/** What the relay keeps per registration, made when it first relays: budgets, counters. */
interface Account {
  sendTokens: number;
  receiveTokens: number;
  updatedAt: number;
  /** Counters of the client's packets seen (replays are dropped). */
  readonly received: ReplayWindow;
  /** The counter of our next packet to the client. */
  sent: number;
}

export class RelayForwarder {
  readonly stats: RelayStats = {
    relayed: 0,
    relayedBytes: 0,
    relayDropped: 0,
    relayMalformed: 0,
    relayForged: 0,
    relayUnpaired: 0,
    relayOverBudget: 0,
  };
  private readonly accounts = new Map<number, Account>();

  constructor(
    private readonly host: EndpointHost,
    private readonly registrations: RegistrationTable,
    private readonly pairs: RelayPairs,
    private readonly budget: RelayBudget,
  ) {
    registrations.onRemoved((record) => this.accounts.delete(record.tag));
  }

  get enabled(): boolean {
    return this.budget.bytesPerSecond > 0;
  }

  /** Accounts held (for leak tests: never more than the registrations). */
  get size(): number {
    return this.accounts.size;
  }

  /** A datagram from the network: true if it was a relay packet (forwarded, or dropped and counted). */
  onDatagram(bytes: Uint8Array, now: number): boolean {
    if (!looksLikeRelay(bytes)) return false;
    const decoded = decodeRelay(bytes);
    if (!decoded.ok) return this.drop('relayMalformed');
    const packet = decoded.datagram;
    const sender = this.registrations.withTag(packet.from);
    if (!sender) return this.drop('relayUnpaired');
    const account = this.account(sender, now);
    if (!account.received.mayAccept(packet.counter) || !authentic(bytes, packet, sender.relayKey))
      return this.drop('relayForged');
    account.received.mark(packet.counter);
    const receiver = this.registrations.withTag(packet.to);
    const pair = receiver && this.pairs.between(sender.tag, receiver.tag);
    if (!receiver || !pair || this.pairs.expired(pair, now)) return this.drop('relayUnpaired');
    const to = this.host.openChannel(receiver.channelId);
    if (!to || !this.host.admitted(sender.channelId) || !this.host.admitted(receiver.channelId))
      return this.drop('relayUnpaired');
    if (!isNetchatPacket(packet.inner)) return this.drop('relayMalformed');
    const size = bytes.length;
    const target = this.account(receiver, now);
    if (!this.enabled || account.sendTokens < size || target.receiveTokens < size)
      return this.drop('relayOverBudget');
    if (target.sent > MAX_COUNTER) return this.drop('relayOverBudget'); // its key is spent: it registers anew
    account.sendTokens -= size;
    target.receiveTokens -= size;
    this.pairs.relayed(pair, now);
    const forwarded = sealRelay(
      { from: sender.tag, to: receiver.tag, counter: target.sent++, inner: packet.inner },
      receiver.relayKey,
    );
    this.stats.relayed++;
    this.stats.relayedBytes += forwarded.length;
    this.host.transmit(to.address, forwarded);
    return true;
  }

  /** The registration's account, its budgets refilled to `now`. */
  private account(record: Registration, now: number): Account {
    const { bytesPerSecond, burstBytes } = this.budget;
    let account = this.accounts.get(record.tag);
    if (!account) {
      account = {
        sendTokens: burstBytes,
        receiveTokens: burstBytes,
        updatedAt: now,
        received: new ReplayWindow(),
        sent: 0,
      };
      this.accounts.set(record.tag, account);
      return account;
    }
    const refill = ((now - account.updatedAt) / 1000) * bytesPerSecond;
    account.sendTokens = Math.min(burstBytes, account.sendTokens + refill);
    account.receiveTokens = Math.min(burstBytes, account.receiveTokens + refill);
    account.updatedAt = now;
    return account;
  }

  private drop(reason: Exclude<keyof RelayStats, 'relayed' | 'relayedBytes' | 'relayDropped'>): true {
    this.stats[reason]++;
    this.stats.relayDropped++;
    return true;
  }
}

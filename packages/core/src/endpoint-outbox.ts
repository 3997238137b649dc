/**
 * What an endpoint sends, in the order it goes out. Two queues: everything else first (text,
 * acknowledgements, heartbeats, handshakes, a role's packets), stream data after it, so a file
 * in flight never holds a line of chat back.
 *
 * Every packet the secure layer seals comes out through `sealed`. A peer reached through a relay
 * has a virtual address (rendezvous/relay.ts): its packet is wrapped in a relay packet to the
 * rendezvous first. While a session message is being sealed it is noted, so that its packet can
 * name it (`Transmit.message`: diagnostics and tests; the packet itself is encrypted).
 */
import type { Address } from './address.js';
import type { EndpointStats } from './endpoint-stats.js';
import type { ExtensionHost } from './extension-host.js';
import { Fifo } from './fifo.js';
import type { Channel } from './secure/channel.js';
import type { SecureTransport } from './secure/secure-transport.js';
import { type Datagram, encodeDatagram } from './wire/messages.js';

export interface Transmit {
  readonly to: Address;
  readonly data: Uint8Array;
  /**
   * The session message this packet carries, for diagnostics and tests (it is sent encrypted);
   * for stream data only with EndpointDependencies.describeStreamPackets.
   */
  readonly message?: Datagram;
}

/** What the outbox needs of the endpoint. */
export interface OutboxHost {
  readonly secure: SecureTransport;
  readonly stats: EndpointStats;
  /** The latest time any call brought (sealing needs one; sessions transmit without one). */
  now(): number;
  /** The rendezvous role, if one is in use: it wraps packets to relayed peers. */
  role(): ExtensionHost | undefined;
  /** A session message went out on a channel: it spends its path's pacer tokens too. */
  prioritySent(channelId: number, bytes: number): void;
}

export class EndpointOutbox {
  private readonly first = new Fifo<Transmit>();
  /** Stream data: sent after everything in `first` (chat first). */
  private readonly bulk = new Fifo<Transmit>();
  /** Whether what is being sealed now is stream data. */
  private sendingBulk = false;
  /** The session message being sealed now, so its packet can name it. */
  private sealing: Datagram | undefined;

  constructor(private readonly host: OutboxHost) {}

  /** The secure layer's transmit: a sealed packet, on its way out. */
  sealed(to: Address, data: Uint8Array): void {
    const role = this.host.role();
    if (role?.isVirtual(to)) {
      // A peer reached through the relay: the sealed packet goes inside a relay packet.
      const wrapped = role.wrap(to, data);
      if (!wrapped) return;
      to = wrapped.to;
      data = wrapped.data;
    }
    this.host.stats.datagramsOut++;
    (this.sendingBulk ? this.bulk : this.first).push(
      this.sealing ? { to, data, message: this.sealing } : { to, data },
    );
  }

  /** A datagram as it is (a rendezvous role's own packets): counted, sent with the first. */
  raw(to: Address, data: Uint8Array): void {
    this.host.stats.datagramsOut++;
    this.first.push({ to, data });
  }

  /** Encodes a session message and seals it on `channel`. */
  sendMessage(channel: Channel, datagram: Datagram): void {
    this.sealing = datagram;
    try {
      const plaintext = encodeDatagram(datagram);
      this.host.secure.send(channel, plaintext, this.host.now());
      this.host.prioritySent(channel.id, plaintext.length);
    } finally {
      this.sealing = undefined;
    }
  }

  /** A packet a path built (stream data when `bulk`, else its control: acknowledgements, credit). */
  sendPathPacket(
    channel: Channel,
    message: Datagram | undefined,
    plaintext: Uint8Array,
    bulk: boolean,
  ): void {
    this.sealing = message;
    this.sendingBulk = bulk;
    try {
      // A channel that is not open keeps what it is given until it is: not the path's scratch.
      this.host.secure.send(channel, channel.isOpen ? plaintext : plaintext.slice(), this.host.now());
    } finally {
      this.sealing = undefined;
      this.sendingBulk = false;
    }
  }

  /** The next datagram to send: chat, acknowledgements and control before stream data. */
  poll(): Transmit | undefined {
    return this.first.shift() ?? this.bulk.shift();
  }

  get size(): number {
    return this.first.size + this.bulk.size;
  }
}

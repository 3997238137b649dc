/**
 * The secure layer under the sessions: every datagram on the wire is a packet of protocol
 * version 2 (see PROTOCOL.md, "Packets").
 *
 * Theory of operation. To reach a peer we run a Noise XX handshake as initiator
 * (initiator.ts). A responder (responder.ts) answers an init directly with message 2, unless it
 * is under load: then the init must first come back with a cookie that proves its address
 * receives, and handshakes are limited per source host. Message 2 and 3 complete the
 * handshake; both sides then hold a Channel, and the peer's static key is verified. The
 * initiator resends message 3 until any data packet from the responder confirms it, and starts
 * over if it stays unconfirmed.
 *
 * Data packets (data-path.ts) authenticate everything: a packet that does not open under the
 * channel's key is dropped and counted; so is one whose counter was seen. An authentic packet
 * from a new address is taken, but replies keep going to the old address until the new one
 * echoes a challenge (path-validation.ts).
 *
 * This class owns the tables (one record per channel, one per half-done handshake:
 * channel-table.ts) and the timer queue, and routes packets and timers to the parts. Sans-IO
 * like the rest of core: packets in with `receive`, time in with `handleTimeout`, packets out
 * through the sink.
 */
import type { Address } from '../address.js';
import { DeadlineQueue } from '../deadline-queue.js';
import { MAGIC } from '../wire/header.js';
import {
  COOKIE_BYTES,
  decodePacket,
  encodePacket,
  HandshakeInit,
  PACKET_VERSION,
  readDataPacket,
} from '../wire/packets.js';
import type { Channel } from './channel.js';
import { type ChannelRecord, ChannelTable, type PendingHandshake, PendingTable } from './channel-table.js';
import type { SecureContext } from './context.js';
import { type KeyPair, randomBytes } from './crypto.js';
import { DataPath } from './data-path.js';
import { Initiator } from './initiator.js';
import { startLivenessCheck, stepLivenessCheck } from './liveness-check.js';
import { copy, newNoise } from './noise.js';
import { PathValidation } from './path-validation.js';
import { Responder } from './responder.js';
import {
  DEFAULT_SECURE_OPTIONS,
  newSecureStats,
  type SecureOptions,
  type SecureSink,
  type SecureStats,
} from './secure-options.js';

export { PROLOGUE } from './noise.js';
export {
  DEFAULT_SECURE_OPTIONS,
  type SecureOptions,
  type SecureSink,
  type SecureStats,
} from './secure-options.js';

const INDEX_BYTES = 4;

export class SecureTransport implements SecureContext {
  readonly stats: SecureStats = newSecureStats();
  readonly channels = new ChannelTable();
  readonly pending = new PendingTable();
  private readonly timers: DeadlineQueue<ChannelRecord | PendingHandshake>;
  private readonly initiator: Initiator;
  private readonly responder: Responder;
  private readonly dataPath: DataPath;
  private readonly paths: PathValidation;

  constructor(
    readonly identity: KeyPair,
    readonly sink: SecureSink,
    readonly options: SecureOptions = DEFAULT_SECURE_OPTIONS,
    readonly random: (length: number) => Uint8Array = randomBytes,
  ) {
    this.timers = new DeadlineQueue((item) => this.deadlineOf(item));
    this.initiator = new Initiator(this);
    this.responder = new Responder(this);
    this.paths = new PathValidation(this);
    this.dataPath = new DataPath(this, this.initiator, this.paths);
  }

  get publicKey(): Uint8Array {
    return this.identity.publicKey;
  }

  channel(id: number): Channel | undefined {
    return this.channels.get(id)?.channel;
  }

  // ---- calls from the endpoint --------------------------------------------------------------

  /** Starts a handshake with `address`; sink.opened follows, or the channel is dropped at the handshake timeout. */
  connect(address: Address, now: number): Channel {
    return this.initiator.connect(address, now);
  }

  /** Seals and sends `plaintext` on `channel`, or holds it (the latest few) until the channel opens. */
  send(channel: Channel, plaintext: Uint8Array, now: number): void {
    this.dataPath.send(channel, plaintext, now);
  }

  /** A session now uses the channel: keep it (it is not closed as unused, nor evicted). */
  retain(channel: Channel): void {
    const record = this.channels.get(channel.id);
    if (record?.channel !== channel) return;
    this.channels.markUsed(record);
    record.timers.clear('unused');
    this.schedule(record);
  }

  /** No session uses the channel any more: close it after a grace time (late packets, retries). */
  release(channel: Channel, now: number): void {
    const record = this.channels.get(channel.id);
    if (record?.channel === channel) this.releaseRecord(record, now);
  }

  /**
   * No session uses the channel any more, and its last one ended by a clean close (both sides
   * know it is over): close it now rather than after the grace time, which exists for a peer that
   * may still send on it (PROTOCOL.md, Channels). A channel a session took again is kept.
   */
  closeUnused(channel: Channel): void {
    const record = this.channels.get(channel.id);
    if (record?.channel !== channel) return;
    this.close(record);
    this.stats.channelsClosedClean++;
  }

  nextTimeout(): number | undefined {
    return this.timers.peek();
  }

  // ---- calls from the rendezvous roles (through the endpoint's extension host) --------------

  /**
   * Hole punching: one `handshake_init` to `address`, and nothing kept. The datagram opens our
   * NAT for the peer's own handshake; an answer to it names an index no channel has, so it is
   * dropped and counted (PROTOCOL.md, "Hole punching").
   */
  punch(address: Address): void {
    const noise = newNoise(true, this.identity);
    const init = encodePacket({
      type: 'handshake_init',
      senderIndex: this.newIndex(),
      cookie: new Uint8Array(COOKIE_BYTES),
      noise: copy(noise.send()),
    });
    this.sink.transmit(address, init);
  }

  /**
   * Our handshake with `channel`'s peer goes on at another address (the peer's relayed
   * address): the same channel and init, sent there at once. False (and nothing changed) if the
   * channel is not ours, is open, or is not our own handshake.
   */
  redirect(channel: Channel, address: Address, now: number): boolean {
    const record = this.channels.get(channel.id);
    if (record?.channel !== channel || channel.isOpen || !channel.initiator) return false;
    channel.address = address;
    this.initiator.redirected(record, now);
    return true;
  }

  /**
   * Sends a path challenge on an open channel straight to `address` rather than to the channel's
   * own: a test of a direct path while the chat goes another way (a relay). If the peer's answer
   * comes back from there, the channel moves there, as for roaming; the peer, hearing us from a
   * new address, validates it in turn.
   */
  probePath(channel: Channel, address: Address, now: number): boolean {
    const record = this.channels.get(channel.id);
    if (record?.channel !== channel || !channel.isOpen) return false;
    return this.paths.probe(record, address, now);
  }

  /**
   * Checks that the peer still holds an open channel (liveness-check.ts): sink.channelSilent
   * follows if it answers nothing. A check already under way is not started again.
   */
  checkAlive(channel: Channel, now: number): void {
    const record = this.channels.get(channel.id);
    if (record?.channel !== channel) return;
    startLivenessCheck(this, record, () => this.paths.challengeChannel(record, now), now);
    this.schedule(record);
  }

  handleTimeout(now: number): void {
    // A record can be queued twice for one deadline (its deadline moved away and back): once is enough.
    for (const item of new Set(this.timers.takeDue(now))) {
      item.scheduledAt = undefined;
      if (item.kind === 'pending') {
        this.responder.expire(item, now);
        continue;
      }
      for (const name of item.timers.takeExpired(now)) {
        if (!this.channels.holds(item)) break;
        if (name === 'unused') this.close(item);
        else if (name === 'livenessCheck') {
          if (stepLivenessCheck(this, item, () => this.paths.challengeChannel(item, now), now))
            this.sink.channelSilent?.(item.channel, now);
        } else this.initiator.onTimer(item, name, now);
      }
      this.schedule(item);
    }
  }

  /** One datagram from the network. Never throws. */
  receive(bytes: Uint8Array, from: Address, now: number): void {
    if (bytes.length > this.options.maxDatagramBytes) {
      this.stats.malformedPackets++;
      return;
    }
    const data = readDataPacket(bytes);
    if (data) {
      this.dataPath.onData(data, bytes, from, now);
      return;
    }
    if (bytes[3] === HandshakeInit.code && bytes[2] === PACKET_VERSION && bytes[0] === MAGIC >> 8) {
      // Read in place: under a flood of inits this is the path that must stay cheap.
      this.responder.onInit(bytes, from, now);
      return;
    }
    const decoded = decodePacket(bytes);
    if (!decoded.ok) {
      this.stats.malformedPackets++;
      return;
    }
    const packet = decoded.datagram;
    switch (packet.type) {
      case 'handshake_init':
        this.responder.onInit(bytes, from, now);
        return;
      case 'cookie_reply':
        this.initiator.onCookie(packet, from, now);
        return;
      case 'handshake_response':
        this.initiator.onResponse(packet, from, now);
        return;
      case 'handshake_final':
        this.responder.onFinal(packet, from, now);
        return;
      case 'data':
        this.dataPath.onData(packet, bytes, from, now);
        return;
    }
  }

  /** Counts of what is held, for tests and logs: proof that floods stay bounded. */
  get sizes(): { channels: number; pending: number; rateLimitedAddresses: number } {
    return {
      channels: this.channels.size,
      pending: this.pending.size,
      rateLimitedAddresses: this.responder.limitedKeys + this.paths.limitedHosts,
    };
  }

  // ---- the context the parts share ----------------------------------------------------------

  /**
   * Called after every change to a record's timers, so that `scheduledAt` is always the record's
   * live deadline: the queue then never needs a second entry for it, and an entry the queue
   * dropped as stale is never mistaken for a live one.
   */
  schedule(item: ChannelRecord | PendingHandshake): void {
    const at = this.deadlineOf(item);
    if (at === item.scheduledAt) return;
    item.scheduledAt = at;
    if (at !== undefined) this.timers.push(item, at);
  }

  newIndex(): number {
    for (;;) {
      const bytes = this.random(INDEX_BYTES);
      const index =
        (((bytes[0] as number) << 24) |
          ((bytes[1] as number) << 16) |
          ((bytes[2] as number) << 8) |
          (bytes[3] as number)) >>>
        0;
      // 0 is never an index: a packet for index 0 is for nobody.
      if (index !== 0 && !this.channels.has(index) && !this.pending.hasIndex(index)) return index;
    }
  }

  releaseRecord(record: ChannelRecord, now: number): void {
    this.channels.markUnused(record, now);
    record.timers.set('unused', now + this.options.unusedChannelTtl);
    this.schedule(record);
  }

  makeRoom(): boolean {
    while (this.channels.size >= this.options.maxChannels) {
      const victim = this.channels.leastRecentlyUsed();
      if (!victim) return false;
      this.close(victim);
      this.stats.channelsEvicted++;
    }
    return true;
  }

  close(record: ChannelRecord): void {
    this.channels.remove(record);
    record.queued = undefined;
    record.paths = undefined;
  }

  opened(record: ChannelRecord, now: number): void {
    this.sink.opened(record.channel, now);
    this.dataPath.flush(record, now);
  }

  sendSealed(channel: Channel, plaintext: Uint8Array, now: number): void {
    this.sink.transmit(channel.address, channel.seal(plaintext, now));
  }

  private deadlineOf(item: ChannelRecord | PendingHandshake): number | undefined {
    if (item.kind === 'pending') return this.pending.holds(item) ? item.expiresAt : undefined;
    return this.channels.holds(item) ? item.timers.next() : undefined;
  }
}

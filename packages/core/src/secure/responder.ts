/**
 * The responder's side of the handshake, with its cookie and its limits.
 *
 * An init is answered directly with message 2, one round trip sooner, unless we are under load
 * (handshake-load.ts): the padded init is as long as message 2, so even an unproven address
 * never gets more bytes than it sent. Under load an init must carry a cookie for its address,
 * and the work it may cost is limited, cheapest checks first:
 * 1. a token bucket per address (host and port) before anything is hashed or decoded;
 * 2. no valid cookie: a cookie reply (one BLAKE2b, 24 bytes), within a budget per host;
 * 3. a valid cookie: a handshake (Diffie-Hellman, memory), within a budget per host.
 * Every init dropped on the way is counted. Half-done handshakes are bounded in number (the
 * oldest goes first) and in time (pendingHandshakeTtl).
 */
import { type Address, formatAddress, sameAddress } from '../address.js';
import { TokenBuckets } from '../token-buckets.js';
import { encodePacket, type HandshakeFinal, readInitPacket } from '../wire/packets.js';
import { Channel } from './channel.js';
import { newChannelRecord, type PendingHandshake } from './channel-table.js';
import type { SecureContext } from './context.js';
import { Cookies } from './cookies.js';
import { equalBytes } from './crypto.js';
import { HandshakeLoad } from './handshake-load.js';
import { askerHost, hostKey } from './host-key.js';
import { copy, newNoise } from './noise.js';

/** Each rate-limit table holds at most this many keys (the least recently seen are forgotten first). */
const MAX_LIMITED_KEYS = 100_000;
const EMPTY = new Uint8Array(0);

export class Responder {
  private readonly cookies: Cookies;
  private readonly load: HandshakeLoad;
  private readonly initGate: TokenBuckets;
  private readonly cookieGate: TokenBuckets;
  private readonly handshakeGate: TokenBuckets;

  constructor(private readonly ctx: SecureContext) {
    const o = ctx.options;
    this.cookies = new Cookies(o.cookieRotation, ctx.random);
    this.load = new HandshakeLoad(o.loadInitsPerSecond, o.loadPendingHandshakes);
    this.initGate = new TokenBuckets(
      o.initsPerSecondPerAddress,
      o.initsPerSecondPerAddress,
      MAX_LIMITED_KEYS,
    );
    this.cookieGate = new TokenBuckets(
      o.cookieRepliesPerSecondPerHost,
      o.cookieRepliesPerSecondPerHost,
      MAX_LIMITED_KEYS,
    );
    this.handshakeGate = new TokenBuckets(
      o.handshakesPerSecondPerHost,
      o.handshakeBurstPerHost,
      MAX_LIMITED_KEYS,
    );
  }

  /** Keys held by the rate limits (bounded): for `sizes`. */
  get limitedKeys(): number {
    return this.initGate.size + this.cookieGate.size + this.handshakeGate.size;
  }

  /** A handshake_init, read in place (the hot path of a flood: no decode, no hash before the gates). */
  onInit(bytes: Uint8Array, from: Address, now: number): void {
    const { ctx } = this;
    const init = readInitPacket(bytes);
    if (!init || init.senderIndex === 0) {
      ctx.stats.malformedPackets++;
      return;
    }
    this.load.countInit(now);
    const underLoad = this.load.underLoad(now, ctx.pending.size);
    if (!underLoad) this.forgetFlood(now);
    const where = formatAddress(from);
    if (underLoad && !this.initGate.tryTake(where, now)) {
      ctx.stats.initsDropped++;
      return;
    }
    const key = `${where}/${init.senderIndex}`;
    const known = ctx.pending.get(key);
    if (known && equalBytes(known.message1, init.noise)) {
      // Our message 2 was lost: the same answer again, no new work.
      known.sentAt = now;
      ctx.sink.transmit(from, known.response);
      return;
    }
    if (underLoad && !this.admit(init.cookie, init.senderIndex, from, now)) return;
    if (ctx.channels.size >= ctx.options.maxChannels && ctx.channels.unusedCount === 0) {
      ctx.stats.handshakesRefused++;
      return;
    }
    this.respond(key, init.senderIndex, init.noise, from, now);
  }

  /** The gates are consulted only under load: once it is over, they forget the sources a flood left. */
  private forgetFlood(now: number): void {
    this.initGate.sweep(now);
    this.cookieGate.sweep(now);
    this.handshakeGate.sweep(now);
  }

  /** Under load: a valid cookie and the host's handshake budget let an init through; else a cookie reply. */
  private admit(cookie: Uint8Array, senderIndex: number, from: Address, now: number): boolean {
    const { ctx } = this;
    const host = hostKey(from);
    if (!this.cookies.valid(from, cookie, now)) {
      if (!this.cookieGate.tryTake(host, now)) {
        ctx.stats.initsDropped++;
        return false;
      }
      // Stateless, and smaller than the init it answers.
      const reply = encodePacket({
        type: 'cookie_reply',
        receiverIndex: senderIndex,
        cookie: this.cookies.make(from, now),
      });
      ctx.sink.transmit(from, reply);
      ctx.stats.cookiesSent++;
      return false;
    }
    // Who asks, not where the answer goes: each relayed peer has a budget of its own.
    if (!this.handshakeGate.tryTake(askerHost(from), now)) {
      ctx.stats.handshakesRateLimited++;
      return false;
    }
    return true;
  }

  /** Reads message 1, answers message 2, and keeps the half-done handshake (replacing an older attempt of the same index). */
  private respond(key: string, remoteIndex: number, message1: Uint8Array, from: Address, now: number): void {
    const { ctx } = this;
    const noise = newNoise(false, ctx.identity);
    let message2: Uint8Array;
    try {
      noise.recv(copy(message1)); // copies: the library later wipes what it was given
      // send() does the Diffie-Hellman with the peer's ephemeral key: a degenerate key throws here.
      message2 = copy(noise.send());
    } catch {
      ctx.stats.badHandshakes++;
      return;
    }
    ctx.pending.remove(ctx.pending.get(key)); // an older attempt of this index, abandoned by its initiator
    if (ctx.pending.size >= ctx.options.maxPendingHandshakes) {
      ctx.pending.remove(ctx.pending.oldest());
      ctx.stats.handshakesEvicted++;
    }
    const localIndex = ctx.newIndex();
    const pending: PendingHandshake = {
      kind: 'pending',
      key,
      noise,
      localIndex,
      remoteIndex,
      address: from,
      message1: copy(message1),
      response: encodePacket({
        type: 'handshake_response',
        senderIndex: localIndex,
        receiverIndex: remoteIndex,
        noise: message2,
      }),
      sentAt: now,
      expiresAt: now + ctx.options.pendingHandshakeTtl,
      scheduledAt: undefined,
    };
    ctx.pending.add(pending);
    ctx.schedule(pending);
    ctx.sink.transmit(from, pending.response);
  }

  onFinal(final: HandshakeFinal, from: Address, now: number): void {
    const { ctx } = this;
    const pending = ctx.pending.byLocalIndex(final.receiverIndex);
    if (!pending) {
      const record = ctx.channels.get(final.receiverIndex);
      const channel = record?.channel;
      // Our confirmation was lost: confirm again.
      if (channel?.isOpen && !channel.initiator && sameAddress(from, channel.address)) {
        ctx.sendSealed(channel, EMPTY, now);
      } else {
        ctx.stats.unknownChannel++;
      }
      return;
    }
    if (!sameAddress(from, pending.address)) {
      ctx.stats.unknownChannel++;
      return;
    }
    ctx.pending.remove(pending);
    try {
      pending.noise.recv(copy(final.noise));
    } catch {
      ctx.stats.badHandshakes++;
      return;
    }
    if (!ctx.makeRoom()) {
      ctx.stats.handshakesRefused++;
      return;
    }
    const { noise } = pending;
    const channel = new Channel(pending.localIndex, pending.address, false, now);
    channel.establish(pending.remoteIndex, copy(noise.rs), copy(noise.tx), copy(noise.rx), now);
    channel.handshakeRtt = now - pending.sentAt;
    const record = newChannelRecord(channel);
    ctx.channels.add(record);
    ctx.stats.handshakesCompleted++;
    // An empty data packet confirms the handshake to the initiator.
    ctx.sendSealed(channel, EMPTY, now);
    // Until a session takes it (a connect request comes), the channel is unused.
    ctx.releaseRecord(record, now);
    ctx.opened(record, now);
  }

  /** A half-done handshake's time ran out. */
  expire(pending: PendingHandshake, now: number): void {
    if (now >= pending.expiresAt) this.ctx.pending.remove(pending);
  }
}

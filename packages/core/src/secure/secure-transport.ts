/**
 * The secure layer under the sessions: every datagram on the wire is a packet of protocol
 * version 2 (see PROTOCOL.md, "Packets").
 *
 * Theory of operation. To reach a peer we start a Noise XX handshake (initiator). The first
 * init goes without a cookie; the responder answers a cookie-less or stale-cookie init with a
 * `cookie_reply` (a MAC of our address under a secret it rotates) and keeps nothing. We send
 * the init again with the cookie; only now, with our address proven to receive, does the
 * responder spend a Diffie-Hellman and keep state (bounded in number and time, and limited per
 * source address by a token bucket). Message 2 and 3 complete the handshake; both sides then
 * hold a Channel, and the peer's static key is verified. The initiator resends message 3 until
 * any data packet from the responder confirms it (the responder sends an empty one at once).
 *
 * Data packets authenticate everything: a packet that does not open under the channel's key is
 * dropped and counted; so is one whose counter was seen. An authentic packet from a new address
 * is taken, but replies keep going to the old address until the new one echoes a challenge:
 * then the channel moves (the peer roamed). A forged packet can never move a channel.
 *
 * Sans-IO like the rest of core: packets in with `receive`, time in with `handleTimeout`, packets
 * out through the sink.
 */
import NoiseState from 'noise-handshake';
import { type Address, formatAddress, sameAddress } from '../address.js';
import { DeadlineQueue } from '../deadline-queue.js';
import { TokenBuckets } from '../token-buckets.js';
import { MAGIC } from '../wire/header.js';
import {
  COOKIE_BYTES,
  type CookieReply,
  DATA_HEADER_BYTES,
  type Data,
  decodePacket,
  encodePacket,
  type HandshakeFinal,
  type HandshakeInit,
  type HandshakeResponse,
  readDataPacket,
} from '../wire/packets.js';
import { Channel } from './channel.js';
import { blake2b, equalBytes, type KeyPair, randomBytes } from './crypto.js';

/** Binds every handshake to this protocol: a peer speaking another version fails message 2. */
export const PROLOGUE = new TextEncoder().encode('netchat protocol 2');

/** First byte of a sealed payload that is not a session message (those start with 'N'). */
const PATH_CHALLENGE = 0x01;
const PATH_RESPONSE = 0x02;
const PATH_TOKEN_BYTES = 8;

export interface SecureOptions {
  /** First resend of a handshake message; doubles up to handshakeRetryMax. */
  handshakeRetryInitial: number;
  handshakeRetryMax: number;
  /** An initiator gives up after this long without completing. */
  handshakeTimeout: number;
  /** A responder forgets a half-done handshake after this long. */
  pendingHandshakeTtl: number;
  maxPendingHandshakes: number;
  /** Handshakes (that cost us a Diffie-Hellman) per second and burst, per source address. */
  handshakesPerSecondPerAddress: number;
  handshakeBurstPerAddress: number;
  /** A channel no session uses is closed after this long. */
  unusedChannelTtl: number;
  maxChannels: number;
  /** The cookie secret changes this often; a cookie from the previous secret is still good. */
  cookieRotation: number;
}

export const DEFAULT_SECURE_OPTIONS: SecureOptions = {
  handshakeRetryInitial: 500,
  handshakeRetryMax: 4_000,
  handshakeTimeout: 30_000,
  pendingHandshakeTtl: 5_000,
  maxPendingHandshakes: 1024,
  handshakesPerSecondPerAddress: 5,
  handshakeBurstPerAddress: 10,
  unusedChannelTtl: 30_000,
  maxChannels: 4096,
  cookieRotation: 120_000,
};

export interface SecureStats {
  /** Packets that failed to decode or validate. */
  malformedPackets: number;
  /** Data packets that did not authenticate (forged, tampered, or from a stranger). */
  forged: number;
  /** Data packets whose counter was seen before, or is too old to tell. */
  replayed: number;
  /** Packets for a channel or handshake we do not have. */
  unknownChannel: number;
  /** Handshake messages that did not authenticate. */
  badHandshakes: number;
  cookiesSent: number;
  /** Handshakes refused by the per-address rate limit. */
  handshakesRateLimited: number;
  /** Half-done handshakes dropped to stay within maxPendingHandshakes. */
  handshakesEvicted: number;
  handshakesCompleted: number;
  /** Times a channel moved to a new, validated address. */
  pathMoves: number;
}

export interface SecureSink {
  transmit(to: Address, bytes: Uint8Array): void;
  /** A handshake completed: the channel is open and its peer's static key verified. */
  opened(channel: Channel, now: number): void;
  /** An authentic session message arrived (`from` may differ from channel.address while roaming). */
  message(channel: Channel, plaintext: Uint8Array, now: number): void;
}

interface InitiatorState {
  noise: NoiseState;
  message1: Uint8Array;
  cookie: Uint8Array;
  final?: Uint8Array;
  confirmed: boolean;
  retryDelay: number;
  nextRetryAt: number;
  giveUpAt: number;
}

interface PendingResponse {
  noise: NoiseState;
  localIndex: number;
  remoteIndex: number;
  address: Address;
  response: Uint8Array;
  expiresAt: number;
}

interface Challenge {
  address: Address;
  token: Uint8Array;
  sentAt: number;
}

type Timed = { kind: 'channel'; channel: Channel } | { kind: 'pending'; key: string };

export class SecureTransport {
  readonly stats: SecureStats = {
    malformedPackets: 0,
    forged: 0,
    replayed: 0,
    unknownChannel: 0,
    badHandshakes: 0,
    cookiesSent: 0,
    handshakesRateLimited: 0,
    handshakesEvicted: 0,
    handshakesCompleted: 0,
    pathMoves: 0,
  };
  private readonly channels = new Map<number, Channel>();
  private readonly initiators = new Map<number, InitiatorState>();
  /** Half-done responder handshakes by `${address}/${their index}` (so a repeated init is answered the same). */
  private readonly pending = new Map<string, PendingResponse>();
  private readonly pendingByIndex = new Map<number, string>();
  private readonly queued = new Map<number, Uint8Array[]>();
  private readonly challenges = new Map<number, Challenge>();
  /** When an unused channel closes; absent while a session uses it. */
  private readonly unusedUntil = new Map<number, number>();
  private readonly limiter: TokenBuckets;
  private readonly timers: DeadlineQueue<Timed>;
  private cookieSecret: Uint8Array;
  private previousCookieSecret: Uint8Array;
  private cookieSecretSince = 0;

  constructor(
    private readonly identity: KeyPair,
    private readonly sink: SecureSink,
    private readonly options: SecureOptions = DEFAULT_SECURE_OPTIONS,
    private readonly random: (length: number) => Uint8Array = randomBytes,
  ) {
    this.limiter = new TokenBuckets(options.handshakesPerSecondPerAddress, options.handshakeBurstPerAddress);
    this.cookieSecret = random(32);
    this.previousCookieSecret = random(32);
    this.timers = new DeadlineQueue((t) => this.deadlineOf(t));
  }

  get publicKey(): Uint8Array {
    return this.identity.publicKey;
  }

  channel(id: number): Channel | undefined {
    return this.channels.get(id);
  }

  // ---- calls from the endpoint --------------------------------------------------------------

  /** Starts a handshake with `address`; sink.opened follows, or the channel is dropped at the handshake timeout. */
  connect(address: Address, now: number): Channel {
    const channel = new Channel(this.newIndex(), address, true, now);
    const noise = new NoiseState('XX', true, this.identity);
    noise.initialise(PROLOGUE);
    const state: InitiatorState = {
      noise,
      message1: copy(noise.send()),
      cookie: new Uint8Array(COOKIE_BYTES),
      confirmed: false,
      retryDelay: this.options.handshakeRetryInitial,
      nextRetryAt: now + this.options.handshakeRetryInitial,
      giveUpAt: now + this.options.handshakeTimeout,
    };
    this.channels.set(channel.id, channel);
    this.initiators.set(channel.id, state);
    this.sendInit(channel, state);
    this.schedule({ kind: 'channel', channel });
    return channel;
  }

  /** Seals and sends `plaintext` on `channel`, or holds it (the latest few) until the channel opens. */
  send(channel: Channel, plaintext: Uint8Array, now: number): void {
    if (!this.channels.has(channel.id)) return;
    if (!channel.isOpen) {
      const queue = this.queued.get(channel.id) ?? [];
      queue.push(plaintext);
      if (queue.length > 8) queue.shift();
      this.queued.set(channel.id, queue);
      return;
    }
    this.sink.transmit(channel.address, channel.seal(plaintext, now));
  }

  /** A session now uses the channel: keep it. */
  retain(channel: Channel): void {
    this.unusedUntil.delete(channel.id);
    this.schedule({ kind: 'channel', channel });
  }

  /** No session uses the channel any more: close it after a grace time (late packets, retries). */
  release(channel: Channel, now: number): void {
    if (!this.channels.has(channel.id)) return;
    this.unusedUntil.set(channel.id, now + this.options.unusedChannelTtl);
    this.schedule({ kind: 'channel', channel });
  }

  nextTimeout(): number | undefined {
    return this.timers.peek();
  }

  handleTimeout(now: number): void {
    for (const timed of this.timers.takeDue(now)) {
      if (timed.kind === 'pending') this.expirePending(timed.key, now);
      else this.onChannelTimer(timed.channel, now);
    }
  }

  /** One datagram from the network. Never throws. */
  receive(bytes: Uint8Array, from: Address, now: number): void {
    const data = readDataPacket(bytes);
    if (data) {
      this.onData(data, bytes, from, now);
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
        this.onInit(packet, bytes, from, now);
        return;
      case 'cookie_reply':
        this.onCookie(packet, from);
        return;
      case 'handshake_response':
        this.onResponse(packet, from, now);
        return;
      case 'handshake_final':
        this.onFinal(packet, from, now);
        return;
      case 'data':
        this.onData(packet, bytes, from, now);
        return;
    }
  }

  // ---- handshake ----------------------------------------------------------------------------

  private sendInit(channel: Channel, state: InitiatorState): void {
    const init: HandshakeInit = {
      type: 'handshake_init',
      senderIndex: channel.localIndex,
      cookie: state.cookie,
      noise: state.message1,
    };
    this.sink.transmit(channel.address, encodePacket(init));
  }

  private cookieFor(address: Address, secret: Uint8Array): Uint8Array {
    return blake2b(COOKIE_BYTES, new TextEncoder().encode(formatAddress(address)), secret);
  }

  private rotateCookieSecret(now: number): void {
    if (now - this.cookieSecretSince < this.options.cookieRotation) return;
    this.previousCookieSecret = this.cookieSecret;
    this.cookieSecret = this.random(32);
    this.cookieSecretSince = now;
  }

  private onInit(init: HandshakeInit, bytes: Uint8Array, from: Address, now: number): void {
    const key = `${formatAddress(from)}/${init.senderIndex}`;
    const known = this.pending.get(key);
    if (known) {
      // Our response was lost: the same answer again, no new work.
      this.sink.transmit(from, known.response);
      return;
    }
    this.rotateCookieSecret(now);
    const valid =
      equalBytes(init.cookie, this.cookieFor(from, this.cookieSecret)) ||
      equalBytes(init.cookie, this.cookieFor(from, this.previousCookieSecret));
    if (!valid) {
      // Stateless, and smaller than what it answers: nothing to gain by spoofing it at someone.
      const reply: CookieReply = {
        type: 'cookie_reply',
        receiverIndex: init.senderIndex,
        cookie: this.cookieFor(from, this.cookieSecret),
      };
      const encoded = encodePacket(reply);
      if (encoded.length <= bytes.length) this.sink.transmit(from, encoded);
      this.stats.cookiesSent++;
      return;
    }
    if (!this.limiter.tryTake(formatAddress(from), now) || this.channels.size >= this.options.maxChannels) {
      this.stats.handshakesRateLimited++;
      return;
    }
    const noise = new NoiseState('XX', false, this.identity);
    noise.initialise(PROLOGUE);
    let message2: Uint8Array;
    try {
      noise.recv(copy(init.noise)); // copies: the library later wipes what it was given
      // send() does the Diffie-Hellman with the peer's ephemeral key: a degenerate key throws here.
      message2 = copy(noise.send());
    } catch {
      this.stats.badHandshakes++;
      return;
    }
    if (this.pending.size >= this.options.maxPendingHandshakes) this.evictOldestPending();
    const localIndex = this.newIndex();
    const response: HandshakeResponse = {
      type: 'handshake_response',
      senderIndex: localIndex,
      receiverIndex: init.senderIndex,
      noise: message2,
    };
    const pending: PendingResponse = {
      noise,
      localIndex,
      remoteIndex: init.senderIndex,
      address: from,
      response: encodePacket(response),
      expiresAt: now + this.options.pendingHandshakeTtl,
    };
    this.pending.set(key, pending);
    this.pendingByIndex.set(localIndex, key);
    this.schedule({ kind: 'pending', key });
    this.sink.transmit(from, pending.response);
  }

  private onCookie(reply: CookieReply, from: Address): void {
    const channel = this.channels.get(reply.receiverIndex);
    const state = this.initiators.get(reply.receiverIndex);
    if (!channel || !state || state.final || !sameAddress(from, channel.address)) {
      this.stats.unknownChannel++;
      return;
    }
    state.cookie = reply.cookie;
    this.sendInit(channel, state);
  }

  private onResponse(response: HandshakeResponse, from: Address, now: number): void {
    const channel = this.channels.get(response.receiverIndex);
    const state = this.initiators.get(response.receiverIndex);
    if (!channel || !state || !sameAddress(from, channel.address)) {
      this.stats.unknownChannel++;
      return;
    }
    if (state.final) {
      // The responder did not get message 3 yet.
      this.sink.transmit(channel.address, state.final);
      return;
    }
    let message3: Uint8Array;
    try {
      state.noise.recv(copy(response.noise));
      message3 = copy(state.noise.send());
    } catch {
      this.stats.badHandshakes++;
      this.restartHandshake(channel, state);
      return;
    }
    const final: HandshakeFinal = {
      type: 'handshake_final',
      receiverIndex: response.senderIndex,
      noise: message3,
    };
    state.final = encodePacket(final);
    this.sink.transmit(channel.address, state.final);
    const { noise } = state;
    channel.establish(response.senderIndex, copy(noise.rs), copy(noise.tx), copy(noise.rx), now);
    this.stats.handshakesCompleted++;
    this.opened(channel, now);
  }

  /** A response that did not authenticate leaves the Noise state spent: begin again, same cookie. */
  private restartHandshake(channel: Channel, state: InitiatorState): void {
    state.noise = new NoiseState('XX', true, this.identity);
    state.noise.initialise(PROLOGUE);
    state.message1 = copy(state.noise.send());
    this.sendInit(channel, state);
  }

  private onFinal(final: HandshakeFinal, from: Address, now: number): void {
    const key = this.pendingByIndex.get(final.receiverIndex);
    const pending = key === undefined ? undefined : this.pending.get(key);
    if (!pending || key === undefined) {
      const open = this.channels.get(final.receiverIndex);
      // Our confirmation was lost: confirm again.
      if (open?.isOpen && !open.initiator && sameAddress(from, open.address)) {
        this.sink.transmit(open.address, open.seal(new Uint8Array(0), now));
      } else {
        this.stats.unknownChannel++;
      }
      return;
    }
    if (!sameAddress(from, pending.address)) {
      this.stats.unknownChannel++;
      return;
    }
    this.forgetPending(key);
    try {
      pending.noise.recv(copy(final.noise));
    } catch {
      this.stats.badHandshakes++;
      return;
    }
    const { noise } = pending;
    const channel = new Channel(pending.localIndex, pending.address, false, now);
    channel.establish(pending.remoteIndex, copy(noise.rs), copy(noise.tx), copy(noise.rx), now);
    this.channels.set(channel.id, channel);
    this.stats.handshakesCompleted++;
    // An empty data packet confirms the handshake to the initiator.
    this.sink.transmit(channel.address, channel.seal(new Uint8Array(0), now));
    // Until a session takes it (a connect request comes), the channel is unused.
    this.release(channel, now);
    this.opened(channel, now);
  }

  private opened(channel: Channel, now: number): void {
    const queue = this.queued.get(channel.id) ?? [];
    this.queued.delete(channel.id);
    this.sink.opened(channel, now);
    for (const plaintext of queue) this.send(channel, plaintext, now);
  }

  // ---- data ---------------------------------------------------------------------------------

  private onData(
    packet: Pick<Data, 'receiverIndex' | 'counter' | 'ciphertext'>,
    bytes: Uint8Array,
    from: Address,
    now: number,
  ): void {
    const channel = this.channels.get(packet.receiverIndex);
    if (!channel?.isOpen) {
      this.stats.unknownChannel++;
      return;
    }
    const opened = channel.open(packet.counter, bytes.subarray(0, DATA_HEADER_BYTES), packet.ciphertext);
    if (!opened.ok) {
      if (opened.reason === 'replay') this.stats.replayed++;
      else this.stats.forged++;
      return;
    }
    channel.lastReceivedAt = now;
    const initiator = this.initiators.get(channel.id);
    if (initiator) initiator.confirmed = true;
    if (!sameAddress(from, channel.address)) this.challenge(channel, from, now);
    const plaintext = opened.plaintext;
    if (plaintext.length === 0) return; // a keepalive or confirmation
    if (plaintext[0] === PATH_CHALLENGE && plaintext.length === 1 + PATH_TOKEN_BYTES) {
      const answer = new Uint8Array(plaintext);
      answer[0] = PATH_RESPONSE;
      // Answer on the path it came by: that is the path being tested.
      this.sink.transmit(from, channel.seal(answer, now));
      return;
    }
    if (plaintext[0] === PATH_RESPONSE && plaintext.length === 1 + PATH_TOKEN_BYTES) {
      this.onPathResponse(channel, plaintext.subarray(1), from);
      return;
    }
    if (plaintext[0] === MAGIC >> 8) this.sink.message(channel, plaintext, now);
    else this.stats.malformedPackets++;
  }

  /** Asks the peer to prove it receives at `address` (at most one challenge per round of retries). */
  private challenge(channel: Channel, address: Address, now: number): void {
    const open = this.challenges.get(channel.id);
    if (open && sameAddress(open.address, address) && now - open.sentAt < 1000) return;
    const token = this.random(PATH_TOKEN_BYTES);
    this.challenges.set(channel.id, { address, token, sentAt: now });
    const payload = new Uint8Array(1 + PATH_TOKEN_BYTES);
    payload[0] = PATH_CHALLENGE;
    payload.set(token, 1);
    this.sink.transmit(address, channel.seal(payload, now));
  }

  private onPathResponse(channel: Channel, token: Uint8Array, from: Address): void {
    const open = this.challenges.get(channel.id);
    if (!open || !equalBytes(open.token, token) || !sameAddress(open.address, from)) return;
    this.challenges.delete(channel.id);
    // Sessions read their peer's address from the channel, so they follow without being told.
    channel.address = from;
    this.stats.pathMoves++;
  }

  // ---- timers -------------------------------------------------------------------------------

  private deadlineOf(timed: Timed): number | undefined {
    if (timed.kind === 'pending') return this.pending.get(timed.key)?.expiresAt;
    const channel = timed.channel;
    if (!this.channels.has(channel.id)) return undefined;
    const state = this.initiators.get(channel.id);
    const times: number[] = [];
    if (state && !state.confirmed) times.push(Math.min(state.nextRetryAt, state.giveUpAt));
    const unused = this.unusedUntil.get(channel.id);
    if (unused !== undefined) times.push(unused);
    return times.length === 0 ? undefined : Math.min(...times);
  }

  private schedule(timed: Timed): void {
    const at = this.deadlineOf(timed);
    if (at === undefined) return;
    this.timers.push(timed, at);
  }

  private onChannelTimer(channel: Channel, now: number): void {
    if (!this.channels.has(channel.id)) return;
    const unused = this.unusedUntil.get(channel.id);
    if (unused !== undefined && now >= unused) {
      this.close(channel);
      return;
    }
    const state = this.initiators.get(channel.id);
    if (state && !state.confirmed) {
      if (now >= state.giveUpAt) {
        if (!channel.isOpen) {
          this.close(channel);
          return;
        }
        state.confirmed = true; // stop resending message 3; the channel is open either way
      } else if (now >= state.nextRetryAt) {
        if (state.final) this.sink.transmit(channel.address, state.final);
        else this.sendInit(channel, state);
        state.retryDelay = Math.min(state.retryDelay * 2, this.options.handshakeRetryMax);
        state.nextRetryAt = now + state.retryDelay;
      }
    }
    this.schedule({ kind: 'channel', channel });
  }

  private close(channel: Channel): void {
    this.channels.delete(channel.id);
    this.initiators.delete(channel.id);
    this.queued.delete(channel.id);
    this.challenges.delete(channel.id);
    this.unusedUntil.delete(channel.id);
  }

  private expirePending(key: string, now: number): void {
    const pending = this.pending.get(key);
    if (pending && now >= pending.expiresAt) this.forgetPending(key);
  }

  private forgetPending(key: string): void {
    const pending = this.pending.get(key);
    if (!pending) return;
    this.pending.delete(key);
    this.pendingByIndex.delete(pending.localIndex);
  }

  private evictOldestPending(): void {
    const oldest = this.pending.keys().next().value;
    if (oldest === undefined) return;
    this.forgetPending(oldest);
    this.stats.handshakesEvicted++;
  }

  /** A random index not in use (ours, in packets the peer sends us). */
  private newIndex(): number {
    for (;;) {
      const bytes = this.random(4);
      const index =
        ((bytes[0] as number) << 24) |
        ((bytes[1] as number) << 16) |
        ((bytes[2] as number) << 8) |
        (bytes[3] as number);
      const candidate = index >>> 0;
      if (candidate !== 0 && !this.channels.has(candidate) && !this.pendingByIndex.has(candidate))
        return candidate;
    }
  }

  /** Counts of what is held, for tests and logs: proof that floods stay bounded. */
  get sizes(): { channels: number; pending: number; rateLimitedAddresses: number } {
    return {
      channels: this.channels.size,
      pending: this.pending.size,
      rateLimitedAddresses: this.limiter.size,
    };
  }
}

/** Our own copy of bytes a Noise state handed out: the library wipes its buffers when done. */
function copy(bytes: Uint8Array | null): Uint8Array {
  if (!bytes) throw new Error('handshake incomplete');
  return Uint8Array.from(bytes);
}

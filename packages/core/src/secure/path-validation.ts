/**
 * Path validation: an authentic packet from a new address is taken, but the channel moves there
 * only when the peer echoes a challenge sent to that address (a forged or replayed packet never
 * authenticates, so it can never move a channel). Each address is a candidate path of its own,
 * so a packet from a third address neither cancels a good response nor resets another address's
 * limit.
 *
 * Reflection. A challenge goes to an address nobody has proven, and anyone can hold a channel (a
 * stranger's handshake costs little): sealed packets with forged sources would make us send
 * challenges to a victim. So every packet to an unproven address (a challenge, or the answer to
 * one) is bounded three ways (PROTOCOL.md, *Roaming*):
 * - by credit: never more bytes to an address than authentic packets brought from it, on that
 *   channel (amplification at most 1, whatever the attacker does);
 * - per host (an IPv4 address, an IPv6 /64), across every channel, as the handshake limits are;
 * - in total, so that many hosts together cannot make it more.
 */
import { type Address, sameAddress } from '../address.js';
import { TokenBuckets } from '../token-buckets.js';
import { DATA_HEADER_BYTES } from '../wire/packets.js';
import type { ChannelRecord, PathCandidate } from './channel-table.js';
import type { SecureContext } from './context.js';
import { equalBytes, TAG_BYTES } from './crypto.js';
import { hostKey } from './host-key.js';
import { answersLivenessCheck } from './liveness-check.js';

/** First byte of a sealed payload that is not a session message (those start with 'N'). */
export const PATH_CHALLENGE = 0x01;
export const PATH_RESPONSE = 0x02;
export const PATH_TOKEN_BYTES = 8;
/** A challenge or response on the wire: header, type byte, token, tag (41 bytes). */
export const PATH_PACKET_BYTES = DATA_HEADER_BYTES + 1 + PATH_TOKEN_BYTES + TAG_BYTES;
/** Candidate paths kept per channel, one per address; a fifth replaces the one heard from longest ago. */
export const MAX_PATH_CANDIDATES = 4;
/** A challenge is answered within this long (many round trips), or not at all. */
export const PATH_CHALLENGE_TTL = 3_000;
/** At most one challenge a second to each address. */
export const PATH_CHALLENGE_INTERVAL = 1_000;
/** Keepalives sent where an answered probe moved the channel: credit for the peer's challenge. */
const PROBE_FOLLOW_KEEPALIVES = 2;
/** Each rate-limit table holds at most this many hosts (the least recently seen are forgotten first). */
const MAX_LIMITED_HOSTS = 100_000;
const EVERYONE = '';

export class PathValidation {
  private readonly perHost: TokenBuckets;
  private readonly total: TokenBuckets;

  constructor(private readonly ctx: SecureContext) {
    const o = ctx.options;
    this.perHost = new TokenBuckets(
      o.pathPacketsPerSecondPerHost,
      o.pathPacketsPerSecondPerHost,
      MAX_LIMITED_HOSTS,
    );
    this.total = new TokenBuckets(o.pathPacketsPerSecond, o.pathPacketsPerSecond, 1);
  }

  /** Hosts held by the per-host limit (bounded): for `sizes`. */
  get limitedHosts(): number {
    return this.perHost.size;
  }

  /**
   * An authentic packet of `bytes` bytes came from `from`, which is not the channel's address:
   * it earns that address credit (a new candidate if there is none).
   */
  heard(record: ChannelRecord, from: Address, bytes: number, now: number): PathCandidate {
    const paths = record.paths ?? [];
    record.paths = paths;
    let candidate = paths.find((c) => sameAddress(c.address, from));
    if (!candidate) {
      if (paths.length >= MAX_PATH_CANDIDATES) paths.splice(leastRecentlyHeard(paths), 1);
      candidate = { address: from, credit: 0, heardAt: now, token: undefined, sentAt: undefined };
      paths.push(candidate);
    }
    candidate.credit += bytes;
    candidate.heardAt = now;
    return candidate;
  }

  /** Asks the peer to prove it receives at the candidate's address, if every limit allows. */
  challenge(record: ChannelRecord, candidate: PathCandidate, now: number): void {
    // Our own probe there does not hold back a challenge the peer's packets paid for: the peer
    // may have moved on our probe's crossing twin, and now waits for us to validate it.
    const recent = candidate.sentAt !== undefined && now - candidate.sentAt < PATH_CHALLENGE_INTERVAL;
    if (recent && !candidate.probed) return;
    if (!this.mayReach(candidate, now)) return;
    candidate.probed = false;
    this.send(record, candidate, now);
  }

  private send(record: ChannelRecord, candidate: PathCandidate, now: number): void {
    candidate.token = this.sendChallenge(record, candidate.address, now);
    candidate.sentAt = now;
  }

  /** A challenge with a fresh token, sealed on the record's channel and sent to `to`; returns the token. */
  private sendChallenge(record: ChannelRecord, to: Address, now: number): Uint8Array {
    const token = this.ctx.random(PATH_TOKEN_BYTES);
    const payload = new Uint8Array(1 + PATH_TOKEN_BYTES);
    payload[0] = PATH_CHALLENGE;
    payload.set(token, 1);
    this.ctx.stats.pathChallengesSent++;
    this.ctx.sink.transmit(to, record.channel.seal(payload, now));
    return token;
  }

  /**
   * Tests a path we were told of (a relayed peer's public address, from the rendezvous): a
   * challenge straight there, before anything came from it, so it spends no credit; the per-host
   * and total limits still hold, and the caller bounds how often (PROTOCOL.md, "Relay": back to
   * a direct path). Its answer moves the channel there, as any answered challenge does.
   */
  probe(record: ChannelRecord, address: Address, now: number): boolean {
    const paths = record.paths ?? [];
    record.paths = paths;
    let candidate = paths.find((c) => sameAddress(c.address, address));
    if (!candidate) {
      if (paths.length >= MAX_PATH_CANDIDATES) paths.splice(leastRecentlyHeard(paths), 1);
      candidate = { address, credit: 0, heardAt: now, token: undefined, sentAt: undefined };
      paths.push(candidate);
    }
    if (candidate.sentAt !== undefined && now - candidate.sentAt < PATH_CHALLENGE_INTERVAL) return false;
    if (!this.perHost.tryTake(hostKey(address), now) || !this.total.tryTake(EVERYONE, now)) {
      this.ctx.stats.pathPacketsLimited++;
      return false;
    }
    candidate.probed = true;
    this.send(record, candidate, now);
    return true;
  }

  /**
   * A challenge to the channel's own address, proven by the handshake (so no credit or budget
   * applies; the caller bounds how often): its answer shows the peer still holds the channel
   * (liveness-check.ts), and moves nothing. Returns its token.
   */
  challengeChannel(record: ChannelRecord, now: number): Uint8Array {
    return this.sendChallenge(record, record.channel.address, now);
  }

  /**
   * Answers a challenge on the path it came by: that is the path being tested. To an address
   * that is not the channel's (`candidate`), only within the limits.
   */
  answer(
    record: ChannelRecord,
    challenge: Uint8Array,
    from: Address,
    candidate: PathCandidate | undefined,
    now: number,
  ): void {
    if (candidate && !this.mayReach(candidate, now)) return;
    const answer = new Uint8Array(challenge);
    answer[0] = PATH_RESPONSE;
    this.ctx.sink.transmit(from, record.channel.seal(answer, now));
    // From the channel's own address: the peer tests a new address of ours (it heard us from one).
    if (!candidate) this.ctx.sink.pathChanged?.(record.channel, now);
  }

  onResponse(record: ChannelRecord, token: Uint8Array, from: Address, now: number): void {
    if (answersLivenessCheck(record, token)) return;
    const match = record.paths?.find(
      (c) =>
        c.token !== undefined &&
        c.sentAt !== undefined &&
        sameAddress(c.address, from) &&
        now - c.sentAt < PATH_CHALLENGE_TTL &&
        equalBytes(c.token, token),
    );
    if (!match) return;
    record.paths = undefined;
    // Sessions read their peer's address from the channel, so they follow without being told.
    record.channel.address = from;
    this.ctx.stats.pathMoves++;
    // The challenge's round trip: the first measure of the new path.
    this.ctx.sink.pathChanged?.(record.channel, now, now - (match.sentAt as number));
    // Our probe was answered: the peer still sends the other way until it validates us here,
    // and it may challenge only with the credit our packets bring (41 bytes). Two keepalives
    // (64) bring it now, rather than at whatever we send next.
    if (match.probed)
      for (let i = 0; i < PROBE_FOLLOW_KEEPALIVES; i++)
        this.ctx.sink.transmit(from, record.channel.seal(new Uint8Array(0), now));
  }

  /**
   * Whether one more path packet may go to an unproven address, spending its credit and a token
   * of its host's and of the total budget if so. The host's first: a flood against one host then
   * spends only that host's budget, never everyone's.
   */
  private mayReach(candidate: PathCandidate, now: number): boolean {
    if (candidate.credit < PATH_PACKET_BYTES) return false;
    if (!this.perHost.tryTake(hostKey(candidate.address), now) || !this.total.tryTake(EVERYONE, now)) {
      this.ctx.stats.pathPacketsLimited++;
      return false;
    }
    candidate.credit -= PATH_PACKET_BYTES;
    return true;
  }
}

function leastRecentlyHeard(paths: PathCandidate[]): number {
  let oldest = 0;
  for (let i = 1; i < paths.length; i++)
    if ((paths[i] as PathCandidate).heardAt < (paths[oldest] as PathCandidate).heardAt) oldest = i;
  return oldest;
}

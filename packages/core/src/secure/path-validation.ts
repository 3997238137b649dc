/**
 * Path validation: an authentic packet from a new address is taken, but the channel moves there
 * only when the peer echoes a challenge sent to that address (a forged or replayed packet never
 * authenticates, so it can never move a channel). Challenges are kept per address, so a packet
 * from a third address neither cancels a good response nor resets another address's limit.
 */
import { type Address, sameAddress } from '../address.js';
import type { ChannelRecord, PathChallenge } from './channel-table.js';
import type { SecureContext } from './context.js';
import { equalBytes } from './crypto.js';

/** First byte of a sealed payload that is not a session message (those start with 'N'). */
export const PATH_CHALLENGE = 0x01;
export const PATH_RESPONSE = 0x02;
export const PATH_TOKEN_BYTES = 8;
/** Challenges outstanding per channel, one per address; a fifth address replaces the oldest. */
export const MAX_PATH_CHALLENGES = 4;
/** A challenge is answered within this long (many round trips), or not at all. */
export const PATH_CHALLENGE_TTL = 3_000;
/** At most one challenge a second to each address. */
export const PATH_CHALLENGE_INTERVAL = 1_000;

export class PathValidation {
  constructor(private readonly ctx: SecureContext) {}

  /** Asks the peer to prove it receives at `address`. */
  challenge(record: ChannelRecord, address: Address, now: number): void {
    const paths = (record.paths ?? []).filter((c) => now - c.sentAt < PATH_CHALLENGE_TTL);
    const open = paths.findIndex((c) => sameAddress(c.address, address));
    if (open >= 0 && now - (paths[open] as PathChallenge).sentAt < PATH_CHALLENGE_INTERVAL) {
      record.paths = paths;
      return;
    }
    if (open >= 0) paths.splice(open, 1);
    else if (paths.length >= MAX_PATH_CHALLENGES) paths.shift(); // the oldest: kept in send order
    const token = this.ctx.random(PATH_TOKEN_BYTES);
    paths.push({ address, token, sentAt: now });
    record.paths = paths;
    const payload = new Uint8Array(1 + PATH_TOKEN_BYTES);
    payload[0] = PATH_CHALLENGE;
    payload.set(token, 1);
    this.ctx.sink.transmit(address, record.channel.seal(payload, now));
  }

  /** Answers a challenge on the path it came by: that is the path being tested. */
  answer(record: ChannelRecord, challenge: Uint8Array, from: Address, now: number): void {
    const answer = new Uint8Array(challenge);
    answer[0] = PATH_RESPONSE;
    this.ctx.sink.transmit(from, record.channel.seal(answer, now));
  }

  onResponse(record: ChannelRecord, token: Uint8Array, from: Address, now: number): void {
    const match = record.paths?.find(
      (c) =>
        sameAddress(c.address, from) && now - c.sentAt < PATH_CHALLENGE_TTL && equalBytes(c.token, token),
    );
    if (!match) return;
    record.paths = undefined;
    // Sessions read their peer's address from the channel, so they follow without being told.
    record.channel.address = from;
    this.ctx.stats.pathMoves++;
  }
}

// Independent netchat peer, written from PROTOCOL.md only (not from packages/core/src).
//
// A channel: the keys of a finished handshake, the sealing of `data` packets (counter, nonce,
// associated data, rekeying by epoch: PROTOCOL.md *Data packets*), a replay window per epoch,
// and roaming (*Roaming*: candidate paths with credit, path challenges and responses).

import crypto from 'node:crypto';
import { addressKey, hostKey, sameAddress, TokenBucket } from './address.mjs';
import { encodePacket } from './codec.mjs';
import { aeadOpen, aeadSeal, rekey } from './crypto.mjs';
import { ReplayWindow } from './replay.mjs';

export const EPOCH_COUNTERS = 2 ** 24;
export const MAX_COUNTER = 2 ** 53;
export const REKEY_AFTER_MS = 120_000;
export const PATH_PACKET_BYTES = 41;
const MAX_CANDIDATES = 4;
const CHALLENGE_EVERY_MS = 1000;
const CHALLENGE_ANSWER_MS = 3000;

/** Keys of successive epochs: epoch n + 1's key is REKEY of epoch n's. */
class EpochKeys {
  constructor(key0) {
    this.keys = [key0];
  }
  get(epoch) {
    while (this.keys.length <= epoch) this.keys.push(rekey(this.keys[this.keys.length - 1]));
    return this.keys[epoch];
  }
}

export class Channel {
  /**
   * `secure` gives the shared limits (path buckets), stats and the transmit function.
   * `keys` is { sendKey, receiveKey }.
   */
  constructor(secure, { localIndex, remoteIndex, address, keys, remoteStatic, initiator, handshakeRtt, now }) {
    this.secure = secure;
    this.localIndex = localIndex;
    this.remoteIndex = remoteIndex;
    this.address = address;
    this.remoteStatic = remoteStatic;
    this.initiator = initiator;
    this.handshakeRtt = handshakeRtt;
    this.openedAt = now;
    this.lastUsed = now;
    this.confirmed = !initiator; // the initiator's is confirmed by the first authentic data packet
    this.closed = false;
    this.setKeys(keys, now);
    this.candidates = new Map(); // addressKey -> { address, credit, lastHeard, challenge, challengedAt }
  }

  setKeys(keys, now) {
    this.sendKeys = new EpochKeys(keys.sendKey);
    this.receiveKeys = new EpochKeys(keys.receiveKey);
    this.sendCounter = 0;
    this.sendEpochStartedAt = now;
    this.windows = new Map([[0, new ReplayWindow()]]);
    this.highestEpoch = 0;
  }

  /** Moves the sending side to the next epoch now (as the 120 s rule would). */
  rekeyNow(now) {
    const epoch = Math.floor(this.sendCounter / EPOCH_COUNTERS);
    this.sendCounter = (epoch + 1) * EPOCH_COUNTERS;
    this.sendEpochStartedAt = now;
  }

  /** A `data` packet carrying `payload`, or undefined once the counters are used up. */
  seal(payload, now) {
    let epoch = Math.floor(this.sendCounter / EPOCH_COUNTERS);
    if (now - this.sendEpochStartedAt >= (this.secure.options.rekeyAfterMs ?? REKEY_AFTER_MS)) {
      this.rekeyNow(now);
      epoch = Math.floor(this.sendCounter / EPOCH_COUNTERS);
    }
    const counter = this.sendCounter;
    if (counter >= MAX_COUNTER) return undefined;
    this.sendCounter++;
    if (this.sendCounter % EPOCH_COUNTERS === 0) this.sendEpochStartedAt = now;
    const head = encodePacket({
      type: 'data',
      receiverIndex: this.remoteIndex,
      counter,
      ciphertext: new Uint8Array(0),
    });
    const ciphertext = aeadSeal(this.sendKeys.get(epoch), counter, head, payload);
    this.lastUsed = now;
    return encodePacket({ type: 'data', receiverIndex: this.remoteIndex, counter, ciphertext });
  }

  /** The payload of an authentic, new `data` packet (its bytes `raw`), or a string saying why not. */
  open(packet, raw) {
    if (packet.counter >= BigInt(MAX_COUNTER)) return 'replayed';
    const counter = Number(packet.counter);
    const epoch = Math.floor(counter / EPOCH_COUNTERS);
    if (epoch < this.highestEpoch - 1 || epoch > this.highestEpoch + 1) return 'replayed';
    let window = this.windows.get(epoch);
    if (window && !window.check(counter)) return 'replayed';
    const plain = aeadOpen(this.receiveKeys.get(epoch), counter, raw.subarray(0, 16), packet.ciphertext);
    if (plain === undefined) return 'forged';
    if (!window) {
      window = new ReplayWindow();
      this.windows.set(epoch, window);
    }
    window.mark(counter);
    if (epoch > this.highestEpoch) {
      this.highestEpoch = epoch;
      for (const e of this.windows.keys()) if (e < epoch - 1) this.windows.delete(e);
    }
    return plain;
  }

  send(payload, now, to = this.address) {
    const packet = this.seal(payload, now);
    if (packet) this.secure.transmit(packet, to);
    return packet;
  }

  // ---- roaming -------------------------------------------------------------------------------

  /**
   * An authentic packet of `length` bytes with `payload` came from `from` (PROTOCOL.md *Roaming*,
   * *Order*). Returns true if the payload is for the layers above (not a path packet).
   */
  roam(from, payload, length, now) {
    const isResponse = payload.length === 9 && payload[0] === 0x02;
    const isChallenge = payload.length === 9 && payload[0] === 0x01;
    if (isResponse) {
      this.takeResponse(from, payload.subarray(1), now);
      return false;
    }
    const fromChannel = sameAddress(from, this.address);
    let candidate;
    if (!fromChannel) {
      candidate = this.candidate(from, now);
      candidate.credit += length;
      candidate.lastHeard = now;
    }
    if (isChallenge) {
      const answer = Uint8Array.of(0x02, ...payload.subarray(1));
      if (fromChannel) this.send(answer, now);
      else if (this.pathPacketMayGo(candidate, now)) this.send(answer, now, from);
    }
    if (candidate && (candidate.challengedAt === undefined || now - candidate.challengedAt >= CHALLENGE_EVERY_MS)) {
      if (this.pathPacketMayGo(candidate, now)) {
        const token = new Uint8Array(crypto.randomBytes(8));
        candidate.challenge = token;
        candidate.challengedAt = now;
        this.secure.stats.pathChallengesSent++;
        this.send(Uint8Array.of(0x01, ...token), now, from);
      }
    }
    return !isChallenge;
  }

  candidate(from, now) {
    const key = addressKey(from);
    let c = this.candidates.get(key);
    if (c) return c;
    if (this.candidates.size >= MAX_CANDIDATES) {
      let oldest;
      for (const [k, x] of this.candidates) if (!oldest || x.lastHeard < oldest[1].lastHeard) oldest = [k, x];
      this.candidates.delete(oldest[0]);
    }
    c = { address: from, credit: 0, lastHeard: now, challenge: undefined, challengedAt: undefined };
    this.candidates.set(key, c);
    return c;
  }

  /** Credit first (no token spent), then the host's bucket, then the total bucket. */
  pathPacketMayGo(candidate, now) {
    if (candidate.credit < PATH_PACKET_BYTES) return false;
    if (!this.secure.hostPathBucket(candidate.address, now).take(now)) return false;
    if (!this.secure.totalPathBucket.take(now)) return false;
    candidate.credit -= PATH_PACKET_BYTES;
    return true;
  }

  takeResponse(from, token, now) {
    const c = this.candidates.get(addressKey(from));
    if (!c?.challenge || now - c.challengedAt > CHALLENGE_ANSWER_MS) return;
    if (!c.challenge.every((x, i) => x === token[i])) return;
    this.address = c.address;
    this.candidates.clear();
    this.secure.stats.pathMoves++;
    this.secure.hooks.channelMoved?.(this);
  }
}

export function makePathBuckets(now) {
  const hosts = new Map();
  return {
    hostPathBucket(address, at) {
      const key = hostKey(address);
      let b = hosts.get(key);
      if (!b) {
        b = new TokenBucket(10, 10, at);
        hosts.set(key, b);
      }
      return b;
    },
    totalPathBucket: new TokenBucket(1000, 1000, now),
  };
}

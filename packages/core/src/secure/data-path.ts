/**
 * The data path: seal and send, open and deliver. It is on the hot path of every message, so
 * it does one table lookup per packet and allocates nothing beyond the packet and its plaintext.
 */
import { type Address, sameAddress } from '../address.js';
import { MAGIC } from '../wire/header.js';
import { DATA_HEADER_BYTES } from '../wire/packets.js';
import { type Channel, OPEN_REPLAY } from './channel.js';
import type { ChannelRecord } from './channel-table.js';
import type { SecureContext } from './context.js';
import type { Initiator } from './initiator.js';
import { PATH_CHALLENGE, PATH_RESPONSE, PATH_TOKEN_BYTES, type PathValidation } from './path-validation.js';

/** Session messages held for a channel that is not open yet: the latest few (sessions retransmit). */
export const MAX_QUEUED = 8;
const SESSION_MESSAGE_FIRST_BYTE = MAGIC >> 8;

export class DataPath {
  constructor(
    private readonly ctx: SecureContext,
    private readonly initiator: Initiator,
    private readonly paths: PathValidation,
  ) {}

  /** Seals and sends `plaintext` on `channel`, or holds it (the latest MAX_QUEUED) until the channel opens. */
  send(channel: Channel, plaintext: Uint8Array, now: number): void {
    const record = this.ctx.channels.get(channel.id);
    if (record?.channel !== channel) return;
    if (channel.isOpen) {
      this.ctx.sink.transmit(channel.address, channel.seal(plaintext, now));
      return;
    }
    const queue = record.queued ?? [];
    queue.push(plaintext);
    if (queue.length > MAX_QUEUED) queue.shift();
    record.queued = queue;
  }

  /** Sends what waited for the channel to open. */
  flush(record: ChannelRecord, now: number): void {
    const queue = record.queued;
    record.queued = undefined;
    if (queue) for (const plaintext of queue) this.send(record.channel, plaintext, now);
  }

  onData(
    packet: { receiverIndex: number; counter: number; ciphertext: Uint8Array },
    bytes: Uint8Array,
    from: Address,
    now: number,
  ): void {
    const { ctx } = this;
    const record = ctx.channels.get(packet.receiverIndex);
    const channel = record?.channel;
    if (!record || !channel?.isOpen) {
      ctx.stats.unknownChannel++;
      return;
    }
    const plaintext = channel.openPayload(packet.counter, receivedHeader(bytes), packet.ciphertext);
    if (typeof plaintext === 'number') {
      if (plaintext === OPEN_REPLAY) ctx.stats.replayed++;
      else ctx.stats.forged++;
      return;
    }
    channel.lastReceivedAt = now;
    if (record.initiator !== undefined) this.initiator.confirmed(record);
    const first = plaintext[0];
    if (first === PATH_RESPONSE && plaintext.length === 1 + PATH_TOKEN_BYTES) {
      // Before any new challenge: the packet that answers one must not replace it.
      this.paths.onResponse(record, plaintext.subarray(1), from, now);
      return;
    }
    const candidate = sameAddress(from, channel.address)
      ? undefined
      : this.paths.heard(record, from, bytes.length, now);
    const isChallenge = first === PATH_CHALLENGE && plaintext.length === 1 + PATH_TOKEN_BYTES;
    // The answer before our own challenge: the peer is proving its path, and the credit this
    // packet brought pays for the answer first.
    if (isChallenge) this.paths.answer(record, plaintext, from, candidate, now);
    if (candidate) this.paths.challenge(record, candidate, now);
    if (plaintext.length === 0 || isChallenge) return; // a keepalive or confirmation; or answered
    if (first === SESSION_MESSAGE_FIRST_BYTE) ctx.sink.message(channel, plaintext, now);
    else ctx.stats.malformedPackets++;
  }
}

/** Reused for every packet opened: sodium reads it synchronously, and nothing keeps it. */
const openHeader = new Uint8Array(DATA_HEADER_BYTES);

/**
 * The packet's header as received (the associated data its seal covers), copied into a scratch
 * array: 16 byte copies cost less than a typed-array view of the packet, made for every packet.
 */
function receivedHeader(bytes: Uint8Array): Uint8Array {
  for (let i = 0; i < DATA_HEADER_BYTES; i++) openHeader[i] = bytes[i] as number;
  return openHeader;
}

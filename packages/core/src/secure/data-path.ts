/**
 * The data path: seal and send, open and deliver. It is on the hot path of every message, so
 * it does one table lookup per packet and allocates nothing beyond the packet (and the plaintext
 * of a packet that is not stream data: see OPEN_SCRATCH).
 */
import { type Address, sameAddress } from '../address.js';
import { allocate } from '../slab.js';
import { MAGIC, MAX_LARGE_DATAGRAM_BYTES, MESSAGE_VERSION } from '../wire/header.js';
import { DATA_HEADER_BYTES } from '../wire/packets.js';
import { StreamData } from '../wire/stream-messages.js';
import { type Channel, OPEN_REPLAY } from './channel.js';
import type { ChannelRecord } from './channel-table.js';
import { TAG_BYTES } from './crypto.js';
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
    const ciphertext = packet.ciphertext;
    const inScratch = ctx.sink.streamDataReadAtOnce === true;
    const opened = channel.openPayload(
      packet.counter,
      receivedHeader(bytes),
      ciphertext,
      inScratch ? openScratch(ciphertext.length - TAG_BYTES) : undefined,
    );
    if (typeof opened === 'number') {
      if (opened === OPEN_REPLAY) ctx.stats.replayed++;
      else ctx.stats.forged++;
      return;
    }
    const plaintext = !inScratch || isStreamData(opened) ? opened : ownCopy(opened);
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
    // Only the newest packet is followed (RFC 9000 §9.3 does the same): a straggler from the
    // address the peer left, overtaken by what it sent since, challenges nothing, or the answer
    // would move the channel back there.
    if (candidate && channel.lastOpenedNewest) this.paths.challenge(record, candidate, now);
    if (plaintext.length === 0 || isChallenge) return; // a keepalive or confirmation; or answered
    if (first === SESSION_MESSAGE_FIRST_BYTE) ctx.sink.message(channel, plaintext, now);
    else ctx.stats.malformedPackets++;
  }
}

/**
 * For a sink that reads stream data at once (SecureSink.streamDataReadAtOnce: the endpoint's),
 * every packet is opened into one scratch array (the engine is single-threaded). Stream data,
 * nearly every packet of a bulk transfer, is used from there: its payload is copied into its
 * stream before anything else is opened (nothing keeps a stream_data or its payload). Anything
 * else may be kept (a text fragment held out of order, a role's message) and gets a copy of its
 * own: `ownCopy`. The view is made again only when the size changes.
 */
const OPEN_SCRATCH = new Uint8Array(MAX_LARGE_DATAGRAM_BYTES);
let openView = OPEN_SCRATCH.subarray(0, 0);

function openScratch(length: number): Uint8Array {
  if (openView.length !== length) openView = OPEN_SCRATCH.subarray(0, length);
  return openView;
}

/** A session message of type stream_data (the header the codec checks again when it decodes it). */
function isStreamData(plaintext: Uint8Array): boolean {
  return (
    plaintext[3] === StreamData.code &&
    plaintext[2] === MESSAGE_VERSION &&
    plaintext[0] === MAGIC >> 8 &&
    plaintext[1] === (MAGIC & 0xff)
  );
}

function ownCopy(plaintext: Uint8Array): Uint8Array {
  const copy = allocate(plaintext.length);
  copy.set(plaintext);
  return copy;
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

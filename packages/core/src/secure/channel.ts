/**
 * One secure channel: the keys a completed Noise handshake gave two peers, and what sealing and
 * opening packets under them needs.
 *
 * Keys change without a message: the counter decides. Counter c is sealed under the key of
 * epoch floor(c / EPOCH_PACKETS), and each epoch's key is Noise REKEY of the one before. A sender
 * moves to the next epoch when an epoch's packets run out or REKEY_AFTER_MS has passed (it then
 * skips its counter to the next epoch's first value). A receiver keeps the keys of the highest
 * epoch it has authenticated and the one before (for late packets), and derives the next one on
 * demand, so at most one REKEY runs per packet.
 */
import type { Address } from '../address.js';
import { DATA_HEADER_BYTES, Data, PACKET_VERSION } from '../wire/packets.js';
import { allocate } from '../slab.js';
import { MAGIC } from '../wire/header.js';
import { open, rekey, sealInto, TAG_BYTES } from './crypto.js';
import { ReplayWindow } from './replay-window.js';

/** Packets sealed under one key. */
export const EPOCH_PACKETS = 2 ** 24;
/** The longest one key is used to seal. */
export const REKEY_AFTER_MS = 120_000;
/** Past this counter a channel is not used any more (a new handshake is needed); about 2^53. */
export const MAX_COUNTER = Number.MAX_SAFE_INTEGER - EPOCH_PACKETS;

export type OpenResult = { ok: true; plaintext: Uint8Array } | { ok: false; reason: OpenFailureReason };
export type OpenFailureReason = 'replay' | 'forged' | 'stale_epoch';

/** Why `openPayload` opened nothing: a number in the plaintext's place, so a packet costs no result object. */
export const OPEN_REPLAY = 0;
export const OPEN_FORGED = 1;
export const OPEN_STALE_EPOCH = 2;
export type OpenFailure = typeof OPEN_REPLAY | typeof OPEN_FORGED | typeof OPEN_STALE_EPOCH;
const FAILURE_REASONS: readonly OpenFailureReason[] = ['replay', 'forged', 'stale_epoch'];

export class Channel {
  remoteIndex = 0;
  remoteStatic: Uint8Array | undefined;
  /** Where packets go; moves only after the peer answered a challenge from the new address. */
  address: Address;
  lastReceivedAt: number;
  /**
   * Whether the packet opened last carried the highest counter opened on this channel so far.
   * Roaming follows only such a packet (PROTOCOL.md, Roaming): one sent before the peer moved and
   * overtaken on the way (through the relay, the slower path) must not send the channel back.
   */
  lastOpenedNewest = false;
  private highestOpened = -1;
  /** The round trip the handshake measured (ms); undefined until it completes. */
  handshakeRtt: number | undefined;
  private txKey: Uint8Array | undefined;
  private txEpoch = 0;
  private txEpochStartedAt = 0;
  private txCounter = 0;
  private readonly rxKeys = new Map<number, Uint8Array>();
  private rxEpoch = 0;
  /** A replay window per epoch (current and previous): a sender skips counters when it rekeys by time. */
  private readonly replay = new Map<number, ReplayWindow>([[0, new ReplayWindow()]]);
  /**
   * The current epoch's key and window, as held in `rxKeys` and `replay` (set wherever those
   * change for `rxEpoch`): nearly every packet is of the current epoch, and opens without a look-up.
   */
  private rxKey: Uint8Array | undefined;
  private rxWindow = this.replay.get(0) as ReplayWindow;

  constructor(
    /** Our index: the peer puts it in every packet for this channel. */
    readonly localIndex: number,
    address: Address,
    readonly initiator: boolean,
    now: number,
  ) {
    this.address = address;
    this.lastReceivedAt = now;
  }

  /** The id sessions know the channel by. */
  get id(): number {
    return this.localIndex;
  }

  get isOpen(): boolean {
    return this.txKey !== undefined;
  }

  /** Installs the transport keys of a completed handshake. */
  establish(
    remoteIndex: number,
    remoteStatic: Uint8Array,
    tx: Uint8Array,
    rx: Uint8Array,
    now: number,
  ): void {
    this.remoteIndex = remoteIndex;
    this.remoteStatic = remoteStatic;
    this.txKey = tx;
    this.txEpochStartedAt = now;
    this.rxKeys.set(0, rx);
    if (this.rxEpoch === 0) this.rxKey = rx;
  }

  /**
   * Forgets the keys of a handshake that is starting over (same channel, same id): until the
   * new one completes the channel is not open, and sends wait in its queue.
   */
  reset(): void {
    this.txKey = undefined;
    this.txEpoch = 0;
    this.txCounter = 0;
    this.rxKeys.clear();
    this.rxEpoch = 0;
    this.replay.clear();
    this.rxWindow = new ReplayWindow();
    this.replay.set(0, this.rxWindow);
    this.rxKey = undefined;
    this.highestOpened = -1;
    this.lastOpenedNewest = false;
  }

  /** A whole data packet carrying `plaintext`. */
  seal(plaintext: Uint8Array, now: number): Uint8Array {
    if (!this.txKey) throw new Error('channel is not open');
    const epochOver = now - this.txEpochStartedAt >= REKEY_AFTER_MS && this.txCounter % EPOCH_PACKETS !== 0;
    if (epochOver) this.txCounter = (Math.floor(this.txCounter / EPOCH_PACKETS) + 1) * EPOCH_PACKETS;
    const epoch = Math.floor(this.txCounter / EPOCH_PACKETS);
    while (this.txEpoch < epoch) {
      this.txKey = rekey(this.txKey);
      this.txEpoch++;
      this.txEpochStartedAt = now;
    }
    const counter = this.txCounter++;
    const packet = allocate(DATA_HEADER_BYTES + plaintext.length + TAG_BYTES);
    // The header is written once into a scratch array (the seal's associated data) and copied
    // to the packet: one typed-array view fewer per packet than taking it out of the packet.
    writeDataHeader(sealHeader, this.remoteIndex, counter);
    packet.set(sealHeader);
    sealInto(packet.subarray(DATA_HEADER_BYTES), this.txKey, counter, sealHeader, plaintext);
    return packet;
  }

  /** Opens a data packet's ciphertext; `header` is the packet's first DATA_HEADER_BYTES. */
  open(counter: number, header: Uint8Array, ciphertext: Uint8Array): OpenResult {
    const opened = this.openPayload(counter, header, ciphertext);
    return typeof opened === 'number'
      ? { ok: false, reason: FAILURE_REASONS[opened] as OpenFailureReason }
      : { ok: true, plaintext: opened };
  }

  /**
   * As `open`, for the data path: the plaintext (in `into` if given: crypto.ts's `open`), or why
   * there is none (an OpenFailure).
   */
  openPayload(
    counter: number,
    header: Uint8Array,
    ciphertext: Uint8Array,
    into?: Uint8Array,
  ): Uint8Array | OpenFailure {
    const epoch = Math.floor(counter / EPOCH_PACKETS);
    const currentKey = this.rxKey;
    if (epoch === this.rxEpoch && currentKey !== undefined) {
      const window = this.rxWindow;
      if (!window.mayAccept(counter)) return OPEN_REPLAY;
      const plaintext = open(currentKey, counter, header, ciphertext, into);
      if (!plaintext) return OPEN_FORGED;
      window.mark(counter);
      this.noteOpened(counter);
      return plaintext;
    }
    if (epoch < this.rxEpoch - 1 || epoch > this.rxEpoch + 1) return OPEN_STALE_EPOCH;
    const known = this.replay.get(epoch);
    const window = known ?? new ReplayWindow();
    if (!window.mayAccept(counter)) return OPEN_REPLAY;
    const current = this.rxKeys.get(this.rxEpoch) as Uint8Array;
    const key = epoch === this.rxEpoch + 1 ? rekey(current) : this.rxKeys.get(epoch);
    if (!key) return OPEN_STALE_EPOCH;
    const plaintext = open(key, counter, header, ciphertext, into);
    if (!plaintext) return OPEN_FORGED;
    window.mark(counter);
    if (!known) this.replay.set(epoch, window);
    if (epoch > this.rxEpoch) {
      this.rxKeys.set(epoch, key);
      this.rxKeys.delete(this.rxEpoch - 1);
      this.replay.delete(this.rxEpoch - 1);
      this.rxEpoch = epoch;
      this.rxKey = key;
      this.rxWindow = window;
    }
    this.noteOpened(counter);
    return plaintext;
  }

  private noteOpened(counter: number): void {
    this.lastOpenedNewest = counter > this.highestOpened;
    if (this.lastOpenedNewest) this.highestOpened = counter;
  }

  /** For tests and the rekey limit: the next counter this channel will seal with. */
  get sendCounter(): number {
    return this.txCounter;
  }
}

/** Reused by every seal: sodium reads it synchronously, and nothing keeps it. */
const sealHeader = new Uint8Array(DATA_HEADER_BYTES);

/** Magic, version 2, type 5 (data), receiver index, counter: the associated data of the seal. */
export function dataHeader(receiverIndex: number, counter: number): Uint8Array {
  const header = new Uint8Array(DATA_HEADER_BYTES);
  writeDataHeader(header, receiverIndex, counter);
  return header;
}

/** Writes the data header at the start of `packet`, byte by byte (a DataView per packet costs more). */
function writeDataHeader(packet: Uint8Array, receiverIndex: number, counter: number): void {
  packet[0] = MAGIC >>> 8;
  packet[1] = MAGIC & 0xff;
  packet[2] = PACKET_VERSION;
  packet[3] = Data.code;
  writeU32(packet, 4, receiverIndex);
  writeU32(packet, 8, Math.floor(counter / 2 ** 32));
  writeU32(packet, 12, counter);
}

/** Big-endian. */
function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = value >>> 16;
  bytes[offset + 2] = value >>> 8;
  bytes[offset + 3] = value;
}

/**
 * One record per channel, and one per half-done responder handshake, each with its indexes
 * (as quinn's endpoint keeps `connections` and a `ConnectionIndex`). Adding or forgetting a
 * channel touches its record and its index entries here, in one place; no two maps hold pieces
 * of the same thing.
 */
import type NoiseState from 'noise-handshake';
import type { Address } from '../address.js';
import type { Channel } from './channel.js';
import type { LivenessCheck } from './liveness-check.js';
import { ChannelTimers } from './timers.js';

/** An initiator's handshake in progress; dropped once the responder confirmed it. */
export interface InitiatorHandshake {
  noise: NoiseState;
  /** Noise message 1 of the current attempt (a restart makes a new one). */
  message1: Uint8Array;
  /** The responder's cookie, zeros until it sent one. */
  cookie: Uint8Array;
  /** The encoded handshake_final, once message 2 was read. */
  final: Uint8Array | undefined;
  /** The init backoff: the next resend waits this long. */
  initDelay: number;
  /** When the latest init went out: message 2 answers it (the handshake's round trip). */
  initSentAt: number;
}

/**
 * An address other than the channel's that authentic packets came from: a path the peer may
 * have moved to, not proven yet (see path-validation.ts).
 */
export interface PathCandidate {
  readonly address: Address;
  /** Bytes of authentic packets from there not yet spent on packets sent there (the anti-amplification credit). */
  credit: number;
  /** When a packet from there last arrived: a new candidate replaces the one heard from longest ago. */
  heardAt: number;
  /** The outstanding challenge, if one was sent: the peer must echo `token` from `address`. */
  token: Uint8Array | undefined;
  /** When that challenge went. */
  sentAt: number | undefined;
  /** We challenged it unasked (a relayed peer's public address): see PathValidation.probe. */
  probed?: boolean;
}

export interface ChannelRecord {
  readonly kind: 'channel';
  readonly channel: Channel;
  /** Present while our handshake as initiator is unconfirmed. */
  initiator: InitiatorHandshake | undefined;
  /** Session messages sent before the channel opened (the latest MAX_QUEUED). */
  queued: Uint8Array[] | undefined;
  /** Candidate paths, one per address, at most MAX_PATH_CANDIDATES; dropped when the channel moves. */
  paths: PathCandidate[] | undefined;
  /** Set while no session uses the channel. */
  unusedSince: number | undefined;
  /** A check that the peer still holds the channel, while one is under way (liveness-check.ts). */
  livenessCheck?: LivenessCheck;
  readonly timers: ChannelTimers;
  /** The deadline last queued for this record, so an unchanged one is not queued twice. */
  scheduledAt: number | undefined;
}

export function newChannelRecord(channel: Channel): ChannelRecord {
  return {
    kind: 'channel',
    channel,
    initiator: undefined,
    queued: undefined,
    paths: undefined,
    unusedSince: undefined,
    timers: new ChannelTimers(),
    scheduledAt: undefined,
  };
}

export class ChannelTable {
  private readonly byId = new Map<number, ChannelRecord>();
  /** Records no session uses, released longest ago first: what eviction takes. */
  private readonly unused = new Map<number, ChannelRecord>();

  get(id: number): ChannelRecord | undefined {
    return this.byId.get(id);
  }

  has(id: number): boolean {
    return this.byId.has(id);
  }

  /** Whether `record` is still the table's (a closed channel's timers are stale). */
  holds(record: ChannelRecord): boolean {
    return this.byId.get(record.channel.id) === record;
  }

  add(record: ChannelRecord): void {
    this.byId.set(record.channel.id, record);
    if (record.unusedSince !== undefined) this.unused.set(record.channel.id, record);
  }

  remove(record: ChannelRecord): void {
    if (!this.holds(record)) return;
    this.byId.delete(record.channel.id);
    this.unused.delete(record.channel.id);
  }

  /** No session uses the channel since `now` (it moves to the back of the eviction order). */
  markUnused(record: ChannelRecord, now: number): void {
    record.unusedSince = now;
    if (!this.holds(record)) return;
    this.unused.delete(record.channel.id);
    this.unused.set(record.channel.id, record);
  }

  markUsed(record: ChannelRecord): void {
    record.unusedSince = undefined;
    this.unused.delete(record.channel.id);
  }

  /** The channel no session has used for longest, if any. */
  leastRecentlyUsed(): ChannelRecord | undefined {
    return this.unused.values().next().value;
  }

  get size(): number {
    return this.byId.size;
  }

  get unusedCount(): number {
    return this.unused.size;
  }
}

/** A responder's half-done handshake: message 2 sent, message 3 awaited. */
export interface PendingHandshake {
  readonly kind: 'pending';
  /** `${address}/${their index}`: a repeated init finds it by this. */
  readonly key: string;
  readonly noise: NoiseState;
  readonly localIndex: number;
  readonly remoteIndex: number;
  readonly address: Address;
  /** The init's Noise message 1: the same one again is a resend, another one a new attempt. */
  readonly message1: Uint8Array;
  readonly response: Uint8Array;
  /** When message 2 last went out: message 3 answers it (the handshake's round trip). */
  sentAt: number;
  readonly expiresAt: number;
  scheduledAt: number | undefined;
}

export class PendingTable {
  /** Insertion order is age: the first is the oldest, evicted first. */
  private readonly byKey = new Map<string, PendingHandshake>();
  private readonly byIndex = new Map<number, PendingHandshake>();

  get(key: string): PendingHandshake | undefined {
    return this.byKey.get(key);
  }

  byLocalIndex(index: number): PendingHandshake | undefined {
    return this.byIndex.get(index);
  }

  hasIndex(index: number): boolean {
    return this.byIndex.has(index);
  }

  holds(pending: PendingHandshake): boolean {
    return this.byIndex.get(pending.localIndex) === pending;
  }

  add(pending: PendingHandshake): void {
    this.remove(this.byKey.get(pending.key));
    this.byKey.set(pending.key, pending);
    this.byIndex.set(pending.localIndex, pending);
  }

  remove(pending: PendingHandshake | undefined): void {
    if (!pending || !this.holds(pending)) return;
    this.byKey.delete(pending.key);
    this.byIndex.delete(pending.localIndex);
  }

  oldest(): PendingHandshake | undefined {
    return this.byKey.values().next().value;
  }

  get size(): number {
    return this.byKey.size;
  }
}

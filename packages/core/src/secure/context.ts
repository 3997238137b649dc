/**
 * What the parts of the secure layer (initiator, responder, path validation, data path) share:
 * the tables, the options, the counters, and the few operations that touch a channel's whole
 * record. SecureTransport owns it and routes packets and timers to the parts.
 */
import type { Channel } from './channel.js';
import type { ChannelRecord, ChannelTable, PendingHandshake, PendingTable } from './channel-table.js';
import type { KeyPair } from './crypto.js';
import type { SecureOptions, SecureSink, SecureStats } from './secure-options.js';

export interface SecureContext {
  readonly identity: KeyPair;
  readonly sink: SecureSink;
  readonly options: SecureOptions;
  readonly random: (length: number) => Uint8Array;
  readonly stats: SecureStats;
  readonly channels: ChannelTable;
  readonly pending: PendingTable;
  /** Queues the record's next deadline (call after changing its timers). */
  schedule(item: ChannelRecord | PendingHandshake): void;
  /** A random non-zero index no channel or half-done handshake of ours uses. */
  newIndex(): number;
  /** Closes unused channels, least recently used first, until one more fits; false if none can go. */
  makeRoom(): boolean;
  /** Forgets a channel and everything about it. */
  close(record: ChannelRecord): void;
  /** No session uses the channel any more: it closes after unusedChannelTtl unless one takes it. */
  releaseRecord(record: ChannelRecord, now: number): void;
  /** The handshake completed: tell the sink, then send what waited for the channel. */
  opened(record: ChannelRecord, now: number): void;
  /** Seals and sends on an open channel. */
  sendSealed(channel: Channel, plaintext: Uint8Array, now: number): void;
}

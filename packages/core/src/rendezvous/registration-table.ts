/**
 * The rendezvous's registrations: one record per registered client, and the indexes that find
 * a record (by fingerprint, by relay tag, by channel). As the session table does for sessions,
 * adding or forgetting a registration touches its record and every index entry here, in one
 * place, and whoever keeps something per registration (the relay: pairs, budgets) is told in
 * the same call. Nothing else holds a registration, so nothing outlives its record.
 */
import type { AcceptFrom } from './messages.js';

export interface Registration {
  /** The channel it was made on; it lives while that channel carries an open session. */
  readonly channelId: number;
  readonly key: Uint8Array;
  /** The key as hex: what `listed` holds, and what other registrations list. */
  readonly keyHex: string;
  readonly fingerprint: string;
  /** Whom it accepts introductions from (a `register` again may change it). */
  acceptFrom: AcceptFrom;
  listed: ReadonlySet<string>;
  /** Its number in relay packets: random, non-zero, no other record's (PROTOCOL.md, "Relay"). */
  readonly tag: number;
  /** Authenticates its relay packets, both ways; given to the client in `registered`. */
  readonly relayKey: Uint8Array;
}

export class RegistrationTable {
  private readonly byFingerprint = new Map<string, Registration>();
  private readonly byTag = new Map<number, Registration>();
  private readonly byChannel = new Map<number, Registration>();
  private readonly removedListeners: ((record: Registration) => void)[] = [];

  get size(): number {
    return this.byFingerprint.size;
  }

  /** The index sizes, for tests and benchmarks: after churn they are back to the record count. */
  get indexSizes(): { byFingerprint: number; byTag: number; byChannel: number } {
    return {
      byFingerprint: this.byFingerprint.size,
      byTag: this.byTag.size,
      byChannel: this.byChannel.size,
    };
  }

  byFingerprintText(fingerprint: string): Registration | undefined {
    return this.byFingerprint.get(fingerprint);
  }

  withTag(tag: number): Registration | undefined {
    return this.byTag.get(tag);
  }

  onChannel(channelId: number): Registration | undefined {
    return this.byChannel.get(channelId);
  }

  hasTag(tag: number): boolean {
    return this.byTag.has(tag);
  }

  /** Calls `listener` with each record as it is forgotten (after its index entries are gone). */
  onRemoved(listener: (record: Registration) => void): void {
    this.removedListeners.push(listener);
  }

  /**
   * Files a new record. A record of the same key, or on the same channel, is forgotten first:
   * a key is registered once, on the channel it registered from last.
   */
  add(record: Registration): void {
    const sameKey = this.byFingerprint.get(record.fingerprint);
    if (sameKey) this.remove(sameKey);
    const sameChannel = this.byChannel.get(record.channelId);
    if (sameChannel) this.remove(sameChannel);
    this.byFingerprint.set(record.fingerprint, record);
    this.byTag.set(record.tag, record);
    this.byChannel.set(record.channelId, record);
  }

  /** Forgets a record and every index entry of it; then tells the listeners. */
  remove(record: Registration): void {
    if (this.byFingerprint.get(record.fingerprint) !== record) return;
    this.byFingerprint.delete(record.fingerprint);
    this.byTag.delete(record.tag);
    this.byChannel.delete(record.channelId);
    for (const listener of this.removedListeners) listener(record);
  }
}

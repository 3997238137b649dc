/**
 * Every session an endpoint holds, one record each, and the indexes that find a record: by local
 * id, by (channel, wire id), by the peer address the session was made for, by the peer's static
 * key (to notice a peer that restarted), and a peer's unanswered request by its source host. As
 * in quinn's `ConnectionIndex`, adding or forgetting a session touches its record and its index
 * entries here, in one place; no two maps
 * hold pieces of the same thing, and whatever can be derived from a session's state (is it our
 * request? is it waiting for an answer?) is derived, not stored beside it.
 */
import { formatAddress } from './address.js';
import type { SessionId } from './events.js';
import type { Path } from './path/path.js';
import type { Channel } from './secure/channel.js';
import { toHex } from './secure/crypto.js';
import type { Session } from './session/session.js';

export interface SessionRecord {
  readonly session: Session;
  /**
   * The peer address the session was made for. It stays the record's key in the peer index
   * even when the peer roams, so the record is always found again where it was filed.
   */
  readonly peerKey: string;
  /** The channel the session speaks over now (it changes when a simultaneous open is resolved). */
  channel: ChannelRecord;
  /**
   * The deadline the endpoint filed this record under in its deadline queue (the queue skips
   * entries that no longer match it); undefined when none is filed. A field, not a map beside
   * the table: the endpoint reads and writes it on every datagram.
   */
  scheduledAt: number | undefined;
  /** The source host a peer's request was filed under (waitingRequests), until it is answered. */
  requestHost?: string | undefined;
}

/** A channel that carries sessions. A channel with none is not here: the secure layer ages it out. */
export interface ChannelRecord {
  readonly channel: Channel;
  /** Its sessions by wire id. */
  readonly sessions: Map<number, SessionRecord>;
  /** The peer's static key (hex) under which the record is filed, once the handshake proved it. */
  staticKey: string | undefined;
  /**
   * The channel's path (congestion control, pacing and the stream packets of all its sessions),
   * made by EndpointStreams when a session first uses streams; it goes with the record.
   */
  path: Path | undefined;
}

export class SessionTable {
  /** `retirePath`: told when a channel's record (and so its path) goes away. */
  constructor(private readonly retirePath: (path: Path) => void = () => {}) {}

  private readonly byId = new Map<SessionId, SessionRecord>();
  private readonly byChannel = new Map<number, ChannelRecord>();
  private readonly byPeer = new Map<string, Set<SessionRecord>>();
  private readonly byStaticKey = new Map<string, Set<ChannelRecord>>();
  /** Peers' requests by source host, waiting for the application's answer (answered ones leave as they are met). */
  private readonly requestsByHost = new Map<string, Set<SessionRecord>>();

  get size(): number {
    return this.byId.size;
  }

  get(id: SessionId): SessionRecord | undefined {
    return this.byId.get(id);
  }

  sessions(): IterableIterator<SessionRecord> {
    return this.byId.values();
  }

  /** The session a message on `channel` with wire id `wireId` belongs to. */
  route(channelId: number, wireId: number): SessionRecord | undefined {
    return this.byChannel.get(channelId)?.sessions.get(wireId);
  }

  channel(channelId: number): ChannelRecord | undefined {
    return this.byChannel.get(channelId);
  }

  /** Sessions made for the peer at `peerKey` (formatAddress of its address then). */
  ofPeer(peerKey: string): ReadonlySet<SessionRecord> {
    return this.byPeer.get(peerKey) ?? EMPTY;
  }

  /** Channels with sessions whose peer proved the static key `staticKey` (hex). */
  withStaticKey(staticKey: string): ReadonlySet<ChannelRecord> {
    return this.byStaticKey.get(staticKey) ?? EMPTY;
  }

  add(session: Session, channel: Channel): SessionRecord {
    const record: SessionRecord = {
      session,
      peerKey: formatAddress(session.peer),
      channel: this.channelRecord(channel),
      scheduledAt: undefined,
    };
    this.byId.set(session.id, record);
    record.channel.sessions.set(session.wireId, record);
    const peers = this.byPeer.get(record.peerKey) ?? new Set<SessionRecord>();
    this.byPeer.set(record.peerKey, peers.add(record));
    return record;
  }

  /**
   * Re-files a session under its current channel and wire id (after a simultaneous open changed
   * them). Returns the channel it left if no session uses that channel any more.
   */
  rebind(record: SessionRecord, channel: Channel): Channel | undefined {
    const left = this.unfile(record);
    record.channel = this.channelRecord(channel);
    record.channel.sessions.set(record.session.wireId, record);
    return left === channel ? undefined : left;
  }

  /** Files a peer's request under its source host (a limit's `hostKey`), until it is answered. */
  fileRequest(record: SessionRecord, host: string): void {
    record.requestHost = host;
    const set = this.requestsByHost.get(host) ?? new Set<SessionRecord>();
    this.requestsByHost.set(host, set.add(record));
  }

  /**
   * The requests from `host` still waiting for an answer. Those answered since are unfiled here, as
   * they are met: each at most once, so a host's count costs what it holds, never the whole table.
   */
  waitingRequests(host: string): number {
    const set = this.requestsByHost.get(host);
    if (!set) return 0;
    for (const r of set) if (r.session.state !== 'requested') this.unfileRequest(r);
    return set.size;
  }

  /** Forgets a session. Returns its channel if no session uses that channel any more. */
  remove(record: SessionRecord): Channel | undefined {
    if (this.byId.get(record.session.id) !== record) return undefined;
    this.byId.delete(record.session.id);
    this.unfileRequest(record);
    const peers = this.byPeer.get(record.peerKey);
    peers?.delete(record);
    if (peers?.size === 0) this.byPeer.delete(record.peerKey);
    return this.unfile(record);
  }

  /** Files a channel under its peer's static key, once its handshake has proved it. */
  proved(channelId: number): void {
    const record = this.byChannel.get(channelId);
    const key = record?.channel.remoteStatic;
    if (!record || !key || record.staticKey !== undefined) return;
    record.staticKey = toHex(key);
    const set = this.byStaticKey.get(record.staticKey) ?? new Set<ChannelRecord>();
    this.byStaticKey.set(record.staticKey, set.add(record));
  }

  private channelRecord(channel: Channel): ChannelRecord {
    let record = this.byChannel.get(channel.id);
    if (!record) {
      record = { channel, sessions: new Map(), staticKey: undefined, path: undefined };
      this.byChannel.set(channel.id, record);
      this.proved(channel.id);
    }
    return record;
  }

  private unfileRequest(record: SessionRecord): void {
    const host = record.requestHost;
    if (host === undefined) return;
    record.requestHost = undefined;
    const set = this.requestsByHost.get(host);
    set?.delete(record);
    if (set?.size === 0) this.requestsByHost.delete(host);
  }

  /** Takes a session out of its channel's record; drops the record when it empties. */
  private unfile(record: SessionRecord): Channel | undefined {
    const channel = record.channel;
    if (channel.sessions.get(record.session.wireId) === record)
      channel.sessions.delete(record.session.wireId);
    else {
      // The wire id changed since it was filed (simultaneous open): find it by value.
      for (const [wireId, r] of channel.sessions) if (r === record) channel.sessions.delete(wireId);
    }
    if (channel.sessions.size > 0) return undefined;
    this.byChannel.delete(channel.channel.id);
    if (channel.path) this.retirePath(channel.path);
    if (channel.staticKey !== undefined) {
      const set = this.byStaticKey.get(channel.staticKey);
      set?.delete(channel);
      if (set?.size === 0) this.byStaticKey.delete(channel.staticKey);
    }
    return channel.channel;
  }
}

const EMPTY: ReadonlySet<never> = new Set();

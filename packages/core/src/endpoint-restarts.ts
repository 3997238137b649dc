/**
 * Restarts and probes: what a handshake tells the endpoint about the sessions it already has.
 *
 * One channel per peer address: our own second session to a peer reuses the channel the first
 * one speaks over (endpoint-admission.ts), and so does every peer that follows PROTOCOL.md. So
 * when a handshake proves a key that already has sessions on another channel, the peer has lost
 * that channel: from the same address it restarted (its old sessions end at once, `closed` with
 * reason `peer_restarted`; only the key's holder can cause this, as WireGuard replaces a session
 * when the same static key handshakes again); from another address it may be a restart on a new
 * port or a second device, so the old sessions are probed at once instead of waiting out the
 * heartbeats. And a session that ended by silence (`lost`) leaves its channel suspect: requests
 * of ours still waiting on it move to a new handshake.
 */
import { sameAddress } from './address.js';
import type { EndpointStats } from './endpoint-stats.js';
import type { Channel } from './secure/channel.js';
import { toHex } from './secure/crypto.js';
import type { SecureTransport } from './secure/secure-transport.js';
import type { ChannelRecord, SessionRecord, SessionTable } from './session-table.js';

/** What restarts need of the endpoint. */
export interface RestartsHost {
  readonly table: SessionTable;
  readonly secure: SecureTransport;
  readonly stats: EndpointStats;
  /** The latest time any call brought. */
  now(): number;
  settle(record: SessionRecord): void;
}

export class PeerRestarts {
  /** Records that ended by silence (`lost`): their channel is suspect. */
  private readonly lost = new WeakSet<SessionRecord>();

  constructor(private readonly host: RestartsHost) {}

  /** A session ended by silence: if it leaves only our requests on its channel, they move. */
  markLost(record: SessionRecord): void {
    this.lost.add(record);
  }

  /** A handshake completed (or completed again after a restart of it): its requests can go. */
  channelOpened(channel: Channel, now: number): void {
    const { table } = this.host;
    table.proved(channel.id);
    this.retireOlderChannels(channel, now);
    const record = table.channel(channel.id);
    if (!record) return;
    for (const r of [...record.sessions.values()]) {
      r.session.routeOpened(now);
      this.host.settle(r);
    }
  }

  /**
   * Probes the open sessions on a channel: each must hear from its peer within a round trip or
   * two. Returns how many were probed.
   */
  probeChannel(record: ChannelRecord | undefined, now: number): number {
    if (!record) return 0;
    let probed = 0;
    for (const r of [...record.sessions.values()]) {
      if (r.session.state === 'connecting' || r.session.state === 'requested') continue;
      r.session.probe(now);
      this.host.stats.probed++;
      probed++;
      this.host.settle(r);
    }
    return probed;
  }

  /**
   * A channel that carried only our requests answered none of the secure layer's challenges
   * (liveness-check.ts): the peer lost it, so the requests move to a new handshake rather than
   * wait out the connect timeout.
   */
  channelSilent(channel: Channel): void {
    const record = this.host.table.channel(channel.id);
    if (record?.channel === channel) this.rehandshakeWaiting(record);
  }

  /**
   * A session was forgotten while others still use its channel. If it was lost, the channel
   * itself may be gone at the peer (it restarted); if it closed cleanly, the peer closes the
   * channel at once unless our request reached it first (PROTOCOL.md, Channels). Either way, if
   * only our requests are left on it, they move to a new handshake, so they do not wait out the
   * connect timeout on a dead channel.
   */
  forgotten(record: SessionRecord, channel: ChannelRecord): void {
    if (this.lost.has(record) || record.session.endedCleanly) this.rehandshakeWaiting(channel);
  }

  /**
   * `fresh` proved a peer's key. Sessions with that key on any other channel speak over a
   * channel the peer no longer has: from the same address the peer restarted, so they end now;
   * from another address they are probed. Our own requests still waiting are left alone: a
   * simultaneous open looks the same, and the request resolves it.
   */
  private retireOlderChannels(fresh: Channel, now: number): void {
    const key = fresh.remoteStatic;
    if (!key) return;
    for (const older of [...this.host.table.withStaticKey(toHex(key))]) {
      if (older.channel.id === fresh.id) continue;
      const restarted = sameAddress(older.channel.address, fresh.address);
      if (!restarted) {
        this.probeChannel(older, now);
        continue;
      }
      for (const r of [...older.sessions.values()]) {
        if (r.session.state === 'connecting') continue;
        r.session.supersede(now);
        this.host.stats.superseded++;
        this.host.settle(r);
      }
    }
  }

  private rehandshakeWaiting(channel: ChannelRecord): void {
    const waiting = [...channel.sessions.values()];
    if (waiting.some((r) => r.session.state !== 'connecting')) return;
    const { secure, table } = this.host;
    const now = this.host.now();
    const fresh = secure.connect(channel.channel.address, now);
    for (const r of waiting) {
      r.session.rerouted(fresh);
      const left = table.rebind(r, fresh);
      if (left) secure.release(left, now);
    }
    secure.retain(fresh);
  }
}

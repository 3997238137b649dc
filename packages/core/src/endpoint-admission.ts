/**
 * Admission: how a session comes to be, ours (`connect`) or a peer's (a `connect_request` for a
 * session we do not have), and the limits on both.
 *
 * - Simultaneous open. Two peers that ask each other at once must agree on one session: our
 *   `connect` to a peer whose request waits accepts that request instead, and a request that
 *   meets ours still connecting is resolved by the session ids, the larger winning on both sides.
 * - One channel per peer address. A new session to a peer shares the channel a live chat with it
 *   already uses (probed first, since the peer may have lost it), so a restart is told apart from
 *   a second device by the channel (endpoint-restarts.ts).
 * - Limits. `maxSessions` in all (a rendezvous role's own sessions do not count) and
 *   `maxSessionsPerPeer` live ones per peer address: our `connect` past them throws
 *   TOO_MANY_SESSIONS, a peer's request is declined `too_many_sessions`, and nothing is kept;
 *   so is a request past `maxRequestsPerHost` waiting ones from its host.
 */
import { type Address, formatAddress, sameAddress } from './address.js';
import type { EndpointStats } from './endpoint-stats.js';
import { errors } from './errors.js';
import type { SessionId } from './events.js';
import type { EndpointOptions } from './options.js';
import type { Channel } from './secure/channel.js';
import { askerHost } from './secure/host-key.js';
import type { SecureTransport } from './secure/secure-transport.js';
import { Session, type SessionContext } from './session/session.js';
import type { ChannelRecord, SessionRecord, SessionTable } from './session-table.js';
import type { EndpointStreams } from './streams/endpoint-streams.js';
import type { ConnectRequest, Datagram } from './wire/messages.js';

/** What admission needs of the endpoint. */
export interface AdmissionHost {
  readonly options: EndpointOptions;
  readonly context: SessionContext;
  readonly randomU32: () => number;
  readonly table: SessionTable;
  readonly secure: SecureTransport;
  readonly streams: EndpointStreams;
  readonly stats: EndpointStats;
  settle(record: SessionRecord): void;
  /** Seals a session message on a channel (the decline of a request over the limits). */
  send(channel: Channel, datagram: Datagram): void;
  /**
   * Probes the open sessions on a channel we are about to rely on, or, if it carries none (our
   * own requests only), the channel itself.
   */
  probeChannel(record: ChannelRecord | undefined, now: number): void;
  /** How many sessions a rendezvous role holds itself (they do not count toward maxSessions). */
  roleSessions(): number;
}

export class Admission {
  /** The local id of the next session made (ids are never reused). */
  private nextId = 1;

  constructor(private readonly host: AdmissionHost) {}

  /** The id the next session made will have. */
  get nextSessionId(): SessionId {
    return this.nextId;
  }

  /** Sessions that count toward maxSessions: every one but a rendezvous role's own. */
  get applicationSessions(): number {
    return this.host.table.size - this.host.roleSessions();
  }

  /**
   * Our request to `peer`: a handshake first (unless a channel to that address is already in
   * use), then the request. If that peer is already asking us, its request is accepted instead.
   */
  connect(peer: Address, now: number): SessionId {
    const { host } = this;
    const waiting = this.find(formatAddress(peer), (s) => s.state === 'requested');
    if (waiting) {
      waiting.session.acceptAsConnect(now);
      host.settle(waiting);
      return waiting.session.id;
    }
    if (this.applicationSessions >= host.options.maxSessions)
      throw errors.tooManySessions(host.options.maxSessions);
    const reused = this.channelInUse(peer);
    const channel = reused?.channel ?? host.secure.connect(peer, now);
    const session = Session.outgoing(host.context, this.nextId++, this.freeWireId(channel.id), channel, now);
    const record = this.register(session, channel);
    if (reused && !reused.handshaking) {
      // The channel may have died with a peer that restarted: prove it alive before relying on it.
      // Dead, its requests (this one too) move to a new handshake (endpoint-restarts.ts).
      host.probeChannel(host.table.channel(channel.id), now);
      session.routeOpened(now);
    }
    host.settle(record);
    return session.id;
  }

  /**
   * A random session id that no session on the channel has, whichever side picked it: a message
   * names its session by (channel, id) alone, so a second session under a taken id would take the
   * first one's messages (PROTOCOL.md, Session messages). A clash is a 2^-32 chance a pick.
   */
  private freeWireId(channelId: number): number {
    const taken = this.host.table.channel(channelId)?.sessions;
    let id = this.host.randomU32();
    if (!taken) return id;
    // Random picks first; should randomness repeat itself (an injected source), the next free id
    // after the last pick: at most taken.size steps, as a channel holds that many ids.
    for (let tries = 0; tries < 16 && taken.has(id); tries++) id = this.host.randomU32();
    for (let steps = 0; steps <= taken.size && taken.has(id); steps++) id = (id + 1) >>> 0;
    return id;
  }

  /** A `connect_request` for a session we do not have. */
  onRequest(request: ConnectRequest, channel: Channel, now: number): void {
    const { host } = this;
    const peerKey = formatAddress(channel.address);
    const ours = this.find(peerKey, (s) => s.state === 'connecting');
    if (ours) {
      // Both asked at once. The larger id wins on both sides, so they agree on one session.
      if (request.session < ours.session.wireId) return;
      if (request.session === ours.session.wireId) return; // cannot tell the two apart; both will time out
      const held = host.streams.takeFeatures(channel.id, request.session);
      if (held) ours.session.handle(held, now);
      ours.session.adoptPeerRequest(request, channel, now);
      const left = host.table.rebind(ours, channel);
      if (left) host.secure.release(left, now);
      host.secure.retain(channel);
      host.settle(ours);
      return;
    }
    const from = requestHost(channel.address);
    if (this.overLimit(peerKey) || this.hostAsksTooMuch(from)) {
      host.stats.refusedOverLimit++;
      host.send(channel, {
        type: 'decline',
        session: request.session,
        reason: 'too_many_sessions',
        detail: '',
      });
      return;
    }
    const session = Session.incoming(host.context, this.nextId++, request, channel, now);
    // The peer's `features` came just before its request (PROTOCOL.md, Capabilities).
    const held = host.streams.takeFeatures(channel.id, request.session);
    if (held) session.handle(held, now);
    const record = this.register(session, channel);
    host.table.fileRequest(record, from);
    host.settle(record);
  }

  /** Past maxSessions, or maxSessionsPerPeer live sessions with this peer (declined ones draining do not count). */
  private overLimit(peerKey: string): boolean {
    const { maxSessions, maxSessionsPerPeer } = this.host.options;
    if (this.applicationSessions >= maxSessions) return true;
    let counted = 0;
    for (const r of this.host.table.ofPeer(peerKey)) if (r.session.countsTowardPeerLimit) counted++;
    return counted >= maxSessionsPerPeer;
  }

  /** `maxRequestsPerHost` requests from `host` (requestHost) wait for the application's answer already. */
  private hostAsksTooMuch(host: string): boolean {
    return this.host.table.waitingRequests(host) >= this.host.options.maxRequestsPerHost;
  }

  /**
   * An open channel to `peer` that a live chat, or our own unanswered request, uses, if any: new
   * sessions to that address share it (PROTOCOL.md, Channels, restarts and limits). Those can be
   * probed, so a channel the peer lost is found out at once. A channel that carries only closing
   * sessions or the peer's requests may be dead already, so a new handshake is made instead (at
   * the peer it supersedes only those).
   */
  private channelInUse(peer: Address): { channel: Channel; handshaking: boolean } | undefined {
    for (const r of this.host.table.ofPeer(formatAddress(peer))) {
      const channel = r.channel.channel;
      if (!sameAddress(channel.address, peer)) continue;
      // Our own handshake still under way: the request waits for it like the first one does.
      if (!channel.isOpen && channel.initiator) return { channel, handshaking: true };
      // Our own request on an open channel counts too: a second handshake with the address would
      // prove our key again from there, which the peer must take for a restart (PROTOCOL.md,
      // Channels, restarts and limits) and end the first request, or the session it became.
      const live =
        r.session.state === 'open' || r.session.state === 'lingering' || r.session.state === 'connecting';
      if (live && channel.isOpen) return { channel, handshaking: false };
    }
    return undefined;
  }

  /** A session made for `peerKey` in the state `wanted` picks. */
  private find(peerKey: string, wanted: (session: Session) => boolean): SessionRecord | undefined {
    for (const r of this.host.table.ofPeer(peerKey)) if (wanted(r.session)) return r;
    return undefined;
  }

  private register(session: Session, channel: Channel): SessionRecord {
    const record = this.host.table.add(session, channel);
    this.host.secure.retain(channel);
    return record;
  }
}

/**
 * The host a peer's request counts against (`askerHost`): its IPv4 address or IPv6 /64. A relayed
 * peer counts as itself: relayed addresses all share one virtual host, and one stranger's relayed
 * requests must not use up what every relayed friend may ask (a relayed address comes only with
 * an introduction, at the punch rate).
 */
export function requestHost(address: Address): string {
  return askerHost(address);
}

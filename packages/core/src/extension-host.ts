/**
 * The endpoint's side of the seam with a rendezvous role (rendezvous/extension.ts): the
 * `EndpointHost` a role acts through, and what the endpoint hands the role (its datagrams,
 * payloads of another family than session messages, its own sessions' events).
 *
 * A role never touches a channel or a session itself. What it asks of a channel goes to the
 * secure layer (the only one that writes a channel's address: `redirect`, `punch`,
 * `probePath`); what it asks of a session goes through the endpoint's table. Its own
 * sessions (its session with a rendezvous) are kept apart: their events go to the role, and
 * the endpoint neither lists them nor counts them toward `maxSessions`.
 */
import { type Address, formatAddress, sameAddress } from './address.js';
import type { NetchatEvent, SessionId } from './events.js';
import type { ChannelView, EndpointExtension, EndpointHost } from './rendezvous/extension.js';
import type { Channel } from './secure/channel.js';
import { toHex } from './secure/crypto.js';
import type { SecureTransport } from './secure/secure-transport.js';
import type { SessionRecord, SessionTable } from './session-table.js';

/** What the host needs of the endpoint. */
export interface HostedEndpoint {
  readonly secure: SecureTransport;
  readonly table: SessionTable;
  /** The id the next session made will have. */
  nextSessionId(): number;
  connect(peer: Address, now: number): SessionId;
  /** The latest time (sealing reads it). */
  at(now: number): void;
  /** After a session changed: forget it if it ended, else file its deadline. */
  settle(record: SessionRecord): void;
  /** A datagram out as it is, counted. */
  transmit(to: Address, data: Uint8Array): void;
  /** A session was probed (EndpointStats.probed). */
  probed(): void;
  /** A payload no role took (EndpointStats.malformed). */
  malformed(reason: string): void;
  /** Caps what goes to an address (Endpoint.setPathRateLimit). */
  setPathRateLimit(address: Address, bytesPerSecond: number | undefined): void;
}

export class ExtensionHost implements EndpointHost {
  private extension: EndpointExtension | undefined;
  /** The role's own sessions. */
  private readonly own = new Set<SessionId>();
  /** Events of the role's sessions, delivered after the call that made them. */
  private claimed: NetchatEvent[] = [];
  /** Application sessions that missed a heartbeat, told the role after the call that counted it. */
  private silent: SessionId[] = [];

  constructor(private readonly endpoint: HostedEndpoint) {}

  attach(extension: EndpointExtension): void {
    this.extension = extension;
  }

  // ---- for the endpoint -----------------------------------------------------------------------

  /** Whether a session is the role's own. */
  owns(session: SessionId): boolean {
    return this.own.has(session);
  }

  get ownSessions(): number {
    return this.own.size;
  }

  /** Whether `to` is one of the role's virtual addresses (a relayed peer). */
  isVirtual(to: Address): boolean {
    return to.host === this.extension?.virtualHost;
  }

  wrap(to: Address, data: Uint8Array): { to: Address; data: Uint8Array } | undefined {
    return this.extension?.wrap?.(to, data);
  }

  claim(event: NetchatEvent): void {
    this.claimed.push(event);
  }

  /** A datagram from the network: true if the role took it (then the secure layer never sees it). */
  onDatagram(bytes: Uint8Array, from: Address, now: number): boolean {
    return this.extension?.onDatagram?.(bytes, from, now) ?? false;
  }

  /** A sealed payload of another family than session messages, on an open channel. */
  control(channel: Channel, plaintext: Uint8Array, now: number): void {
    const view = viewOf(channel);
    if (!this.extension || !view) {
      this.endpoint.malformed('rendezvous message to a peer that plays no rendezvous role');
      return;
    }
    this.extension.onControl(view, plaintext, now);
  }

  /** An application's session missed a heartbeat. */
  peerSilent(session: SessionId): void {
    if (this.extension?.onPeerSilent && !this.own.has(session)) this.silent.push(session);
  }

  /** A session was forgotten. */
  sessionEnded(session: SessionId, channelId: number, now: number): void {
    this.own.delete(session);
    this.extension?.onSessionEnded?.(channelId, now);
  }

  /** After every call from outside: the role's timers (if `timeout`), then its sessions' events. */
  run(now: number, timeout: boolean): void {
    const extension = this.extension;
    if (!extension) return;
    if (timeout) extension.handleTimeout(now);
    while (this.claimed.length > 0) {
      const claimed = this.claimed;
      this.claimed = [];
      for (const event of claimed) extension.onEvent(event, now);
    }
    if (this.silent.length > 0) {
      const silent = this.silent;
      this.silent = [];
      for (const session of silent) {
        const view = this.channelOf(session);
        if (view) extension.onPeerSilent?.(view, now);
      }
    }
  }

  nextTimeout(): number | undefined {
    return this.extension?.nextTimeout();
  }

  // ---- EndpointHost: for the role -------------------------------------------------------------

  sendControl(channelId: number, bytes: Uint8Array, now: number): boolean {
    const channel = this.endpoint.secure.channel(channelId);
    if (!channel?.isOpen) return false;
    this.endpoint.at(now);
    this.endpoint.secure.send(channel, bytes, now);
    return true;
  }

  connect(peer: Address, now: number): SessionId {
    // Counted as the role's before the call: its first events may come out of it.
    const id = this.endpoint.nextSessionId();
    this.own.add(id);
    let made: SessionId | undefined;
    try {
      made = this.endpoint.connect(peer, now);
      return made;
    } finally {
      // Not made, or the connect accepted a request that peer was making (another id).
      if (made !== id) this.own.delete(id);
      if (made !== undefined) this.own.add(made);
    }
  }

  probe(session: SessionId, now: number): void {
    const record = this.endpoint.table.get(session);
    if (!record || !this.own.has(session)) return;
    this.endpoint.at(now);
    record.session.probe(now);
    this.endpoint.probed();
    this.endpoint.settle(record);
  }

  punch(peer: Address, now: number): void {
    if (this.endpoint.table.ofPeer(formatAddress(peer)).size > 0) return;
    this.endpoint.at(now);
    // One init, at once forgotten: it opens our NAT for the peer's handshake, and never
    // completes a second channel (see PROTOCOL.md, "Hole punching").
    this.endpoint.secure.punch(peer);
  }

  channelOf(session: SessionId): ChannelView | undefined {
    return viewOf(this.endpoint.table.get(session)?.channel.channel);
  }

  openChannel(channelId: number): ChannelView | undefined {
    return viewOf(this.endpoint.secure.channel(channelId));
  }

  admitted(channelId: number): boolean {
    for (const r of this.endpoint.table.channel(channelId)?.sessions.values() ?? [])
      if (r.session.state === 'open') return true;
    return false;
  }

  lastHeard(channelId: number): number | undefined {
    return this.endpoint.secure.channel(channelId)?.lastReceivedAt;
  }

  rtt(channelId: number): number | undefined {
    for (const r of this.endpoint.table.channel(channelId)?.sessions.values() ?? []) {
      const rtt = r.session.info().rtt;
      if (rtt !== undefined) return rtt;
    }
    return undefined;
  }

  random(length: number): Uint8Array {
    return this.endpoint.secure.random(length);
  }

  transmit(to: Address, bytes: Uint8Array): void {
    this.endpoint.transmit(to, bytes);
  }

  receive(bytes: Uint8Array, from: Address, now: number): void {
    this.endpoint.at(now);
    this.endpoint.secure.receive(bytes, from, now);
  }

  relayConnect(direct: Address, relayed: Address, now: number): boolean {
    this.endpoint.at(now);
    let moved = false;
    for (const r of this.endpoint.table.ofPeer(formatAddress(direct))) {
      // The handshake goes on (same channel, same init, sent there at once), through the relay.
      if (r.session.state === 'connecting' && this.endpoint.secure.redirect(r.channel.channel, relayed, now))
        moved = true;
    }
    return moved;
  }

  openTo(address: Address): boolean {
    for (const r of this.endpoint.table.ofPeer(formatAddress(address)))
      if (r.channel.channel.isOpen) return true;
    return false;
  }

  openChannelOfKey(key: Uint8Array): ChannelView | undefined {
    for (const record of this.endpoint.table.withStaticKey(toHex(key))) {
      const view = viewOf(record.channel);
      if (view) return view;
    }
    return undefined;
  }

  chatChannels(): ChannelView[] {
    const views = new Map<number, ChannelView>();
    for (const record of this.endpoint.table.sessions()) {
      if (this.own.has(record.session.id)) continue;
      const view = viewOf(record.channel.channel);
      if (view) views.set(view.id, view);
    }
    return [...views.values()];
  }

  chatSilent(channelId: number): boolean {
    for (const r of this.endpoint.table.channel(channelId)?.sessions.values() ?? []) {
      const { session } = r;
      if (this.own.has(session.id) || session.state !== 'open') continue;
      if (session.liveness.missed > 0 || session.liveness.quiet) return true;
    }
    return false;
  }

  probeAt(channelId: number, address: Address, now: number): boolean {
    const channel = this.endpoint.secure.channel(channelId);
    if (!channel?.isOpen) return false;
    this.endpoint.at(now);
    return this.endpoint.secure.probePath(channel, address, now);
  }

  probeDirect(relayed: Address, direct: Address, now: number): boolean {
    this.endpoint.at(now);
    // Our own connect is filed under the direct address it began with; the peer's under the relayed one.
    const table = this.endpoint.table;
    for (const r of [...table.ofPeer(formatAddress(relayed)), ...table.ofPeer(formatAddress(direct))]) {
      const channel = r.channel.channel;
      if (!sameAddress(channel.address, relayed)) continue;
      if (this.endpoint.secure.probePath(channel, direct, now)) return true;
    }
    return false;
  }

  setPathRateLimit(address: Address, bytesPerSecond: number | undefined): void {
    this.endpoint.setPathRateLimit(address, bytesPerSecond);
  }
}

function viewOf(channel: Channel | undefined): ChannelView | undefined {
  if (!channel?.isOpen || !channel.remoteStatic) return undefined;
  return { id: channel.id, address: channel.address, remoteKey: channel.remoteStatic };
}

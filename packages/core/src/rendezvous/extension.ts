/**
 * The seam between the endpoint and a rendezvous role (client.ts, server.ts): what a role may
 * ask of the endpoint (EndpointHost) and what the endpoint tells it (EndpointExtension).
 * Sans-IO like the endpoint: time comes in with every call.
 *
 * The role never touches a channel or a session itself: it asks the host, which asks the
 * secure layer (the only one that writes a channel's address) or the session table.
 */
import type { Address } from '../address.js';
import type { NetchatEvent, SessionId } from '../events.js';

/** A channel as a role sees it: its id, the peer's current address and its proven key. */
export interface ChannelView {
  readonly id: number;
  readonly address: Address;
  readonly remoteKey: Uint8Array;
}

export interface EndpointHost {
  /** Seals `bytes` on an open channel; false if the channel is gone. */
  sendControl(channelId: number, bytes: Uint8Array, now: number): boolean;
  /**
   * A session of the role's own: its events go to the role's `onEvent`, never to the
   * application; it is not listed by `listSessions` and does not count toward `maxSessions`.
   */
  connect(peer: Address, now: number): SessionId;
  /**
   * Probes one of the role's sessions as a key seen from a new address is probed: a heartbeat
   * now, and the session is lost unless the peer answers within two retransmission timeouts.
   */
  probe(session: SessionId, now: number): void;
  /** One handshake init to `peer`, nothing kept (hole punching); nothing if we have a session with it. */
  punch(peer: Address, now: number): void;
  /** The open channel a session speaks over. */
  channelOf(session: SessionId): ChannelView | undefined;
  /** The channel with this id, if it is open. */
  openChannel(channelId: number): ChannelView | undefined;
  /**
   * Whether the channel carries an open session: one the application accepted (its policy and
   * limits admitted the peer), or one we asked for and the peer accepted. Rendezvous messages
   * are acted on only on such a channel (PROTOCOL.md, "Rendezvous messages").
   */
  admitted(channelId: number): boolean;
  /** When the channel last received an authentic packet (endpoint clock), if it is ours. */
  lastHeard(channelId: number): number | undefined;
  /** The smoothed round trip of a session on the channel, if measured. */
  rtt(channelId: number): number | undefined;
  /** Random bytes (the endpoint's source: seeded in tests). */
  random(length: number): Uint8Array;
  /** Sends a datagram as it is (a relay packet: its inner packet is sealed already). */
  transmit(to: Address, bytes: Uint8Array): void;
  /** Takes a packet that came out of a relay packet as if it came from `from` (a relayed address). */
  receive(bytes: Uint8Array, from: Address, now: number): void;
  /**
   * Our unopened connect to `direct` goes through the relay instead: the secure layer moves its
   * handshake to the relayed address (its init goes there at once). False if there is no such connect.
   */
  relayConnect(direct: Address, relayed: Address, now: number): boolean;
  /** Whether a channel to `address` (with a session on it) is open. */
  openTo(address: Address): boolean;
  /** The open channel with a session whose peer proved this static key, if there is one. */
  openChannelOfKey(key: Uint8Array): ChannelView | undefined;
  /** The open channels that carry an application's session (not the role's own), each once. */
  chatChannels(): ChannelView[];
  /**
   * Whether an application's session on the channel is silent now, not merely idle: it missed a
   * heartbeat interval, or a send of it went unanswered through a second of silence
   * (`Liveness.onUnanswered`), and it has heard nothing since.
   */
  chatSilent(channelId: number): boolean;
  /**
   * Sends a path challenge on the open channel straight to `address`: if the peer's answer comes
   * back from there, the channel moves there (as roaming does). False if it could not go (the
   * channel is gone, or the path budgets refuse).
   */
  probeAt(channelId: number, address: Address, now: number): boolean;
  /**
   * Sends a path challenge on the channel of the session with `relayed` straight to `direct`:
   * if the peer's answer comes back from there, the channel moves there (path validation, as
   * roaming does), and the peer, hearing us from there, follows.
   */
  probeDirect(relayed: Address, direct: Address, now: number): boolean;
  /** Caps what goes to `address` (bytes a second; undefined lifts it): a relayed peer, paced to the relay's budget. */
  setPathRateLimit(address: Address, bytesPerSecond: number | undefined): void;
}

export interface EndpointExtension {
  /**
   * Addresses with this host are the role's virtual addresses (relayed peers): a packet the
   * secure layer sends to one goes to `wrap` instead of the socket.
   */
  readonly virtualHost?: string;
  /**
   * Every datagram from the network, before the secure layer: true if it was the role's
   * (taken, or dropped and counted), false to let the secure layer have it. Never throws.
   */
  onDatagram?(bytes: Uint8Array, from: Address, now: number): boolean;
  /** The datagram (and where it goes) for a packet to a virtual address; undefined: dropped. */
  wrap?(to: Address, bytes: Uint8Array): { to: Address; data: Uint8Array } | undefined;
  /**
   * A sealed payload that is not a session message (another version byte) arrived on an open
   * `channel`. Never throws: anything the role does not take is counted as malformed.
   */
  onControl(channel: ChannelView, bytes: Uint8Array, now: number): void;
  /** An event of one of the role's own sessions (see EndpointHost.connect), after the call that made it. */
  onEvent(event: NetchatEvent, now: number): void;
  /** A session on the channel (any session, the application's too) ended and was forgotten. */
  onSessionEnded?(channelId: number, now: number): void;
  /**
   * An application's session on `channel` counted a heartbeat interval without hearing the peer
   * (its address may have moved where our NAT lets nothing in), after the call that counted it.
   */
  onPeerSilent?(channel: ChannelView, now: number): void;
  handleTimeout(now: number): void;
  nextTimeout(): number | undefined;
}

/**
 * The seam between the endpoint and the rendezvous roles (client.ts, server.ts): what an
 * extension may ask of the endpoint (EndpointHost) and what the endpoint tells it
 * (EndpointExtension). Sans-IO like the endpoint: time comes in with every call.
 */
import type { Address } from '../address.js';
import type { NetchatEvent, SessionId } from '../events.js';

/** A channel as an extension sees it: its id, the peer's current address and its proven key. */
export interface ChannelView {
  readonly id: number;
  readonly address: Address;
  readonly remoteKey: Uint8Array;
}

export interface EndpointHost {
  /** Seals `bytes` on an open channel; false if the channel is gone. */
  sendControl(channelId: number, bytes: Uint8Array, now: number): boolean;
  /** An ordinary connect (a session the extension may keep for itself). */
  connect(peer: Address, now: number): SessionId;
  /** Starts a handshake with `peer` and no session (hole punching); nothing if a channel to it is in use. */
  punch(peer: Address, now: number): void;
  /** The open channel a session speaks over. */
  channelOf(session: SessionId): ChannelView | undefined;
  /** The channel with this id, if it is open. */
  openChannel(channelId: number): ChannelView | undefined;
  /** The smoothed round trip of a session on the channel, if measured. */
  rtt(channelId: number): number | undefined;
  /** Sends a datagram as it is (a relay packet: its contents are sealed already). */
  transmit(to: Address, bytes: Uint8Array): void;
  /** Takes a packet that came out of a relay packet as if it came from `from` (a relayed address). */
  receive(bytes: Uint8Array, from: Address, now: number): void;
  /**
   * Our unopened connect to `direct` goes through the relay instead: its channel moves to the
   * relayed address (its init is resent there). False if there is no such connect.
   */
  relayConnect(direct: Address, relayed: Address, now: number): boolean;
  /** Whether a channel to `address` (with a session on it) is open. */
  openTo(address: Address): boolean;
  /**
   * Sends a keepalive sealed on the channel of the session with `relayed` straight to `direct`:
   * if it gets through, the peer moves the channel there (path validation, as roaming does).
   */
  probeDirect(relayed: Address, direct: Address, now: number): boolean;
}

export interface EndpointExtension {
  /** A datagram that looks like a relay packet; true if the extension took it. Never throws. */
  onRelay?(bytes: Uint8Array, from: Address, now: number): boolean;
  /** The relay packet (and where it goes) for a packet to a relayed address; undefined: dropped. */
  wrapRelay?(to: Address, bytes: Uint8Array): { to: Address; data: Uint8Array } | undefined;
  /** A rendezvous message arrived sealed on `channel`. Never throws: malformed is counted. */
  onControl(channel: ChannelView, bytes: Uint8Array, now: number): void;
  /** Whether an event is the extension's own (its session's): then the application never sees it. */
  claims(event: NetchatEvent): boolean;
  /** An event `claims` took, delivered after the call that made it. */
  onEvent(event: NetchatEvent, now: number): void;
  handleTimeout(now: number): void;
  nextTimeout(): number | undefined;
}

/**
 * What a path (path.ts) and the things around it need from each other: the sessions that send on
 * it (`PathUser`, a session's streams), the endpoint that seals and sends its packets
 * (`PathHost`), and its settings.
 */

import type { Address } from '../address.js';
import type { ControllerKind } from '../congestion/controllers.js';
import type { Datagram } from '../wire/messages.js';
import type { FrameOwner } from './sent-frames.js';

/**
 * The secure channel a path (and each session on it) speaks over: its peer's current address and
 * verified key. Defined here, below the sessions, so that a path never reaches up to them.
 */
export interface Route {
  readonly id: number;
  readonly address: Address;
  /** The peer's static public key, once the handshake completed. */
  readonly remoteStatic: Uint8Array | undefined;
  /** The round trip the handshake measured (ms), so a session knows its RTT before any text. */
  readonly handshakeRtt: number | undefined;
}

/** A session's streams on this path (stream-set.ts): sends its packets when its turn comes. */
export interface PathUser extends FrameOwner {
  /** The session's id on the wire (a probe names a session of the path). */
  readonly wireId: number;
  /** The session's peer takes datagrams of up to 1452 bytes (its `features`). */
  readonly largeDatagrams: boolean;
  /** Sends one packet of stream data through `sendData`; false if it has nothing to send now. */
  sendOne(now: number): boolean;
}

/** What a path needs from its endpoint. */
export interface PathHost {
  /**
   * Seals a session message on the path's channel and sends it: `bulk` (stream data) after
   * everything else waiting (text, acks, heartbeats, control go first). `plaintext` may be a
   * scratch buffer the path writes the next packet into: sealed now, or copied if it must wait
   * (a channel whose handshake is starting over). `message` names it, if the path describes it.
   */
  send(route: Route, message: Datagram | undefined, plaintext: Uint8Array, bulk: boolean): void;
  /** A peer broke the stream rules (an acknowledgement of packets never sent): counted. */
  protocolError(reason: string): void;
}

export interface PathOptions {
  /** Name every stream_data in its Transmit (`message`, for tests and diagnostics): packet-writer.ts. */
  describePackets?: boolean;
  controller?: ControllerKind;
  randomU32?: () => number;
  /** The receiver's ack delay (ms): the longest an in-order packet's acknowledgement is held back. */
  ackDelay: number;
}

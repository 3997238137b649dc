/**
 * What the file-transfer engine needs of the streams under it: NetchatPeer's stream calls (at
 * its clock), or an Endpoint's with a test's virtual time bound in. The engine never touches a
 * socket or a clock itself.
 */
import type { PeerFeatures, SessionId, StreamId } from '../events.js';
import type { SessionState } from '../session/transitions.js';
import type { OpenStreamOptions, StreamInfo } from '../streams/stream-set.js';

export interface StreamPort {
  openStream(session: SessionId, options?: OpenStreamOptions): StreamId;
  writeStream(session: SessionId, stream: StreamId, bytes: Uint8Array): number;
  finishStream(session: SessionId, stream: StreamId): void;
  readStream(session: SessionId, stream: StreamId, max: number): Uint8Array;
  /** Copies up to `max` bytes into `into` at `at`; returns how many (NetchatPeer.readStreamInto). */
  readStreamInto(session: SessionId, stream: StreamId, into: Uint8Array, at: number, max: number): number;
  cancelStream(session: SessionId, stream: StreamId, code: number): void;
  streamInfo(session: SessionId, stream: StreamId): StreamInfo | undefined;
  session(id: SessionId):
    | {
        readonly state: SessionState;
        readonly publicKey: string;
        readonly peerFeatures?: PeerFeatures | undefined;
      }
    | undefined;
}

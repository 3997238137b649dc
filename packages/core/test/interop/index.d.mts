// Types for the independent peer's JavaScript (index.mjs), for the TypeScript tests.
import type { EventEmitter } from 'node:events';

export type Bytes = Uint8Array;
export interface Address {
  host: string;
  port: number;
}
export interface KeyPair {
  secret: Bytes;
  publicKey: Bytes;
}

export function blake2b(message: Bytes, outLength?: number, key?: Bytes): Bytes;
export function x25519KeyPair(secret?: Bytes): KeyPair;
export function aeadSeal(key: Bytes, counter: bigint | number, ad: Bytes, plaintext: Bytes): Bytes;
export function rekey(key: Bytes): Bytes;
export function fingerprintOf(publicKey: Bytes): string;
export function cookieAddressText(address: Address): string;
export function cookieFor(secret: Bytes, address: Address): Bytes;

/** Decoded objects: byte fields are Uint8Array, u64 counters bigint. */
// biome-ignore lint/suspicious/noExplicitAny: a decoded message's fields depend on its type
export type Decoded = { type: string; [field: string]: any };
export function decodePacket(bytes: Bytes): Decoded | undefined;
export function encodePacket(packet: Decoded): Bytes;
export function decodeSessionMessage(bytes: Bytes, large?: boolean): Decoded | undefined;
export function encodeSessionMessage(message: Decoded): Bytes;
export function decodeRendezvous(bytes: Bytes): Decoded | undefined;
export function encodeRendezvous(message: Decoded): Bytes;

export class XXHandshake {
  constructor(initiator: boolean, staticKey: KeyPair, ephemeralSecret?: Bytes);
  rs: Bytes | undefined;
  writeMessage1(): Bytes;
  readMessage1(message: Bytes): boolean;
  writeMessage2(): Bytes;
  readMessage2(message: Bytes): boolean;
  writeMessage3(): Bytes;
  readMessage3(message: Bytes): boolean;
  keys(): { sendKey: Bytes; receiveKey: Bytes };
}

/** A files record (PROTOCOL.md *Files: transfers*) with its u16 length first; `offer` and `hash` as hex. */
export function encodeRecord(record: Decoded): Bytes;
/** A record's bytes (without its length), or undefined if malformed. */
export function decodeRecord(bytes: Bytes): Decoded | undefined;

export class ReplayWindow {
  check(counter: number): boolean;
  mark(counter: number): void;
}

export function sealRelay(args: { from: number; to: number; counter: number; key: Bytes; inner: Bytes }): Bytes;
export function openRelay(bytes: Bytes, key: Bytes): Decoded | 'malformed' | 'forged' | 'not_netchat';

export interface PeerEvent {
  type: string;
  session?: number;
  peer?: Address;
  // biome-ignore lint/suspicious/noExplicitAny: event fields depend on the type
  [field: string]: any;
}

export type RequestVerdict = 'accept' | { reason: string; detail: string } | undefined;

/** A file of an offer as the receiver shows it: `safePath` is where it would go (*Files: names*). */
export interface OfferedFile {
  path: string;
  safePath: string;
  changed: boolean;
  size: number;
  hash: string;
  /** The bytes of it this peer holds durably from this sender (a resume; 0 for a new file). */
  held: number;
}

/** *Files: names*: the offered path mapped, or refused with the document's reason. */
export function safePath(path: string): { out: string; changed: boolean; refused?: undefined } | { refused: string; out?: undefined };
export function checkOfferPaths(
  paths: string[],
): { mapped: string[]; reason?: undefined } | { reason: 'unsafe_name' | 'duplicate_path' | 'path_conflict'; path: string; why?: string; mapped?: undefined };
/** The name of copy `n` (1 to 9999) of a file named `name`. */
export function copyName(name: string, n: number): string;

export interface IndependentPeerOptions {
  port?: number;
  host?: string;
  staticSecret?: Bytes;
  nick?: string;
  heartbeatMs?: number;
  missLimit?: number;
  connectTimeoutMs?: number;
  maxMessageBytes?: number;
  maxSessions?: number;
  maxSessionsPerPeer?: number;
  demandCookies?: boolean;
  rekeyAfterMs?: number;
  onRequest?: (event: PeerEvent) => RequestVerdict;
  inbound?: (from: Address, data: Bytes) => boolean;
  outbound?: (to: Address, data: Bytes) => boolean;
  /** Take streams (PROTOCOL.md *Capabilities*, *Streams*); off: a text-only "old peer". */
  streams?: boolean;
  /** The receive window we grant each stream the peer opens (bytes; 256 KiB). */
  streamWindow?: number;
  /** How many streams the peer may open at first (8). */
  maxStreams?: number;
  /** With `streams`: take and make file offers (PROTOCOL.md *Files: transfers*). */
  files?: boolean;
  /** With `streams`: take and send packets of up to 1452 bytes, probing the path (*Datagram size*). */
  largeDatagrams?: boolean;
  /** An offer arrived: 'accept', a decline reason, or undefined to answer later. */
  onOffer?: (offer: { id: string; files: OfferedFile[] }) => string | undefined;
  /** Received files go here (made if missing), partial ones kept across sessions; else held in memory. */
  downloadFolder?: string;
  /** A test hook: true to ignore a session message after decoding it (as if it never came). */
  dropMessage?: (message: Decoded, from: Address) => boolean;
}

export interface SessionView {
  handle: number;
  wireId: number;
  state: string;
  peerNick: string;
  heartbeatMs: number;
  lastHeard: number;
  // biome-ignore lint/suspicious/noExplicitAny: the channel record, for tests that look inside
  channel: any;
  rtt: { srtt: number | undefined; rttvar: number | undefined; rto(): number };
  stats: Record<string, number>;
  /** With the `streams` option: the session's streams (stats, the path with its own stats). */
  // biome-ignore lint/suspicious/noExplicitAny: the stream layer, for tests that look inside
  streams: any;
}

export interface IndependentPeerStats {
  datagramsIn: number;
  datagramsOut: number;
  droppedIn: number;
  droppedOut: number;
  malformedMessages: number;
  featuresIgnored: number;
  unknownSession: number;
  ignoredForState: number;
  declinedForLimits: number;
  restartsSeen: number;
  internalErrors: number;
  streamAcksRefused: number;
}

export interface RendezvousClientStats {
  malformed: number;
  ignored: number;
  registered: number;
  introductionsAsRequester: number;
  introductionsAsIntroduced: number;
  punchesSent: number;
  relayedIn: number;
  relayedOut: number;
  relayDropped: number;
  tooLargeForRelay: number;
  directProbes: number;
  movedToRelay: number;
}

export class IndependentPeer extends EventEmitter {
  static listen(options?: IndependentPeerOptions): Promise<IndependentPeer>;
  /** On a virtual network and clock: `send` takes what it sends; deliver with onDatagram, move time with timers.advance. */
  static virtual(address: Address, send: (bytes: Bytes, to: Address) => void, options?: IndependentPeerOptions): IndependentPeer;
  onDatagram(data: Bytes, from: { address: string; port: number }): void;
  readonly timers: { now(): number; advance(to: number): void; nextAt(): number | undefined };
  readonly publicKey: Bytes;
  readonly fingerprint: string;
  readonly address: Address;
  readonly stats: IndependentPeerStats;
  readonly errors: unknown[];
  // biome-ignore lint/suspicious/noExplicitAny: the secure layer, for tests that look inside
  readonly secure: any;
  rendezvous: RendezvousClient | undefined;
  nick: string;
  now(): number;
  connect(host: string, port: number, options?: { wireId?: number }): number;
  accept(session: number): void;
  decline(session: number, reason?: string, detail?: string): void;
  send(session: number, text: string): number;
  closeSession(session: number, options?: { linger?: boolean | number }): void;
  /** With the `streams` option: a stream to the peer (its id). Throws if the session takes none. */
  openStream(session: number): number;
  /** Holds all of `bytes` to send (the peer's credit bounds what goes); returns their count. */
  writeStream(session: number, stream: number, bytes: Bytes): number;
  finishStream(session: number, stream: number): void;
  /** Up to `max` bytes of the peer's stream, in order (empty when none wait). */
  readStream(session: number, stream: number, max: number): Bytes;
  cancelStream(session: number, stream: number, code?: number): void;
  /** With the `files` option: offers files held in memory; returns the offer's id (hex). */
  offerFiles(session: number, files: { path: string; content: Uint8Array }[]): string;
  acceptOffer(session: number, offer: string): void;
  declineOffer(session: number, offer: string, reason?: string): void;
  setNick(nick: string): void;
  setTyping(session: number, typing: boolean): boolean;
  session(session: number): SessionView | undefined;
  liveSessions(): SessionView[];
  rekeyAll(): void;
  rebind(): Promise<void>;
  /** Seals one session message (as the decoders give them) on a channel. */
  sendMessage(channel: unknown, message: Decoded): void;
  stop(options?: { graceful?: boolean; timeoutMs?: number }): Promise<void>;
}

export class RendezvousClient {
  constructor(
    peer: IndependentPeer,
    options: { server: Address; acceptFrom?: 'anyone' | 'listed'; listedKeys?: Bytes[] },
  );
  readonly stats: RendezvousClientStats;
  registered: { request: number; tag: number; relayKey: Bytes; address: Address } | undefined;
  start(): void;
  whenRegistered(timeoutMs: number): Promise<boolean>;
  find(fingerprint: string): Promise<{ session: number; address: Address; relayTag: number }>;
}

// Independent netchat peer, written from PROTOCOL.md only (not from packages/core/src).
// What the interop tests use (typed in index.d.mts).

export { blake2b } from './blake2b.mjs';
export {
  decodePacket,
  decodeRendezvous,
  decodeSessionMessage,
  encodePacket,
  encodeRendezvous,
  encodeSessionMessage,
} from './codec.mjs';
export { aeadSeal, fingerprintOf, rekey, x25519KeyPair } from './crypto.mjs';
export { cookieAddressText } from './address.mjs';
export { decodeRecord, encodeRecord } from './records.mjs';
export { XXHandshake } from './noise.mjs';
export { checkOfferPaths, copyName, safePath } from './names.mjs';
export { IndependentPeer } from './peer.mjs';
export { openRelay, RendezvousClient, sealRelay } from './rendezvous.mjs';
export { cookieFor } from './secure.mjs';
export { ReplayWindow } from './replay.mjs';

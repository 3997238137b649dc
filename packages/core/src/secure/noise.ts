/** The Noise pieces both sides of a handshake use. */
import NoiseState from 'noise-handshake';
import type { KeyPair } from './crypto.js';

/** Binds every handshake to this protocol: a peer speaking another version fails message 2. */
export const PROLOGUE = new TextEncoder().encode('netchat protocol 2');

/** A fresh XX handshake state (a new ephemeral key is drawn on the first send). */
export function newNoise(initiator: boolean, identity: KeyPair): NoiseState {
  const noise = new NoiseState('XX', initiator, identity);
  noise.initialise(PROLOGUE);
  return noise;
}

/** Our own copy of bytes a Noise state handed out: the library wipes its buffers when done. */
export function copy(bytes: Uint8Array | null): Uint8Array {
  if (!bytes) throw new Error('handshake incomplete');
  return Uint8Array.from(bytes);
}

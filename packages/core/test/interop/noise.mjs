// Independent netchat peer, written from PROTOCOL.md only (not from packages/core/src).
//
// Noise_XX_25519_ChaChaPoly_BLAKE2b (noiseprotocol.org, revision 34) with the prologue
// "netchat protocol 2" and empty payloads, as PROTOCOL.md's *Handshake* names it. Written from
// the Noise specification's sections 5 (processing rules) and 7.5 (XX).

import { aeadOpen, aeadSeal, hash512, hkdf, x25519, x25519KeyPair } from './crypto.mjs';

const PROTOCOL_NAME = new TextEncoder().encode('Noise_XX_25519_ChaChaPoly_BLAKE2b');
export const PROLOGUE = new TextEncoder().encode('netchat protocol 2');
const EMPTY = new Uint8Array(0);

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

class SymmetricState {
  constructor() {
    // The name is at most HASHLEN (64) bytes: padded with zeros to 64.
    this.h = new Uint8Array(64);
    this.h.set(PROTOCOL_NAME);
    this.ck = this.h.slice();
    this.k = undefined;
    this.n = 0n;
  }

  mixHash(data) {
    this.h = hash512(this.h, data);
  }

  mixKey(input) {
    const [ck, tempK] = hkdf(this.ck, input, 2);
    this.ck = ck;
    this.k = tempK.slice(0, 32);
    this.n = 0n;
  }

  encryptAndHash(plaintext) {
    const out = this.k === undefined ? plaintext : aeadSeal(this.k, this.n++, this.h, plaintext);
    this.mixHash(out);
    return out;
  }

  /** The plaintext, or undefined if it does not authenticate. */
  decryptAndHash(ciphertext) {
    let out = ciphertext;
    if (this.k !== undefined) {
      out = aeadOpen(this.k, this.n, this.h, ciphertext);
      if (out === undefined) return undefined;
      this.n++;
    }
    this.mixHash(ciphertext);
    return out;
  }

  split() {
    const [k1, k2] = hkdf(this.ck, EMPTY, 2);
    return [k1.slice(0, 32), k2.slice(0, 32)];
  }
}

/**
 * One side of an XX handshake. `staticKey` is { secret, publicKey }; `ephemeralSecret` may be
 * fixed for the test vectors (real peers use a fresh random one).
 */
export class XXHandshake {
  constructor(initiator, staticKey, ephemeralSecret) {
    this.initiator = initiator;
    this.s = staticKey;
    this.e = x25519KeyPair(ephemeralSecret);
    this.ss = new SymmetricState();
    this.ss.mixHash(PROLOGUE);
    this.re = undefined;
    this.rs = undefined;
  }

  /** Initiator: message 1 (-> e), 32 bytes. */
  writeMessage1() {
    this.ss.mixHash(this.e.publicKey);
    return concat(this.e.publicKey, this.ss.encryptAndHash(EMPTY));
  }

  /** Responder: reads message 1; false if it is not 32 bytes. */
  readMessage1(message) {
    if (message.length !== 32) return false;
    this.re = message.slice(0, 32);
    this.ss.mixHash(this.re);
    return this.ss.decryptAndHash(EMPTY) !== undefined;
  }

  /** Responder: message 2 (<- e, ee, s, es), 96 bytes. */
  writeMessage2() {
    this.ss.mixHash(this.e.publicKey);
    this.ss.mixKey(x25519(this.e.secret, this.re));
    const encryptedStatic = this.ss.encryptAndHash(this.s.publicKey);
    this.ss.mixKey(x25519(this.s.secret, this.re));
    return concat(this.e.publicKey, encryptedStatic, this.ss.encryptAndHash(EMPTY));
  }

  /** Initiator: reads message 2; false if it does not authenticate. */
  readMessage2(message) {
    if (message.length !== 96) return false;
    this.re = message.slice(0, 32);
    this.ss.mixHash(this.re);
    this.ss.mixKey(x25519(this.e.secret, this.re));
    const rs = this.ss.decryptAndHash(message.subarray(32, 80));
    if (rs === undefined) return false;
    this.rs = rs;
    this.ss.mixKey(x25519(this.e.secret, this.rs));
    return this.ss.decryptAndHash(message.subarray(80, 96)) !== undefined;
  }

  /** Initiator: message 3 (-> s, se), 64 bytes. */
  writeMessage3() {
    const encryptedStatic = this.ss.encryptAndHash(this.s.publicKey);
    this.ss.mixKey(x25519(this.s.secret, this.re));
    return concat(encryptedStatic, this.ss.encryptAndHash(EMPTY));
  }

  /** Responder: reads message 3; false if it does not authenticate. */
  readMessage3(message) {
    if (message.length !== 64) return false;
    const rs = this.ss.decryptAndHash(message.subarray(0, 48));
    if (rs === undefined) return false;
    this.rs = rs;
    this.ss.mixKey(x25519(this.e.secret, this.rs));
    return this.ss.decryptAndHash(message.subarray(48, 64)) !== undefined;
  }

  /** The transport keys after the handshake: { sendKey, receiveKey } for this side. */
  keys() {
    const [k1, k2] = this.ss.split();
    return this.initiator ? { sendKey: k1, receiveKey: k2 } : { sendKey: k2, receiveKey: k1 };
  }
}

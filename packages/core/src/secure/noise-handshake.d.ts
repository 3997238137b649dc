// noise-handshake (holepunchto) ships no types; this is the part of its API netchat uses.
declare module 'noise-handshake' {
  interface NoiseKeyPair {
    publicKey: Uint8Array;
    secretKey: Uint8Array;
  }
  export default class NoiseState {
    constructor(pattern: 'XX', initiator: boolean, staticKeypair?: NoiseKeyPair, opts?: object);
    /** Our ephemeral key pair; set before the first send to use a fixed one (test vectors). */
    e: NoiseKeyPair | null;
    /** The peer's static public key, once received. */
    rs: Uint8Array | null;
    tx: Uint8Array | null;
    rx: Uint8Array | null;
    hash: Uint8Array | null;
    complete: boolean;
    initialise(prologue: Uint8Array, remoteStatic?: Uint8Array): void;
    /** Writes the next handshake message. */
    send(payload?: Uint8Array): Uint8Array;
    /** Reads the peer's next handshake message; throws if it does not authenticate. */
    recv(message: Uint8Array): Uint8Array;
  }
}

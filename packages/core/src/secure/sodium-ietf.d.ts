// @types/sodium-native (2.3.9) predates these; sodium-native 5 has them (libsodium's IETF
// ChaCha20-Poly1305, 12-byte nonce), with the same shape as the XChaCha20 functions it declares.
import 'sodium-native';

declare module 'sodium-native' {
  export const crypto_aead_chacha20poly1305_ietf_NPUBBYTES: number;
  export function crypto_aead_chacha20poly1305_ietf_encrypt(
    ciphertext: Buffer,
    message: Buffer | Uint8Array,
    additionalData: Buffer | Uint8Array | null,
    nsec: null,
    npub: Buffer,
    key: Buffer | Uint8Array,
  ): number;
  export function crypto_aead_chacha20poly1305_ietf_decrypt(
    message: Buffer,
    nsec: null,
    ciphertext: Buffer | Uint8Array,
    additionalData: Buffer | Uint8Array | null,
    npub: Buffer,
    key: Buffer | Uint8Array,
  ): number;
}

// sodium-native's compiled addon, which its index.js wraps in argument checks (see crypto.ts).
declare module 'sodium-native/binding.js' {
  const binding: {
    /** Returns the ciphertext length, or a negative number on failure. */
    crypto_aead_chacha20poly1305_ietf_encrypt(
      ciphertext: Uint8Array,
      message: Uint8Array,
      additionalData: Uint8Array | undefined,
      npub: Uint8Array,
      key: Uint8Array,
    ): number;
    /** Returns the plaintext length, or a negative number if authentication failed. */
    crypto_aead_chacha20poly1305_ietf_decrypt(
      message: Uint8Array,
      ciphertext: Uint8Array,
      additionalData: Uint8Array | undefined,
      npub: Uint8Array,
      key: Uint8Array,
    ): number;
  };
  export default binding;
}
